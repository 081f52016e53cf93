"""The Node object a kubelet registers and keeps up to date."""

from __future__ import annotations

import msgspec

from ..api import (
    Node,
    NodeAddress,
    NodeCondition,
    NodeSpec,
    NodeStatus,
    NodeSystemInfo,
    ObjectMeta,
    format_cpu,
    format_memory,
    parse_cpu,
    parse_memory,
)
from ._settings import NodeSettings
from ._shape import NodeShape

__all__ = [
    "KUBELET_VERSION",
    "allocatable",
    "allocatable_amounts",
    "fresh_conditions",
    "node_conditions",
    "node_object",
    "refreshed",
]

KUBELET_VERSION = "v1.31.0-kubeactors"

_CONDITIONS = (
    (
        "MemoryPressure",
        "False",
        "KubeletHasSufficientMemory",
        "kubelet has sufficient memory available",
    ),
    ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
)
_HEALTHY = list(_CONDITIONS)
"""What a healthy node's conditions say, bar their times: a list, to compare with one."""


def allocatable(shape: NodeShape, settings: NodeSettings) -> dict[str, str]:
    """Capacity less the system reserve, as Kubernetes quantities."""
    capacity = shape.resources()
    reserved = settings.system_reserved
    if not reserved:
        return dict(capacity)
    cpu = parse_cpu(capacity["cpu"]) - parse_cpu(reserved.get("cpu", "0"))
    memory = parse_memory(capacity["memory"]) - parse_memory(reserved.get("memory", "0"))
    if cpu <= 0 or memory <= 0:
        raise ValueError(
            f"node settings system_reserved: {reserved} leaves nothing of capacity {capacity}"
        )
    return {"cpu": format_cpu(cpu), "memory": format_memory(memory), "pods": capacity["pods"]}


def allocatable_amounts(node: Node) -> dict[str, str]:
    """What `node_allocatable` reads of `node`: a change to it is a change to what
    its kubelet admits pods by."""
    return node.status.allocatable or node.status.capacity


def node_conditions(previous: list[NodeCondition], now: str) -> list[NodeCondition]:
    """The four conditions a healthy kubelet reports, heartbeat now; transitions kept.

    A healthy node posts the four it posted last, in their order, each only beating
    again: each is then a copy of itself with the new heartbeat (what building it
    afresh would give, for less).
    """
    if [(c.type, c.status, c.reason, c.message) for c in previous] == _HEALTHY:
        replace = msgspec.structs.replace
        return [replace(condition, last_heartbeat_time=now) for condition in previous]
    return fresh_conditions(previous, now)


def fresh_conditions(previous: list[NodeCondition], now: str) -> list[NodeCondition]:
    """`node_conditions` built afresh from `_CONDITIONS`, whatever came before."""
    before = {condition.type: condition for condition in previous}
    conditions = []
    for kind, status, reason, message in _CONDITIONS:
        old = before.get(kind)
        since = old.last_transition_time if old is not None and old.status == status else now
        conditions.append(
            NodeCondition(
                type=kind,
                status=status,  # type: ignore[arg-type]
                last_heartbeat_time=now,
                last_transition_time=since,
                reason=reason,
                message=message,
            )
        )
    return conditions


def node_object(
    name: str,
    *,
    shape: NodeShape,
    settings: NodeSettings,
    pod_cidr: str,
    host_ip: str,
    runtime_kind: str,
    now: str,
) -> Node:
    """The Node as registered: labels, taints, capacity, allocatable, addresses, conditions."""
    labels = {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubeactors.io/runtime": runtime_kind,
        **settings.labels,
    }
    return Node(
        metadata=ObjectMeta(name=name, labels=labels),
        spec=NodeSpec(pod_cidr=pod_cidr, pod_cidrs=[pod_cidr], taints=list(settings.taints)),
        status=NodeStatus(
            capacity=shape.resources(),
            allocatable=allocatable(shape, settings),
            phase="",
            conditions=node_conditions([], now),
            addresses=[
                NodeAddress(type="InternalIP", address=host_ip),
                NodeAddress(type="Hostname", address=name),
            ],
            node_info=NodeSystemInfo(
                kubelet_version=KUBELET_VERSION,
                container_runtime_version=f"{runtime_kind}://0.1.0",
                operating_system="linux",
                architecture="amd64",
                os_image="kubeactors",
            ),
        ),
    )


def refreshed(node: Node, now: str) -> Node:
    """`node` with its conditions' heartbeat at `now`."""
    status = msgspec.structs.replace(
        node.status, conditions=node_conditions(node.status.conditions, now)
    )
    return msgspec.structs.replace(node, status=status)
