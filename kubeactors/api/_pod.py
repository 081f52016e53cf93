"""core/v1 Pod, in Kubernetes' JSON shape."""

from __future__ import annotations

from typing import Literal

import msgspec

from ._base import ObjectStruct, WireStruct
from ._meta import ObjectMeta

__all__ = [
    "Container",
    "Pod",
    "PodCondition",
    "PodPhase",
    "PodSpec",
    "PodStatus",
    "ResourceRequirements",
]

PodPhase = Literal["", "Pending", "Running", "Succeeded", "Failed", "Unknown"]


class ResourceRequirements(WireStruct, frozen=True):
    """Requests and limits as quantity strings keyed by resource name ("cpu", "memory")."""

    requests: dict[str, str] = msgspec.field(default_factory=dict)
    limits: dict[str, str] = msgspec.field(default_factory=dict)


class Container(WireStruct, frozen=True):
    name: str
    image: str = ""
    resources: ResourceRequirements = msgspec.field(default_factory=ResourceRequirements)


class PodSpec(WireStruct, frozen=True):
    containers: list[Container] = msgspec.field(default_factory=list)
    node_name: str = ""
    scheduler_name: str = ""


class PodCondition(WireStruct, frozen=True):
    type: str
    status: Literal["True", "False", "Unknown"]
    last_transition_time: str | None = None
    reason: str = ""
    message: str = ""


class PodStatus(WireStruct, frozen=True):
    phase: PodPhase = ""
    conditions: list[PodCondition] = msgspec.field(default_factory=list)
    pod_ip: str = msgspec.field(default="", name="podIP")
    host_ip: str = msgspec.field(default="", name="hostIP")
    start_time: str | None = None


class Pod(ObjectStruct, frozen=True):
    """A pod. `apiVersion` and `kind` are always written, as on the wire."""

    api_version: str = "v1"
    kind: str = "Pod"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus = msgspec.field(default_factory=PodStatus)
