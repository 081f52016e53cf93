"""core/v1 Pod and its parts (containers, probes, affinity, tolerations), in Kubernetes' JSON."""

from __future__ import annotations

from typing import Literal

import msgspec

from ._base import IntOrString, WireStruct
from ._meta import ApiObject, LabelSelector, ObjectMeta

__all__ = [
    "Affinity",
    "Container",
    "ContainerPort",
    "ContainerState",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerStateWaiting",
    "ContainerStatus",
    "EnvFromSource",
    "EnvSourceRef",
    "EnvVar",
    "EnvVarSource",
    "ExecAction",
    "HTTPGetAction",
    "HTTPHeader",
    "KeySelector",
    "NodeAffinity",
    "NodeSelector",
    "NodeSelectorRequirement",
    "NodeSelectorTerm",
    "ObjectFieldSelector",
    "Pod",
    "PodAffinity",
    "PodAffinityTerm",
    "PodAntiAffinity",
    "PodCondition",
    "PodIP",
    "PodPhase",
    "PodSchedulingGate",
    "PodSpec",
    "PodStatus",
    "PodTemplateSpec",
    "PreferredSchedulingTerm",
    "Probe",
    "ResourceFieldSelector",
    "ResourceRequirements",
    "TCPSocketAction",
    "Toleration",
    "TopologySpreadConstraint",
    "VolumeMount",
    "WeightedPodAffinityTerm",
]

PodPhase = Literal["", "Pending", "Running", "Succeeded", "Failed", "Unknown"]
ConditionStatus = Literal["True", "False", "Unknown"]


class ResourceRequirements(WireStruct, frozen=True):
    """Requests and limits as quantity strings keyed by resource name ("cpu", "memory")."""

    requests: dict[str, str] = msgspec.field(default_factory=dict)
    limits: dict[str, str] = msgspec.field(default_factory=dict)


class ContainerPort(WireStruct, frozen=True):
    container_port: int
    name: str = ""
    host_port: int = 0
    protocol: str = "TCP"
    host_ip: str = msgspec.field(default="", name="hostIP")


class KeySelector(WireStruct, frozen=True):
    """A key of a ConfigMap or Secret (configMapKeyRef, secretKeyRef)."""

    name: str = ""
    key: str = ""
    optional: bool | None = None


class ObjectFieldSelector(WireStruct, frozen=True):
    field_path: str
    api_version: str = ""


class ResourceFieldSelector(WireStruct, frozen=True):
    """A container's request or limit ("limits.memory"), in units of `divisor`."""

    resource: str
    container_name: str = ""
    divisor: str = ""


class EnvVarSource(WireStruct, frozen=True):
    field_ref: ObjectFieldSelector | None = None
    resource_field_ref: ResourceFieldSelector | None = None
    config_map_key_ref: KeySelector | None = None
    secret_key_ref: KeySelector | None = None


class EnvVar(WireStruct, frozen=True):
    name: str
    value: str = ""
    value_from: EnvVarSource | None = None


class EnvSourceRef(WireStruct, frozen=True):
    """A whole ConfigMap or Secret as variables (envFrom's configMapRef, secretRef)."""

    name: str = ""
    optional: bool | None = None


class EnvFromSource(WireStruct, frozen=True):
    prefix: str = ""
    config_map_ref: EnvSourceRef | None = None
    secret_ref: EnvSourceRef | None = None


class VolumeMount(WireStruct, frozen=True):
    name: str
    mount_path: str
    read_only: bool = False
    sub_path: str = ""


class ExecAction(WireStruct, frozen=True):
    command: list[str] = msgspec.field(default_factory=list)


class HTTPHeader(WireStruct, frozen=True):
    name: str
    value: str


class HTTPGetAction(WireStruct, frozen=True):
    port: IntOrString
    path: str = ""
    host: str = ""
    scheme: str = ""
    http_headers: list[HTTPHeader] = msgspec.field(default_factory=list)


class TCPSocketAction(WireStruct, frozen=True):
    port: IntOrString
    host: str = ""


class Probe(WireStruct, frozen=True):
    """A liveness, readiness or startup probe; exactly one handler should be set."""

    exec: ExecAction | None = None
    http_get: HTTPGetAction | None = None
    tcp_socket: TCPSocketAction | None = None
    initial_delay_seconds: int = 0
    timeout_seconds: int = 0
    period_seconds: int = 0
    success_threshold: int = 0
    failure_threshold: int = 0
    termination_grace_period_seconds: int | None = None


class Container(WireStruct, frozen=True):
    name: str
    image: str = ""
    command: list[str] = msgspec.field(default_factory=list)
    args: list[str] = msgspec.field(default_factory=list)
    working_dir: str = ""
    ports: list[ContainerPort] = msgspec.field(default_factory=list)
    env: list[EnvVar] = msgspec.field(default_factory=list)
    env_from: list[EnvFromSource] = msgspec.field(default_factory=list)
    resources: ResourceRequirements = msgspec.field(default_factory=ResourceRequirements)
    volume_mounts: list[VolumeMount] = msgspec.field(default_factory=list)
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    image_pull_policy: str = ""
    termination_message_path: str = ""
    termination_message_policy: str = ""


class NodeSelectorRequirement(WireStruct, frozen=True):
    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
    values: list[str] = msgspec.field(default_factory=list)


class NodeSelectorTerm(WireStruct, frozen=True):
    """Every expression must hold (terms of a NodeSelector are ORed)."""

    match_expressions: list[NodeSelectorRequirement] = msgspec.field(default_factory=list)
    match_fields: list[NodeSelectorRequirement] = msgspec.field(default_factory=list)


class NodeSelector(WireStruct, frozen=True):
    node_selector_terms: list[NodeSelectorTerm] = msgspec.field(default_factory=list)


class PreferredSchedulingTerm(WireStruct, frozen=True):
    weight: int
    preference: NodeSelectorTerm


class NodeAffinity(WireStruct, frozen=True):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None
    preferred_during_scheduling_ignored_during_execution: list[PreferredSchedulingTerm] = (
        msgspec.field(default_factory=list)
    )


class PodAffinityTerm(WireStruct, frozen=True):
    topology_key: str
    label_selector: LabelSelector | None = None
    namespaces: list[str] = msgspec.field(default_factory=list)
    namespace_selector: LabelSelector | None = None
    match_label_keys: list[str] = msgspec.field(default_factory=list)
    mismatch_label_keys: list[str] = msgspec.field(default_factory=list)


class WeightedPodAffinityTerm(WireStruct, frozen=True):
    weight: int
    pod_affinity_term: PodAffinityTerm


class PodAffinity(WireStruct, frozen=True):
    required_during_scheduling_ignored_during_execution: list[PodAffinityTerm] = msgspec.field(
        default_factory=list
    )
    preferred_during_scheduling_ignored_during_execution: list[WeightedPodAffinityTerm] = (
        msgspec.field(default_factory=list)
    )


class PodAntiAffinity(PodAffinity, frozen=True):
    """The same shape as PodAffinity; the terms say where the pod must not go."""


class Affinity(WireStruct, frozen=True):
    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAntiAffinity | None = None


class Toleration(WireStruct, frozen=True):
    """Tolerates taints matching key/effect (operator Equal with value, or Exists)."""

    key: str = ""
    operator: Literal["", "Equal", "Exists"] = ""
    value: str = ""
    effect: Literal["", "NoSchedule", "PreferNoSchedule", "NoExecute"] = ""
    toleration_seconds: int | None = None


class TopologySpreadConstraint(WireStruct, frozen=True):
    max_skew: int
    topology_key: str
    when_unsatisfiable: Literal["DoNotSchedule", "ScheduleAnyway"]
    label_selector: LabelSelector | None = None
    min_domains: int | None = None
    node_affinity_policy: str = ""
    node_taints_policy: str = ""
    match_label_keys: list[str] = msgspec.field(default_factory=list)


class PodSchedulingGate(WireStruct, frozen=True):
    name: str


class PodSpec(WireStruct, frozen=True):
    containers: list[Container] = msgspec.field(default_factory=list)
    init_containers: list[Container] = msgspec.field(default_factory=list)
    restart_policy: Literal["", "Always", "OnFailure", "Never"] = ""
    termination_grace_period_seconds: int | None = None
    active_deadline_seconds: int | None = None
    dns_policy: str = ""
    node_selector: dict[str, str] = msgspec.field(default_factory=dict)
    service_account_name: str = ""
    node_name: str = ""
    host_network: bool = False
    scheduler_name: str = ""
    affinity: Affinity | None = None
    tolerations: list[Toleration] = msgspec.field(default_factory=list)
    topology_spread_constraints: list[TopologySpreadConstraint] = msgspec.field(
        default_factory=list
    )
    priority_class_name: str = ""
    priority: int | None = None
    preemption_policy: str = ""
    scheduling_gates: list[PodSchedulingGate] = msgspec.field(default_factory=list)
    overhead: dict[str, str] = msgspec.field(default_factory=dict)
    enable_service_links: bool | None = None


class PodCondition(WireStruct, frozen=True):
    type: str
    status: ConditionStatus
    last_probe_time: str | None = None
    last_transition_time: str | None = None
    reason: str = ""
    message: str = ""


class ContainerStateWaiting(WireStruct, frozen=True):
    reason: str = ""
    message: str = ""


class ContainerStateRunning(WireStruct, frozen=True):
    started_at: str | None = None


class ContainerStateTerminated(WireStruct, frozen=True):
    exit_code: int
    signal: int = 0
    reason: str = ""
    message: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    container_id: str = msgspec.field(default="", name="containerID")


class ContainerState(WireStruct, frozen=True):
    """At most one of waiting, running and terminated is set."""

    waiting: ContainerStateWaiting | None = None
    running: ContainerStateRunning | None = None
    terminated: ContainerStateTerminated | None = None


class ContainerStatus(WireStruct, frozen=True):
    name: str
    ready: bool = False
    restart_count: int = 0
    image: str = ""
    image_id: str = msgspec.field(default="", name="imageID")
    container_id: str = msgspec.field(default="", name="containerID")
    started: bool | None = None
    state: ContainerState = msgspec.field(default_factory=ContainerState)
    last_state: ContainerState = msgspec.field(default_factory=ContainerState)


class PodIP(WireStruct, frozen=True):
    ip: str


class PodStatus(WireStruct, frozen=True):
    phase: PodPhase = ""
    conditions: list[PodCondition] = msgspec.field(default_factory=list)
    message: str = ""
    reason: str = ""
    nominated_node_name: str = ""
    host_ip: str = msgspec.field(default="", name="hostIP")
    host_ips: list[PodIP] = msgspec.field(default_factory=list, name="hostIPs")
    pod_ip: str = msgspec.field(default="", name="podIP")
    pod_ips: list[PodIP] = msgspec.field(default_factory=list, name="podIPs")
    start_time: str | None = None
    init_container_statuses: list[ContainerStatus] = msgspec.field(default_factory=list)
    container_statuses: list[ContainerStatus] = msgspec.field(default_factory=list)
    qos_class: str = msgspec.field(default="", name="qosClass")


EMPTY_POD_STATUS = PodStatus()
"""The status of a pod made without one: one object for all of them, as nothing
changes an API object in place (building one per pod was a fifth of a client's cost
of making a pod: a struct and five empty lists)."""


class Pod(ApiObject, frozen=True):
    """A pod. `apiVersion` and `kind` are always written, as on the wire."""

    api_version: str = "v1"
    kind: str = "Pod"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
    status: PodStatus = EMPTY_POD_STATUS


class PodTemplateSpec(WireStruct, frozen=True):
    """The pod a controller (ReplicaSet, Deployment) stamps out."""

    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodSpec = msgspec.field(default_factory=PodSpec)
