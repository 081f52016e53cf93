"""Checkers of where pods sit relative to each other: pod (anti-)affinity and spread.

Terms are read as the scheduler reads them: a term's namespaces default to the
pod's own (an empty `namespaceSelector` means all of them), a missing label
selector matches no pod, and a node without the topology key is in no domain.
`matchLabelKeys` and `mismatchLabelKeys` are not interpreted: constraints using
them are not checked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import msgspec

from ..api import LabelSelector, Node, Pod, PodAffinityTerm, TopologySpreadConstraint
from ._matching import pod_selects_node, selector_matches
from ._state import ClusterState, Violation, placed_pods, pod_key

__all__ = ["pod_affinity_respected", "pod_anti_affinity_respected", "topology_spread_respected"]


def _term_namespaces(term: PodAffinityTerm, pod: Pod) -> frozenset[str] | None:
    """The namespaces a term looks at; None: all of them."""
    if term.namespace_selector is not None and not (
        term.namespace_selector.match_labels or term.namespace_selector.match_expressions
    ):
        return None
    return frozenset(term.namespaces or [pod.metadata.namespace or "default"])


def _term_matches(term: PodAffinityTerm, owner: Pod, other: Pod) -> bool:
    namespaces = _term_namespaces(term, owner)
    if namespaces is not None and (other.metadata.namespace or "default") not in namespaces:
        return False
    return selector_matches(term.label_selector, other.metadata.labels)


def _usable(term: PodAffinityTerm) -> bool:
    return not (term.match_label_keys or term.mismatch_label_keys)


class _Placement:
    """Placed pods with their nodes, and each pod's value of any topology key."""

    def __init__(self, state: ClusterState) -> None:
        self.nodes: dict[str, Node] = {node.metadata.name: node for node in state.nodes}
        self.pods: list[Pod] = [
            pod for pod in placed_pods(state) if pod.spec.node_name in self.nodes
        ]

    def domain(self, pod: Pod, key: str) -> str | None:
        return self.nodes[pod.spec.node_name].metadata.labels.get(key)


def _required(pod: Pod, anti: bool) -> list[PodAffinityTerm]:
    affinity = pod.spec.affinity
    if affinity is None:
        return []
    section = affinity.pod_anti_affinity if anti else affinity.pod_affinity
    if section is None:
        return []
    return [t for t in section.required_during_scheduling_ignored_during_execution if _usable(t)]


def _describe(selector: LabelSelector | None) -> str:
    return msgspec.json.encode(selector).decode() if selector is not None else "null"


def pod_anti_affinity_respected(state: ClusterState) -> list[Violation]:
    """No placed pod shares a topology domain with a pod its required anti-affinity excludes.

    Holds through churn: deleting pods or losing nodes cannot bring two pods together.
    """
    placement = _Placement(state)
    violations = []
    for pod in placement.pods:
        for term in _required(pod, anti=True):
            domain = placement.domain(pod, term.topology_key)
            if domain is None:
                continue
            clash = next(
                (
                    other
                    for other in placement.pods
                    if other is not pod
                    and placement.domain(other, term.topology_key) == domain
                    and _term_matches(term, pod, other)
                ),
                None,
            )
            if clash is not None:
                violations.append(
                    Violation(
                        "pod_anti_affinity_respected",
                        pod_key(pod),
                        f"pod {pod_key(pod)} on node {pod.spec.node_name} shares "
                        f"{term.topology_key}={domain} with pod {pod_key(clash)} (node "
                        f"{clash.spec.node_name}), which its required anti-affinity "
                        f"{_describe(term.label_selector)} excludes",
                    )
                )
    return violations


def pod_affinity_respected(state: ClusterState) -> list[Violation]:
    """Each placed pod with required pod affinity shares a domain with a pod it asks for.

    A pod that matches its own term may be the first of its group, as upstream allows.
    Holds for states reached by placing pods; deleting the pods a pod was placed
    beside legitimately breaks it (affinity is IgnoredDuringExecution).
    """
    placement = _Placement(state)
    violations = []
    for pod in placement.pods:
        for term in _required(pod, anti=False):
            domain = placement.domain(pod, term.topology_key)
            if domain is not None and _term_matches(term, pod, pod):
                continue
            if domain is not None and any(
                other is not pod
                and placement.domain(other, term.topology_key) == domain
                and _term_matches(term, pod, other)
                for other in placement.pods
            ):
                continue
            where = f"{term.topology_key}={domain}" if domain else f"no {term.topology_key}"
            violations.append(
                Violation(
                    "pod_affinity_respected",
                    pod_key(pod),
                    f"pod {pod_key(pod)} on node {pod.spec.node_name} ({where}) has no pod "
                    f"matching its required affinity {_describe(term.label_selector)} "
                    f"in its domain",
                )
            )
    return violations


def _hard_constraints(pod: Pod) -> Iterable[TopologySpreadConstraint]:
    return (
        c
        for c in pod.spec.topology_spread_constraints
        if c.when_unsatisfiable == "DoNotSchedule" and not c.match_label_keys
    )


def topology_spread_respected(state: ClusterState) -> list[Violation]:
    """DoNotSchedule spread constraints: matching pods' counts per domain differ by at
    most maxSkew (counting 0 for every domain below `minDomains`).

    Checked for each group of pods a constraint counts (its namespace, its selector)
    when every pod of the group carries that same constraint and node selection, as
    a Deployment's pods do: then each placement keeps the skew bounded. Holds for
    states reached by placing pods (deleting pods may unbalance the domains).
    """
    placement = _Placement(state)
    checked: set[bytes] = set()
    violations = []
    for pod in placement.pods:
        for constraint in _hard_constraints(pod):
            identity = msgspec.json.encode(
                (pod.metadata.namespace, constraint, pod.spec.node_selector, pod.spec.affinity)
            )
            if identity in checked:
                continue
            checked.add(identity)
            group = [
                other
                for other in placement.pods
                if other.metadata.namespace == pod.metadata.namespace
                and selector_matches(constraint.label_selector, other.metadata.labels)
            ]
            if not all(_carries(other, identity, constraint) for other in group):
                continue
            violation = _skew(placement, pod, constraint, group)
            if violation is not None:
                violations.append(violation)
    return violations


def _carries(pod: Pod, identity: bytes, constraint: TopologySpreadConstraint) -> bool:
    return identity == msgspec.json.encode(
        (pod.metadata.namespace, constraint, pod.spec.node_selector, pod.spec.affinity)
    ) and constraint in list(_hard_constraints(pod))


def _skew(
    placement: _Placement, pod: Pod, constraint: TopologySpreadConstraint, group: list[Pod]
) -> Violation | None:
    key = constraint.topology_key
    honour_affinity = constraint.node_affinity_policy != "Ignore"
    eligible = {
        name
        for name, node in placement.nodes.items()
        if key in node.metadata.labels and (not honour_affinity or pod_selects_node(pod, node))
    }
    counts: dict[str, int] = defaultdict(int)
    for name in eligible:
        counts[placement.nodes[name].metadata.labels[key]] += 0
    for other in group:
        if other.spec.node_name in eligible:
            counts[placement.nodes[other.spec.node_name].metadata.labels[key]] += 1
    if not counts:
        return None
    lowest = min(counts.values())
    if constraint.min_domains is not None and len(counts) < constraint.min_domains:
        lowest = 0
    skew = max(counts.values()) - lowest
    if skew <= constraint.max_skew:
        return None
    return Violation(
        "topology_spread_respected",
        pod_key(pod),
        f"pods in namespace {pod.metadata.namespace or 'default'} matching "
        f"{_describe(constraint.label_selector)} are spread {_sorted(counts)} over {key}: "
        f"skew {skew} > maxSkew {constraint.max_skew}",
    )


def _sorted(counts: Mapping[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items()))
