"""The JSONPath that CRD printer columns use: `.spec.size`, `.items[0].name`,
`.items[*].name`, `.conditions[?(@.type=="Ready")].status`, `['dotted.key']`.

A small subset of client-go's jsonpath, enough for `additionalPrinterColumns`
(upstream accepts only simple paths there too).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["JsonPathError", "find", "parse"]

Step = tuple[str, Any]

_FILTER = re.compile(
    r"""^\?\(@((?:\.[^.=!<>\s]+)+)\s*(==|!=)\s*(?:"([^"]*)"|'([^']*)'|(-?\d+(?:\.\d+)?)|(true|false))\)$"""
)


class JsonPathError(ValueError):
    """A path this subset cannot read."""


def parse(path: str) -> list[Step]:
    """The steps of `path` (with or without the `{...}` of a template)."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1].strip()
    if text.startswith("$"):
        text = text[1:]
    steps: list[Step] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == ".":
            end = position + 1
            while end < len(text) and text[end] not in ".[":
                end += 1
            name = text[position + 1 : end]
            if not name:
                raise JsonPathError(f"empty field name in {path!r}")
            steps.append(("field", name))
            position = end
        elif char == "[":
            end = _closing(text, position, path)
            steps.append(_bracket(text[position + 1 : end].strip(), path))
            position = end + 1
        else:
            raise JsonPathError(f"unexpected {char!r} in {path!r}")
    return steps


def _closing(text: str, start: int, path: str) -> int:
    depth, quote = 0, ""
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return index
    raise JsonPathError(f"unclosed [ in {path!r}")


def _bracket(inner: str, path: str) -> Step:
    if inner == "*":
        return ("all", None)
    if inner.lstrip("-").isdigit():
        return ("index", int(inner))
    if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
        return ("field", inner[1:-1])
    match = _FILTER.match(inner)
    if match is None:
        raise JsonPathError(f"unsupported expression [{inner}] in {path!r}")
    fields, operator, double, single, number, boolean = match.groups()
    if double is not None or single is not None:
        value: Any = double if double is not None else single
    elif number is not None:
        value = float(number) if "." in number else int(number)
    else:
        value = boolean == "true"
    return ("filter", (fields.lstrip(".").split("."), operator == "==", value))


def find(document: Any, steps: list[Step]) -> list[Any]:
    """Every value `steps` reach in `document`, in document order."""
    current = [document]
    for step, argument in steps:
        found: list[Any] = []
        for value in current:
            if step == "field":
                if isinstance(value, dict) and argument in value:
                    found.append(value[argument])
            elif step == "index":
                if isinstance(value, list) and -len(value) <= argument < len(value):
                    found.append(value[argument])
            elif step == "all":
                if isinstance(value, list):
                    found.extend(value)
                elif isinstance(value, dict):
                    found.extend(value.values())
            elif isinstance(value, list):
                fields, equal, wanted = argument
                found.extend(item for item in value if (_at(item, fields) == wanted) == equal)
        current = found
    return current


def _at(item: Any, fields: list[str]) -> Any:
    for name in fields:
        if not isinstance(item, dict):
            return None
        item = item.get(name)
    return item
