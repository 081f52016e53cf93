"""Label selectors as controllers use them: does an object's label set match?"""

from __future__ import annotations

from collections.abc import Mapping

from ..api import LabelSelector

__all__ = ["selector_from_labels", "selector_is_empty", "selector_matches"]


def selector_from_labels(labels: Mapping[str, str]) -> LabelSelector:
    """A ReplicationController's or Service's plain map as a `LabelSelector`."""
    return LabelSelector(match_labels=dict(labels))


def selector_is_empty(selector: LabelSelector) -> bool:
    return not selector.match_labels and not selector.match_expressions


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """True when every `matchLabels` pair and every expression holds of `labels`.

    An empty selector matches everything here; controllers that must treat an empty
    selector as matching nothing (ReplicaSets, as upstream) check `selector_is_empty`.
    """
    for key, value in selector.match_labels.items():
        if labels.get(key) != value:
            return False
    for requirement in selector.match_expressions:
        present = requirement.key in labels
        match requirement.operator:
            case "In":
                if not present or labels[requirement.key] not in requirement.values:
                    return False
            case "NotIn":
                if present and labels[requirement.key] in requirement.values:
                    return False
            case "Exists":
                if not present:
                    return False
            case "DoesNotExist":
                if present:
                    return False
    return True
