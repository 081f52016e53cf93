"""Pod admission on the node: does the pod fit, may it run here, does it tolerate the taints.

The kubelet checks again what the scheduler checked, because the scheduler may be
wrong or bypassed (a pod created with `spec.nodeName`). A rejected pod fails with
upstream's reasons: "OutOfcpu", "OutOfmemory", "OutOfpods", "NodeAffinity",
"TaintToleration".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from ..api import (
    NodeSelectorTerm,
    Pod,
    Resources,
    Taint,
    Toleration,
    node_requirement_holds,
    parse_cpu,
    parse_memory,
)

__all__ = ["Rejection", "admit", "effective_requests", "tolerates", "untolerated"]


class Rejection(msgspec.Struct, frozen=True):
    """Why a pod may not run here: `reason` is a CamelCase word, `message` a sentence."""

    reason: str
    message: str


def _sum_requests(containers: Iterable[object]) -> tuple[int, int]:
    cpu = memory = 0
    for container in containers:
        requests: Mapping[str, str] = container.resources.requests  # type: ignore[attr-defined]
        if "cpu" in requests:
            cpu += parse_cpu(requests["cpu"])
        if "memory" in requests:
            memory += parse_memory(requests["memory"])
    return cpu, memory


def effective_requests(pod: Pod) -> Resources:
    """What a pod holds: the larger of its containers' sum and its largest init container.

    Init containers run one at a time before the others, so the pod needs room
    for whichever is larger, as upstream computes it (plus the pod's overhead).
    """
    cpu, memory = _sum_requests(pod.spec.containers)
    for init in pod.spec.init_containers:
        init_cpu, init_memory = _sum_requests([init])
        cpu, memory = max(cpu, init_cpu), max(memory, init_memory)
    overhead = pod.spec.overhead
    if overhead:
        cpu += parse_cpu(overhead.get("cpu", "0"))
        memory += parse_memory(overhead.get("memory", "0"))
    return Resources(cpu, memory, 1)


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.operator == "Exists":
        return not toleration.key or toleration.key == taint.key
    return toleration.key == taint.key and toleration.value == taint.value


def untolerated(pod: Pod, taints: Iterable[Taint], effect: str = "NoExecute") -> list[Taint]:
    """The taints of `effect` that no toleration of `pod` tolerates."""
    return [
        taint
        for taint in taints
        if taint.effect == effect
        and not any(tolerates(toleration, taint) for toleration in pod.spec.tolerations)
    ]


def _term_holds(term: NodeSelectorTerm, labels: Mapping[str, str], name: str) -> bool:
    if not term.match_expressions and not term.match_fields:
        return False  # an empty term matches nothing, as upstream
    fields = {"metadata.name": name}
    return all(node_requirement_holds(r, labels) for r in term.match_expressions) and all(
        node_requirement_holds(r, fields) for r in term.match_fields
    )


def matches_node(pod: Pod, labels: Mapping[str, str], name: str) -> bool:
    """`spec.nodeSelector` and required node affinity both hold for this node."""
    for key, value in pod.spec.node_selector.items():
        if labels.get(key) != value:
            return False
    affinity = pod.spec.affinity
    required = (
        affinity.node_affinity.required_during_scheduling_ignored_during_execution
        if affinity is not None and affinity.node_affinity is not None
        else None
    )
    if required is None:
        return True
    return any(_term_holds(term, labels, name) for term in required.node_selector_terms)


def admit(
    pod: Pod,
    *,
    node: str,
    labels: Mapping[str, str],
    taints: Iterable[Taint],
    allocatable: Resources,
    used: Resources,
    requests: Resources | None = None,
) -> Rejection | None:
    """None if `pod` may run on this node next to pods using `used`; else why not.

    `requests` is `effective_requests(pod)` if the caller has it already.
    """
    if not matches_node(pod, labels, node):
        return Rejection(
            "NodeAffinity",
            "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
        )
    if untolerated(pod, taints):
        return Rejection(
            "TaintToleration",
            "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
        )
    if used.pods + 1 > allocatable.pods:
        return Rejection(
            "OutOfpods",
            f"Node didn't have enough resource: pods, requested: 1, used: {used.pods}, "
            f"capacity: {allocatable.pods}",
        )
    wanted = requests if requests is not None else effective_requests(pod)
    for resource, asked, taken, capacity in (
        ("cpu", wanted.cpu_millis, used.cpu_millis, allocatable.cpu_millis),
        ("memory", wanted.memory_bytes, used.memory_bytes, allocatable.memory_bytes),
    ):
        if asked and asked + taken > capacity:
            return Rejection(
                f"OutOf{resource}",
                f"Node didn't have enough resource: {resource}, requested: {asked}, "
                f"used: {taken}, capacity: {capacity}",
            )
    return None
