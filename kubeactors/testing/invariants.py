"""Invariant checkers: each takes a cluster state and returns the violations it finds.

A checker is a small function of a `ClusterState` (nodes and pods as read from the
API) returning a list of `Violation`s, empty when the invariant holds. `check_all`
runs them all. Labels and taints are read as they are now: the checkers assume a
node's labels did not change after its pods were bound.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from ..api import Pod, Taint, Toleration, node_requirement_holds, parse_cpu, parse_memory
from ._matching import field_holds
from ._state import TERMINAL, Checker, ClusterState, Violation, placed_pods, pod_key
from .topology import pod_affinity_respected, pod_anti_affinity_respected, topology_spread_respected

__all__ = [
    "CHECKERS",
    "CHURN_SAFE_CHECKERS",
    "Checker",
    "ClusterState",
    "Violation",
    "bound_pods_on_existing_nodes",
    "check_all",
    "node_affinity_respected",
    "nodes_not_overcommitted",
    "pod_affinity_respected",
    "pod_anti_affinity_respected",
    "pod_ips_unique",
    "pod_requests",
    "taints_tolerated",
    "tolerates",
    "topology_spread_respected",
]


def _amount(resource: str, text: str) -> int:
    return parse_cpu(text) if resource == "cpu" else parse_memory(text)


def pod_requests(pod: Pod) -> dict[str, int]:
    """What a pod holds on its node, as the scheduler counts it (cpu in millicores).

    Per resource: the larger of the containers' sum and the largest init container,
    plus the pod overhead; and one "pods" slot.
    """
    total: dict[str, int] = defaultdict(int)
    for container in pod.spec.containers:
        for resource, text in container.resources.requests.items():
            total[resource] += _amount(resource, text)
    for container in pod.spec.init_containers:
        for resource, text in container.resources.requests.items():
            total[resource] = max(total[resource], _amount(resource, text))
    for resource, text in pod.spec.overhead.items():
        total[resource] += _amount(resource, text)
    total["pods"] = 1
    return dict(total)


def _format(resource: str, amount: int) -> str:
    return f"{amount}m" if resource == "cpu" else str(amount)


def nodes_not_overcommitted(state: ClusterState) -> list[Violation]:
    """The pods placed on a node request no more of any resource than it has allocatable."""
    used: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    placed: dict[str, list[str]] = defaultdict(list)
    for pod in placed_pods(state):
        placed[pod.spec.node_name].append(pod_key(pod))
        for resource, amount in pod_requests(pod).items():
            used[pod.spec.node_name][resource] += amount
    violations = []
    for node in state.nodes:
        name = node.metadata.name
        allocatable = node.status.allocatable or node.status.capacity
        for resource, amount in sorted(used.get(name, {}).items()):
            limit = _amount(resource, allocatable.get(resource, "0"))
            if amount > limit:
                violations.append(
                    Violation(
                        "nodes_not_overcommitted",
                        name,
                        f"node {name} is over-committed on {resource}: its pods request "
                        f"{_format(resource, amount)}, allocatable is "
                        f"{_format(resource, limit)} (pods: {', '.join(sorted(placed[name]))})",
                    )
                )
    return violations


def bound_pods_on_existing_nodes(state: ClusterState) -> list[Violation]:
    """Every pod bound to a node names a node that exists."""
    names = {node.metadata.name for node in state.nodes}
    return [
        Violation(
            "bound_pods_on_existing_nodes",
            pod_key(pod),
            f"pod {pod_key(pod)} is bound to node {pod.spec.node_name!r}, which does not exist",
        )
        for pod in state.pods
        if pod.spec.node_name and pod.spec.node_name not in names
    ]


def pod_ips_unique(state: ClusterState) -> list[Violation]:
    """No two running pods share an IP (host-network pods share their node's, as they should)."""
    holders: dict[str, list[str]] = defaultdict(list)
    for pod in state.pods:
        if pod.status.pod_ip and not pod.spec.host_network and pod.status.phase not in TERMINAL:
            holders[pod.status.pod_ip].append(pod_key(pod))
    return [
        Violation(
            "pod_ips_unique",
            address,
            f"pods {', '.join(sorted(keys))} share the IP {address}",
        )
        for address, keys in sorted(holders.items())
        if len(keys) > 1
    ]


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """Whether `toleration` tolerates `taint`, by Kubernetes' rules."""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator == "Exists":
        return True
    return toleration.value == taint.value


def _scheduled_at(pod: Pod) -> str | None:
    for condition in pod.status.conditions:
        if condition.type == "PodScheduled" and condition.status == "True":
            return condition.last_transition_time
    return None


def taints_tolerated(state: ClusterState, *, eviction_grace: float = 30.0) -> list[Violation]:
    """No pod sits on a node with a NoSchedule or NoExecute taint it does not tolerate.

    A NoSchedule taint added after the pod was scheduled does not count (it only keeps
    new pods away). A NoExecute taint evicts: the pod may stay `eviction_grace`
    seconds after the taint was added (plus its toleration's `tolerationSeconds`);
    a pod already being deleted counts as evicted.
    """
    nodes = {node.metadata.name: node for node in state.nodes}
    violations = []
    for pod in placed_pods(state):
        node = nodes.get(pod.spec.node_name)
        if node is None:
            continue
        for taint in node.spec.taints:
            if taint.effect == "PreferNoSchedule":
                continue
            matching = [t for t in pod.spec.tolerations if tolerates(t, taint)]
            if taint.effect == "NoSchedule":
                if matching or _added_after_scheduling(taint, pod):
                    continue
            elif pod.metadata.deletion_timestamp is not None or _within_eviction_window(
                taint, matching, state.now, eviction_grace
            ):
                continue  # evicted already (terminating), or still within its window
            violations.append(
                Violation(
                    "taints_tolerated",
                    pod_key(pod),
                    f"pod {pod_key(pod)} runs on node {node.metadata.name}, whose taint "
                    f"{taint.key}={taint.value}:{taint.effect} it does not tolerate",
                )
            )
    return violations


def _added_after_scheduling(taint: Taint, pod: Pod) -> bool:
    scheduled = _scheduled_at(pod)
    return bool(taint.time_added and scheduled and taint.time_added > scheduled)


def _within_eviction_window(
    taint: Taint, matching: list[Toleration], now: datetime | None, grace: float
) -> bool:
    if matching and all(t.toleration_seconds is None for t in matching):
        return True  # tolerated for good
    if not taint.time_added or now is None:
        return False
    allowed = grace + max((t.toleration_seconds or 0 for t in matching), default=0)
    added = datetime.fromisoformat(taint.time_added.replace("Z", "+00:00"))
    return now <= added + timedelta(seconds=allowed)


def node_affinity_respected(state: ClusterState) -> list[Violation]:
    """Each placed pod's node selector and required node affinity match its node."""
    nodes = {node.metadata.name: node for node in state.nodes}
    violations = []
    for pod in placed_pods(state):
        node = nodes.get(pod.spec.node_name)
        if node is None:
            continue
        node_labels = node.metadata.labels
        wrong = {k: v for k, v in pod.spec.node_selector.items() if node_labels.get(k) != v}
        if wrong:
            violations.append(
                Violation(
                    "node_affinity_respected",
                    pod_key(pod),
                    f"pod {pod_key(pod)} runs on node {node.metadata.name}, whose labels do not "
                    f"match its nodeSelector {wrong}",
                )
            )
        affinity = pod.spec.affinity
        required = affinity.node_affinity if affinity is not None else None
        selector = (
            required.required_during_scheduling_ignored_during_execution if required else None
        )
        if selector is None:
            continue
        # Terms are ORed; an empty term matches nothing, as in Kubernetes.
        if not any(
            (term.match_expressions or term.match_fields)
            and all(node_requirement_holds(r, node_labels) for r in term.match_expressions)
            and all(field_holds(r, node) for r in term.match_fields)
            for term in selector.node_selector_terms
        ):
            violations.append(
                Violation(
                    "node_affinity_respected",
                    pod_key(pod),
                    f"pod {pod_key(pod)} runs on node {node.metadata.name}, which matches none of "
                    f"its required node affinity terms",
                )
            )
    return violations


CHURN_SAFE_CHECKERS: tuple[Checker, ...] = (
    nodes_not_overcommitted,
    bound_pods_on_existing_nodes,
    pod_ips_unique,
    taints_tolerated,
    node_affinity_respected,
    pod_anti_affinity_respected,
)
"""The checkers that hold at every moment, whatever happened since pods were placed
(pods deleted, nodes drained or dead): what `ClusterMachine` checks after each step."""

CHECKERS: tuple[Checker, ...] = (
    *CHURN_SAFE_CHECKERS,
    pod_affinity_respected,
    topology_spread_respected,
)
"""Every checker `check_all` runs, in order. Required pod affinity and spread
constraints bind only when a pod is placed (IgnoredDuringExecution): deleting pods
afterwards may break them without any fault, so they hold for states reached by
placing pods, not through churn."""


def check_all(state: ClusterState) -> list[Violation]:
    """Every violation any checker finds."""
    return [violation for checker in CHECKERS for violation in checker(state)]
