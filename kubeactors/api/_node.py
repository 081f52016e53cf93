"""core/v1 Node, in Kubernetes' JSON shape."""

from __future__ import annotations

from typing import Literal

import msgspec

from ._base import WireStruct
from ._meta import ApiObject, ObjectMeta

__all__ = [
    "Node",
    "NodeAddress",
    "NodeCondition",
    "NodeSpec",
    "NodeStatus",
    "NodeSystemInfo",
    "Taint",
]


class Taint(WireStruct, frozen=True):
    """Repels pods that do not tolerate it: NoSchedule, PreferNoSchedule or NoExecute."""

    key: str
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
    value: str = ""
    time_added: str | None = None


class NodeSpec(WireStruct, frozen=True):
    unschedulable: bool = False
    pod_cidr: str = msgspec.field(default="", name="podCIDR")
    pod_cidrs: list[str] = msgspec.field(default_factory=list, name="podCIDRs")
    provider_id: str = msgspec.field(default="", name="providerID")
    taints: list[Taint] = msgspec.field(default_factory=list)


class NodeCondition(WireStruct, frozen=True):
    type: str
    status: Literal["True", "False", "Unknown"]
    last_heartbeat_time: str | None = None
    last_transition_time: str | None = None
    reason: str = ""
    message: str = ""


class NodeAddress(WireStruct, frozen=True):
    type: str
    address: str


class NodeSystemInfo(WireStruct, frozen=True):
    machine_id: str = msgspec.field(default="", name="machineID")
    kernel_version: str = ""
    os_image: str = ""
    container_runtime_version: str = ""
    kubelet_version: str = ""
    operating_system: str = ""
    architecture: str = ""


class NodeStatus(WireStruct, frozen=True):
    """Capacity and allocatable are quantity strings keyed by resource name."""

    capacity: dict[str, str] = msgspec.field(default_factory=dict)
    allocatable: dict[str, str] = msgspec.field(default_factory=dict)
    phase: str = ""
    conditions: list[NodeCondition] = msgspec.field(default_factory=list)
    addresses: list[NodeAddress] = msgspec.field(default_factory=list)
    node_info: NodeSystemInfo | None = None


class Node(ApiObject, frozen=True):
    """A node. `apiVersion` and `kind` are always written, as on the wire."""

    api_version: str = "v1"
    kind: str = "Node"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NodeSpec = msgspec.field(default_factory=NodeSpec)
    status: NodeStatus = msgspec.field(default_factory=NodeStatus)
