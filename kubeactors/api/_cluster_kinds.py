"""Small kinds of other groups: coordination.k8s.io Lease, scheduling.k8s.io
PriorityClass and discovery.k8s.io EndpointSlice."""

from __future__ import annotations

from typing import Literal

import msgspec

from ._base import WireStruct
from ._meta import ApiObject, ObjectMeta, ObjectReference

__all__ = [
    "Endpoint",
    "EndpointConditions",
    "EndpointSlice",
    "EndpointSlicePort",
    "Lease",
    "LeaseSpec",
    "PriorityClass",
]


class LeaseSpec(WireStruct, frozen=True):
    holder_identity: str | None = None
    lease_duration_seconds: int | None = None
    acquire_time: str | None = None
    renew_time: str | None = None
    lease_transitions: int | None = None


class Lease(ApiObject, frozen=True):
    """A heartbeat or a leader-election lock: kubelets renew one each in kube-node-lease."""

    api_version: str = "coordination.k8s.io/v1"
    kind: str = "Lease"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: LeaseSpec = msgspec.field(default_factory=LeaseSpec)


class PriorityClass(ApiObject, frozen=True):
    """Maps a `priorityClassName` to the integer priority the pod is given at admission."""

    api_version: str = "scheduling.k8s.io/v1"
    kind: str = "PriorityClass"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    value: int = 0
    global_default: bool = False
    description: str = ""
    preemption_policy: str = ""


class EndpointConditions(WireStruct, frozen=True):
    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


class Endpoint(WireStruct, frozen=True):
    addresses: list[str] = msgspec.field(default_factory=list)
    conditions: EndpointConditions = msgspec.field(default_factory=EndpointConditions)
    hostname: str | None = None
    target_ref: ObjectReference | None = None
    node_name: str | None = None
    zone: str | None = None


class EndpointSlicePort(WireStruct, frozen=True):
    name: str | None = None
    protocol: Literal["TCP", "UDP", "SCTP"] | None = None
    port: int | None = None
    app_protocol: str | None = None


class EndpointSlice(ApiObject, frozen=True):
    """A slice of a Service's endpoints, labelled `kubernetes.io/service-name`."""

    api_version: str = "discovery.k8s.io/v1"
    kind: str = "EndpointSlice"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    address_type: Literal["IPv4", "IPv6", "FQDN"] = "IPv4"
    endpoints: list[Endpoint] = msgspec.field(default_factory=list)
    ports: list[EndpointSlicePort] = msgspec.field(default_factory=list)
