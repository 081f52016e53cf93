"""Matching rules the checkers share: node selector requirements, label selectors."""

from __future__ import annotations

from collections.abc import Mapping

from ..api import (
    LabelSelector,
    Node,
    NodeSelectorRequirement,
    Pod,
    node_requirement_holds,
    selector_from_struct,
)

__all__ = ["field_holds", "pod_selects_node", "selector_matches"]


def field_holds(requirement: NodeSelectorRequirement, node: Node) -> bool:
    if requirement.key != "metadata.name":
        return False
    return node_requirement_holds(requirement, {"metadata.name": node.metadata.name})


def pod_selects_node(pod: Pod, node: Node) -> bool:
    """Whether `node` matches the pod's nodeSelector and required node affinity."""
    node_labels = node.metadata.labels
    if any(node_labels.get(key) != value for key, value in pod.spec.node_selector.items()):
        return False
    affinity = pod.spec.affinity
    required = affinity.node_affinity if affinity is not None else None
    selector = required.required_during_scheduling_ignored_during_execution if required else None
    if selector is None:
        return True
    return any(
        (term.match_expressions or term.match_fields)
        and all(node_requirement_holds(r, node_labels) for r in term.match_expressions)
        and all(field_holds(r, node) for r in term.match_fields)
        for term in selector.node_selector_terms
    )


def selector_matches(selector: LabelSelector | None, labels: Mapping[str, str]) -> bool:
    """A label selector as pod affinity and spread constraints read it: None matches nothing."""
    return selector is not None and selector_from_struct(selector).matches(labels)
