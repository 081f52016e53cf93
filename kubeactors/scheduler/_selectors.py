"""Label and node selectors, parsed once from the wire format and matched in plain Python.

Selectors are frozen and hashable, so equal selectors from many pods share one
cached count column in the node table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LabelSelector",
    "NodeSelectorTerm",
    "Requirement",
    "SelectorError",
    "parse_label_selector",
    "parse_node_selector_term",
]

_LABEL_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})
_NODE_OPERATORS = _LABEL_OPERATORS | {"Gt", "Lt"}


class SelectorError(ValueError):
    """A selector the scheduler cannot read: names the field and the value at fault."""


@dataclass(frozen=True, slots=True)
class Requirement:
    """One `key operator values` test of a label set."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.key)
        match self.operator:
            case "In":
                return value is not None and value in self.values
            case "NotIn":
                return value is None or value not in self.values
            case "Exists":
                return value is not None
            case "DoesNotExist":
                return value is None
            case "Gt" | "Lt":
                number = _integer(value)
                if number is None or len(self.values) != 1:
                    return False
                bound = _integer(self.values[0])
                if bound is None:
                    return False
                return number > bound if self.operator == "Gt" else number < bound
        return False


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """metav1.LabelSelector: every requirement must hold; no requirement matches all."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(requirement.matches(labels) for requirement in self.requirements)


@dataclass(frozen=True, slots=True)
class NodeSelectorTerm:
    """One term of a node selector: label requirements and `metadata.name` fields, ANDed."""

    expressions: tuple[Requirement, ...] = ()
    fields: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        # A term with nothing in it matches no node, as upstream's nodeaffinity does.
        if not self.expressions and not self.fields:
            return False
        if not all(requirement.matches(labels) for requirement in self.expressions):
            return False
        named = {"metadata.name": name}
        return all(requirement.matches(named) for requirement in self.fields)


def _integer(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _requirements(items: Any, field: str, operators: frozenset[str]) -> tuple[Requirement, ...]:
    if items is None:
        return ()
    if not isinstance(items, list):
        raise SelectorError(f"{field}: must be a list, got {items!r}")
    parsed = []
    for index, item in enumerate(items):
        where = f"{field}[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise SelectorError(f"{where}.key: required")
        operator = item.get("operator")
        if operator not in operators:
            raise SelectorError(f"{where}.operator: unsupported value {operator!r}")
        values = item.get("values") or []
        if operator in ("Exists", "DoesNotExist") and values:
            raise SelectorError(f"{where}.values: must be empty for {operator}")
        if operator in ("In", "NotIn") and not values:
            raise SelectorError(f"{where}.values: must be non-empty for {operator}")
        if operator in ("Gt", "Lt") and (len(values) != 1 or _integer(values[0]) is None):
            raise SelectorError(f"{where}.values: {operator} needs one integer, got {values!r}")
        parsed.append(Requirement(item["key"], operator, tuple(str(v) for v in values)))
    return tuple(parsed)


def parse_label_selector(data: Any, field: str) -> LabelSelector | None:
    """A selector from its wire form; None (matches nothing) when `data` is null."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise SelectorError(f"{field}: must be an object, got {data!r}")
    labels = data.get("matchLabels") or {}
    requirements = [Requirement(key, "In", (str(value),)) for key, value in labels.items()]
    requirements.extend(
        _requirements(data.get("matchExpressions"), f"{field}.matchExpressions", _LABEL_OPERATORS)
    )
    return LabelSelector(tuple(sorted(requirements, key=lambda r: (r.key, r.operator))))


def parse_node_selector_term(data: Any, field: str) -> NodeSelectorTerm:
    if not isinstance(data, dict):
        raise SelectorError(f"{field}: must be an object, got {data!r}")
    return NodeSelectorTerm(
        _requirements(data.get("matchExpressions"), f"{field}.matchExpressions", _NODE_OPERATORS),
        _requirements(data.get("matchFields"), f"{field}.matchFields", _NODE_OPERATORS),
    )
