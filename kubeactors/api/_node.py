"""core/v1 Node, in Kubernetes' JSON shape."""

from __future__ import annotations

from typing import Literal

import msgspec

from ._base import ObjectStruct, WireStruct
from ._meta import ObjectMeta

__all__ = ["Node", "NodeAddress", "NodeCondition", "NodeSpec", "NodeStatus"]


class NodeSpec(WireStruct, frozen=True):
    unschedulable: bool = False
    pod_cidr: str = msgspec.field(default="", name="podCIDR")


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


class NodeStatus(WireStruct, frozen=True):
    """Capacity and allocatable are quantity strings keyed by resource name."""

    capacity: dict[str, str] = msgspec.field(default_factory=dict)
    allocatable: dict[str, str] = msgspec.field(default_factory=dict)
    conditions: list[NodeCondition] = msgspec.field(default_factory=list)
    addresses: list[NodeAddress] = msgspec.field(default_factory=list)


class Node(ObjectStruct, frozen=True):
    """A node. `apiVersion` and `kind` are always written, as on the wire."""

    api_version: str = "v1"
    kind: str = "Node"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NodeSpec = msgspec.field(default_factory=NodeSpec)
    status: NodeStatus = msgspec.field(default_factory=NodeStatus)
