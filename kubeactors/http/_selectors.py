"""Label and field selectors (`?labelSelector=`, `?fieldSelector=`) over wire objects."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ._errors import bad_request

__all__ = ["Selector", "parse_field_selector", "parse_label_selector"]

Selector = Callable[[Mapping[str, Any]], bool]
"""Whether an object (as its JSON builtins) is selected."""

_SET_REQUIREMENT = re.compile(r"^\s*(!?)\s*([^\s!=(),]+)\s*(?:(in|notin)\s*\(([^)]*)\)|)\s*$")
_EQUALITY = re.compile(r"^\s*([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)\s*$")


def _split(text: str) -> list[str]:
    """Split at the commas that are not inside `(...)`."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    labels: Mapping[str, str] = obj.get("metadata", {}).get("labels") or {}
    return labels


def _requirement(text: str) -> Selector:
    equality = _EQUALITY.match(text)
    if equality:
        key, operator, value = equality.groups()
        if operator == "!=":
            return lambda obj: _labels(obj).get(key) != value
        return lambda obj: _labels(obj).get(key) == value
    match = _SET_REQUIREMENT.match(text)
    if match is None:
        raise bad_request(f"unable to parse requirement: {text.strip()!r}")
    negated, key, operator, values = match.groups()
    if operator is None:
        if negated:
            return lambda obj: key not in _labels(obj)
        return lambda obj: key in _labels(obj)
    if negated:
        raise bad_request(f"unable to parse requirement: {text.strip()!r}")
    members = {value.strip() for value in values.split(",") if value.strip()}
    if operator == "in":
        return lambda obj: _labels(obj).get(key) in members
    return lambda obj: _labels(obj).get(key) not in members


def parse_label_selector(text: str) -> Selector | None:
    """A label selector in Kubernetes' syntax; None when it selects everything."""
    requirements = [_requirement(part) for part in _split(text)]
    if not requirements:
        return None
    return lambda obj: all(requirement(obj) for requirement in requirements)


def _field(obj: Mapping[str, Any], path: str) -> str:
    value: Any = obj
    for name in path.split("."):
        if not isinstance(value, Mapping):
            return ""
        value = value.get(name)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_field_selector(text: str) -> Selector | None:
    """A field selector (`spec.nodeName=node-1,status.phase!=Failed`); None selects all."""
    tests: list[tuple[str, bool, str]] = []
    for part in _split(text):
        match = _EQUALITY.match(part)
        if match is None:
            raise bad_request(f"invalid selector: {text!r}; can't understand {part.strip()!r}")
        path, operator, value = match.groups()
        tests.append((path, operator != "!=", value))
    if not tests:
        return None
    return lambda obj: all((_field(obj, path) == value) is equal for path, equal, value in tests)
