"""core/v1 kinds other than Pod and Node: Namespace, Service, Endpoints, Event,
ReplicationController, ConfigMap, Secret, ServiceAccount, Binding, ResourceQuota and
LimitRange."""

from __future__ import annotations

from typing import Literal

import msgspec

from ._base import IntOrString, WireStruct
from ._meta import ApiObject, ObjectMeta, ObjectReference
from ._pod import PodTemplateSpec

__all__ = [
    "Binding",
    "ClientIPConfig",
    "ConfigMap",
    "EndpointAddress",
    "EndpointPort",
    "EndpointSubset",
    "Endpoints",
    "Event",
    "EventSource",
    "LimitRange",
    "LimitRangeItem",
    "LimitRangeSpec",
    "LocalObjectReference",
    "Namespace",
    "NamespaceSpec",
    "NamespaceStatus",
    "ReplicationController",
    "ReplicationControllerSpec",
    "ReplicationControllerStatus",
    "ResourceQuota",
    "ResourceQuotaSpec",
    "ResourceQuotaStatus",
    "Secret",
    "Service",
    "ServiceAccount",
    "ServicePort",
    "ServiceSpec",
    "ServiceStatus",
    "SessionAffinityConfig",
]


class NamespaceSpec(WireStruct, frozen=True):
    finalizers: list[str] = msgspec.field(default_factory=list)


class NamespaceStatus(WireStruct, frozen=True):
    phase: Literal["", "Active", "Terminating"] = ""


class Namespace(ApiObject, frozen=True):
    api_version: str = "v1"
    kind: str = "Namespace"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: NamespaceSpec = msgspec.field(default_factory=NamespaceSpec)
    status: NamespaceStatus = msgspec.field(default_factory=NamespaceStatus)


class ServicePort(WireStruct, frozen=True):
    port: int
    name: str = ""
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
    target_port: IntOrString | None = None
    node_port: int = 0
    app_protocol: str = ""


class ClientIPConfig(WireStruct, frozen=True):
    timeout_seconds: int | None = None


class SessionAffinityConfig(WireStruct, frozen=True):
    client_ip: ClientIPConfig | None = msgspec.field(default=None, name="clientIP")


class ServiceSpec(WireStruct, frozen=True):
    ports: list[ServicePort] = msgspec.field(default_factory=list)
    selector: dict[str, str] = msgspec.field(default_factory=dict)
    cluster_ip: str = msgspec.field(default="", name="clusterIP")
    cluster_ips: list[str] = msgspec.field(default_factory=list, name="clusterIPs")
    type: Literal["", "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"] = ""
    external_name: str = ""
    session_affinity: Literal["", "None", "ClientIP"] = ""
    session_affinity_config: SessionAffinityConfig | None = None
    publish_not_ready_addresses: bool = False
    internal_traffic_policy: str = ""
    external_traffic_policy: str = ""


class LoadBalancerIngress(WireStruct, frozen=True):
    ip: str = ""
    hostname: str = ""


class LoadBalancerStatus(WireStruct, frozen=True):
    ingress: list[LoadBalancerIngress] = msgspec.field(default_factory=list)


class ServiceStatus(WireStruct, frozen=True):
    load_balancer: LoadBalancerStatus = msgspec.field(default_factory=LoadBalancerStatus)


class Service(ApiObject, frozen=True):
    api_version: str = "v1"
    kind: str = "Service"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ServiceSpec = msgspec.field(default_factory=ServiceSpec)
    status: ServiceStatus = msgspec.field(default_factory=ServiceStatus)


class EndpointAddress(WireStruct, frozen=True):
    ip: str
    hostname: str = ""
    node_name: str | None = None
    target_ref: ObjectReference | None = None


class EndpointPort(WireStruct, frozen=True):
    port: int
    name: str = ""
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"
    app_protocol: str = ""


class EndpointSubset(WireStruct, frozen=True):
    addresses: list[EndpointAddress] = msgspec.field(default_factory=list)
    not_ready_addresses: list[EndpointAddress] = msgspec.field(default_factory=list)
    ports: list[EndpointPort] = msgspec.field(default_factory=list)


class Endpoints(ApiObject, frozen=True):
    api_version: str = "v1"
    kind: str = "Endpoints"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    subsets: list[EndpointSubset] = msgspec.field(default_factory=list)


class EventSource(WireStruct, frozen=True):
    component: str = ""
    host: str = ""


class Event(ApiObject, frozen=True):
    """core/v1 Event: something that happened to `involvedObject`."""

    api_version: str = "v1"
    kind: str = "Event"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    involved_object: ObjectReference = msgspec.field(default_factory=ObjectReference)
    reason: str = ""
    message: str = ""
    source: EventSource = msgspec.field(default_factory=EventSource)
    first_timestamp: str | None = None
    last_timestamp: str | None = None
    count: int = 0
    type: str = ""
    event_time: str | None = None
    action: str = ""
    reporting_component: str = ""
    reporting_instance: str = ""


class ReplicationControllerSpec(WireStruct, frozen=True):
    replicas: int | None = None
    min_ready_seconds: int = 0
    selector: dict[str, str] = msgspec.field(default_factory=dict)
    template: PodTemplateSpec | None = None


class ReplicationControllerStatus(WireStruct, frozen=True):
    replicas: int = 0
    fully_labeled_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    observed_generation: int = 0


class ReplicationController(ApiObject, frozen=True):
    api_version: str = "v1"
    kind: str = "ReplicationController"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ReplicationControllerSpec = msgspec.field(default_factory=ReplicationControllerSpec)
    status: ReplicationControllerStatus = msgspec.field(default_factory=ReplicationControllerStatus)


class ConfigMap(ApiObject, frozen=True):
    api_version: str = "v1"
    kind: str = "ConfigMap"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    immutable: bool | None = None
    data: dict[str, str] = msgspec.field(default_factory=dict)
    binary_data: dict[str, bytes] = msgspec.field(default_factory=dict)


class Secret(ApiObject, frozen=True):
    """`data` values are bytes, written base64-encoded as on the wire."""

    api_version: str = "v1"
    kind: str = "Secret"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    immutable: bool | None = None
    type: str = ""
    data: dict[str, bytes] = msgspec.field(default_factory=dict)
    string_data: dict[str, str] = msgspec.field(default_factory=dict)


class LocalObjectReference(WireStruct, frozen=True):
    """An object named in the same namespace (an image pull secret, say)."""

    name: str = ""


class ServiceAccount(ApiObject, frozen=True):
    """core/v1 ServiceAccount: an identity for processes in pods, named by RBAC
    subjects of kind ServiceAccount (`system:serviceaccount:<namespace>:<name>`)."""

    api_version: str = "v1"
    kind: str = "ServiceAccount"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    secrets: list[ObjectReference] = msgspec.field(default_factory=list)
    image_pull_secrets: list[LocalObjectReference] = msgspec.field(default_factory=list)
    automount_service_account_token: bool | None = None


class Binding(ApiObject, frozen=True):
    """Binds a pod to a node: POSTed to a pod's `binding` subresource by the scheduler."""

    api_version: str = "v1"
    kind: str = "Binding"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    target: ObjectReference = msgspec.field(default_factory=ObjectReference)


class ResourceQuotaSpec(WireStruct, frozen=True):
    hard: dict[str, str] = msgspec.field(default_factory=dict)


class ResourceQuotaStatus(WireStruct, frozen=True):
    hard: dict[str, str] = msgspec.field(default_factory=dict)
    used: dict[str, str] = msgspec.field(default_factory=dict)


class ResourceQuota(ApiObject, frozen=True):
    """Caps what a namespace may hold: `pods`, `requests.cpu`, `count/services`, ..."""

    api_version: str = "v1"
    kind: str = "ResourceQuota"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ResourceQuotaSpec = msgspec.field(default_factory=ResourceQuotaSpec)
    status: ResourceQuotaStatus = msgspec.field(default_factory=ResourceQuotaStatus)


class LimitRangeItem(WireStruct, frozen=True):
    type: str
    max: dict[str, str] = msgspec.field(default_factory=dict)
    min: dict[str, str] = msgspec.field(default_factory=dict)
    default: dict[str, str] = msgspec.field(default_factory=dict)
    default_request: dict[str, str] = msgspec.field(default_factory=dict)


class LimitRangeSpec(WireStruct, frozen=True):
    limits: list[LimitRangeItem] = msgspec.field(default_factory=list)


class LimitRange(ApiObject, frozen=True):
    """Defaults (and bounds) for the containers of a namespace."""

    api_version: str = "v1"
    kind: str = "LimitRange"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: LimitRangeSpec = msgspec.field(default_factory=LimitRangeSpec)
