"""The scenario model: a cluster's shape, workloads over time and faults over time.

Each part is a frozen `msgspec.Struct` decoded from YAML (see `load_scenario`);
durations are `Duration`s (seconds) written as "30s", "5m" or "24h". Times (`at`,
`until`) count from the start of the run, when every node has registered.
docs/scenarios.md describes every field.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from ..api import Taint, Toleration, parse_cpu, parse_memory
from .duration import Duration

__all__ = [
    "BatchWorkload",
    "ChurnWorkload",
    "ClusterSpec",
    "CrashLoopFault",
    "DeploymentWorkload",
    "Fault",
    "NodeCrashFault",
    "NodeGroup",
    "PartitionFault",
    "ScaleStep",
    "Scenario",
    "SlowStoreFault",
    "Workload",
    "ZoneOutageFault",
]

_Count = Annotated[int, msgspec.Meta(ge=0)]
_Positive = Annotated[int, msgspec.Meta(ge=1)]
_Name = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$")]
_Rate = Annotated[float, msgspec.Meta(ge=0)]


def _check_quantities(cpu: str, memory: str) -> None:
    for field, text in (("cpu", cpu), ("memory", memory)):
        try:
            amount = parse_cpu(text) if field == "cpu" else parse_memory(text)
        except ValueError as error:
            raise ValueError(f"{field}: {error}") from None
        if amount < 0:
            raise ValueError(f"{field}: must not be negative, got {text!r}")


def _positive(field: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise ValueError(f"{field}: must be longer than 0s")


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


# -- the cluster ------------------------------------------------------------------------


class NodeGroup(_Spec, frozen=True):
    """`count` alike nodes: their size, zone, labels and taints.

    Every node carries the labels `sim.kubeactors.io/group: <name>` and, with `zone`
    set, `topology.kubernetes.io/zone: <zone>`, which faults select nodes by.
    """

    name: _Name
    count: _Positive
    cpu: str = "4"
    memory: str = "16Gi"
    pods: Annotated[int, msgspec.Meta(ge=1, le=254)] = 110
    zone: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    taints: list[Taint] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        _check_quantities(self.cpu, self.memory)


class ClusterSpec(_Spec, frozen=True):
    """The nodes, and the timings of heartbeats and of the node lifecycle controller."""

    nodes: Annotated[list[NodeGroup], msgspec.Meta(min_length=1)]
    lease_every: Duration = Duration(10.0)
    """How often each kubelet renews its Lease."""
    status_every: Duration = Duration(60.0)
    """How often each kubelet posts its full status."""
    node_grace: Duration = Duration(40.0)
    """Silence after which a node is Unknown (--node-monitor-grace-period)."""
    eviction_rate: _Rate = 0.1
    """Nodes tainted for eviction per second per healthy zone (--node-eviction-rate)."""
    toleration: Duration = Duration(300.0)
    """How long pods without their own toleration stay on an unreachable node."""

    def __post_init__(self) -> None:
        for field in ("lease_every", "status_every", "node_grace"):
            _positive(field, getattr(self, field))
        names = [group.name for group in self.nodes]
        duplicate = next((name for name in names if names.count(name) > 1), None)
        if duplicate is not None:
            raise ValueError(f"node group {duplicate!r} is defined twice")


# -- workloads ----------------------------------------------------------------------------


class ScaleStep(_Spec, frozen=True):
    at: Duration
    replicas: _Count


class DeploymentWorkload(_Spec, frozen=True, tag="deployment", tag_field="type"):
    """A Deployment of `replicas` pods (label `app: <name>`), created at `at`.

    `scale` changes its replicas later; `start` is each container's start latency.
    """

    name: _Name
    replicas: _Count
    at: Duration = Duration(0.0)
    cpu: str = "100m"
    memory: str = "128Mi"
    start: Duration = Duration(0.0)
    node_selector: dict[str, str] = msgspec.field(default_factory=dict)
    tolerations: list[Toleration] = msgspec.field(default_factory=list)
    scale: list[ScaleStep] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        _check_quantities(self.cpu, self.memory)
        for step in self.scale:
            if step.at < self.at:
                raise ValueError(f"scale: a step at {step.at:g}s comes before the creation")


class BatchWorkload(_Spec, frozen=True, tag="batch", tag_field="type"):
    """`pods` pods that run for `run` and complete, created at `at` and then every `every`
    until `until` (once, without `every`). Named `<name>-<wave>-<n>`, restartPolicy Never."""

    name: _Name
    pods: _Positive
    run: Duration
    at: Duration = Duration(0.0)
    every: Duration | None = None
    until: Duration | None = None
    cpu: str = "100m"
    memory: str = "128Mi"
    node_selector: dict[str, str] = msgspec.field(default_factory=dict)
    tolerations: list[Toleration] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        _check_quantities(self.cpu, self.memory)
        _positive("every", self.every)
        if self.until is not None and self.until < self.at:
            raise ValueError("until: must not come before at")


class ChurnWorkload(_Spec, frozen=True, tag="churn", tag_field="type"):
    """Every `every` from `at` until `until`, delete `pods` pods of Deployment
    `deployment`, picked at random (the seed's): its ReplicaSet replaces them."""

    deployment: _Name
    every: Duration
    pods: _Positive = 1
    at: Duration = Duration(0.0)
    until: Duration | None = None

    def __post_init__(self) -> None:
        _positive("every", self.every)


Workload = DeploymentWorkload | BatchWorkload | ChurnWorkload


# -- faults ----------------------------------------------------------------------------------


class _NodeTargets(_Spec, frozen=True):
    """Which nodes a fault hits: `nodes` by name, else `count` picked at random (the
    seed's) among the running nodes, of `group` if given (all of it without `count`)."""

    at: Duration
    nodes: list[str] = msgspec.field(default_factory=list)
    group: str = ""
    count: _Count = 0
    for_: Duration | None = msgspec.field(default=None, name="for")
    every: Duration | None = None
    until: Duration | None = None

    def __post_init__(self) -> None:
        _positive("for", self.for_)
        _positive("every", self.every)
        if self.nodes and (self.group or self.count):
            raise ValueError("give either nodes, or group and/or count")
        if self.until is not None and self.until < self.at:
            raise ValueError("until: must not come before at")


class NodeCrashFault(_NodeTargets, frozen=True, tag="node-crash", tag_field="type"):
    """Nodes switched off at `at` (kubelet stopped, containers gone), back on after
    `for` (never, without it). With `every`, again each interval until `until`."""


class PartitionFault(_NodeTargets, frozen=True, tag="partition", tag_field="type"):
    """Nodes' kubelets cut off from the API server (no Lease, no status) for `for`;
    their pods keep running."""


class ZoneOutageFault(_Spec, frozen=True, tag="zone-outage", tag_field="type"):
    """Every node of `zone` switched off at `at`, back on after `for`."""

    at: Duration
    zone: str
    for_: Duration | None = msgspec.field(default=None, name="for")

    def __post_init__(self) -> None:
        _positive("for", self.for_)


class SlowStoreFault(_Spec, frozen=True, tag="slow-store", tag_field="type"):
    """Every store request (each commit, each read) takes `latency` longer, for `for`."""

    at: Duration
    latency: Duration
    for_: Duration | None = msgspec.field(default=None, name="for")

    def __post_init__(self) -> None:
        _positive("latency", self.latency)
        _positive("for", self.for_)


class CrashLoopFault(_Spec, frozen=True, tag="crash-loop", tag_field="type"):
    """A bad rollout of Deployment `deployment` at `at`: its new pods' containers fail
    as they start (CrashLoopBackOff); after `for` it is rolled out fixed again."""

    at: Duration
    deployment: _Name
    for_: Duration | None = msgspec.field(default=None, name="for")

    def __post_init__(self) -> None:
        _positive("for", self.for_)


Fault = NodeCrashFault | PartitionFault | ZoneOutageFault | SlowStoreFault | CrashLoopFault

FaultKind = Literal["node-crash", "partition", "zone-outage", "slow-store", "crash-loop"]


# -- the whole -------------------------------------------------------------------------------


class Scenario(_Spec, frozen=True):
    """A cluster, what runs on it and what goes wrong, over `until` of virtual time."""

    cluster: ClusterSpec
    name: str = ""
    description: str = ""
    until: Duration = Duration(3600.0)
    sample_every: Duration = Duration(30.0)
    check_every: Duration = Duration(300.0)
    workloads: list[Workload] = msgspec.field(default_factory=list)
    faults: list[Fault] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        for field in ("until", "sample_every", "check_every"):
            _positive(field, getattr(self, field))
        deployments = [w.name for w in self.workloads if isinstance(w, DeploymentWorkload)]
        created = {w.name: w.at for w in self.workloads if isinstance(w, DeploymentWorkload)}
        duplicate = next((name for name in deployments if deployments.count(name) > 1), None)
        if duplicate is not None:
            raise ValueError(f"workloads: deployment {duplicate!r} is defined twice")
        groups = {group.name for group in self.cluster.nodes}
        known = {name for names in self.node_names().values() for name in names}
        zones = {group.zone for group in self.cluster.nodes if group.zone}
        for index, workload in enumerate(self.workloads):
            if isinstance(workload, ChurnWorkload) and workload.deployment not in deployments:
                raise ValueError(
                    f"workloads[{index}].deployment: no deployment {workload.deployment!r}"
                )
        for index, fault in enumerate(self.faults):
            where = f"faults[{index}]"
            if isinstance(fault, CrashLoopFault):
                if fault.deployment not in deployments:
                    raise ValueError(f"{where}.deployment: no deployment {fault.deployment!r}")
                if fault.at < created[fault.deployment]:
                    raise ValueError(f"{where}.at: comes before deployment {fault.deployment!r}")
            if isinstance(fault, ZoneOutageFault) and fault.zone not in zones:
                raise ValueError(f"{where}.zone: no node group in zone {fault.zone!r}")
            if isinstance(fault, _NodeTargets) and fault.group and fault.group not in groups:
                raise ValueError(f"{where}.group: no node group {fault.group!r}")
            unknown = [name for name in getattr(fault, "nodes", []) if name not in known]
            if unknown:
                raise ValueError(
                    f"{where}.nodes: no node named {unknown[0]!r} (nodes are node-0.."
                    f"node-{len(known) - 1})"
                )

    @property
    def node_count(self) -> int:
        return sum(group.count for group in self.cluster.nodes)

    def node_names(self) -> dict[str, list[str]]:
        """The nodes' names per group, as the runner starts them (node-0, node-1, ...)."""
        names: dict[str, list[str]] = {}
        index = 0
        for group in self.cluster.nodes:
            names[group.name] = [f"node-{index + i}" for i in range(group.count)]
            index += group.count
        return names
