"""What the scheduler reads of a pod and a node, parsed once from the wire format.

Reading the Kubernetes JSON shape (camelCase keys) rather than the typed structs
keeps the plugins independent of how the API types spell their fields, and gives
every plugin pre-parsed selectors, tolerations and requests instead of re-reading
the object per node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import msgspec

from ..api import Node, Pod, parse_cpu, parse_memory
from ._selectors import (
    LabelSelector,
    NodeSelectorTerm,
    Requirement,
    SelectorError,
    parse_label_selector,
    parse_node_selector_term,
)

__all__ = [
    "DEFAULT_MEMORY_REQUEST",
    "DEFAULT_MILLI_CPU_REQUEST",
    "HOSTNAME_LABEL",
    "AffinityTerm",
    "HostPort",
    "NodeView",
    "PodInfo",
    "SpreadConstraint",
    "Taint",
    "Toleration",
    "WeightedNodeTerm",
    "WeightedTerm",
    "controller_of",
    "node_view",
    "node_view_from",
    "normalized_image",
    "pod_info",
    "pod_info_from",
]

DEFAULT_MILLI_CPU_REQUEST = 100
"""What scoring assumes a container without a cpu request uses (upstream's value)."""
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
"""What scoring assumes a container without a memory request uses (upstream's value)."""

HOSTNAME_LABEL = "kubernetes.io/hostname"


@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    value: str
    effect: str

    def __str__(self) -> str:
        return f"{{{self.key}: {self.value}}}"


@dataclass(frozen=True, slots=True)
class Toleration:
    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: str = ""
    seconds: int | None = None
    """tolerationSeconds: how long a NoExecute taint is tolerated (the scheduler ignores it)."""

    def tolerates(self, taint: Taint) -> bool:
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        if self.operator == "Exists":
            return True
        return self.value == taint.value


@dataclass(frozen=True, slots=True)
class HostPort:
    protocol: str
    ip: str
    port: int

    def conflicts(self, other: HostPort) -> bool:
        if self.port != other.port or self.protocol != other.protocol:
            return False
        return self.ip == other.ip or "0.0.0.0" in (self.ip, other.ip)


@dataclass(frozen=True, slots=True)
class AffinityTerm:
    """A pod (anti-)affinity term: pods matching `selector` in `namespaces` (or in a
    namespace whose labels match `namespace_selector`), by topology."""

    selector: LabelSelector | None
    namespaces: frozenset[str] | None
    """None: every namespace (an empty namespaceSelector)."""
    topology_key: str
    namespace_selector: LabelSelector | None = None
    """A non-empty namespaceSelector: namespaces whose labels match it count too."""

    def matches(
        self, labels: dict[str, str], namespace: str, namespace_labels: dict[str, str] | None = None
    ) -> bool:
        """True if a pod with `labels` in `namespace` (labelled `namespace_labels`) matches."""
        if self.selector is None:
            return False
        if self.namespaces is not None and namespace not in self.namespaces:
            selector = self.namespace_selector
            if selector is None or not selector.matches(namespace_labels or {}):
                return False
        return self.selector.matches(labels)

    def resolved(self, namespace_labels: dict[str, dict[str, str]]) -> AffinityTerm:
        """This term with its namespaceSelector turned into the namespaces it selects
        now, as upstream's PreFilter merges them (`namespace_labels`: by namespace)."""
        selector = self.namespace_selector
        if selector is None:
            return self
        selected = {name for name, labels in namespace_labels.items() if selector.matches(labels)}
        return AffinityTerm(
            self.selector, (self.namespaces or frozenset()) | selected, self.topology_key
        )


@dataclass(frozen=True, slots=True)
class WeightedTerm:
    weight: int
    term: AffinityTerm


@dataclass(frozen=True, slots=True)
class WeightedNodeTerm:
    weight: int
    term: NodeSelectorTerm


@dataclass(frozen=True, slots=True)
class SpreadConstraint:
    max_skew: int
    topology_key: str
    when_unsatisfiable: str
    selector: LabelSelector | None
    min_domains: int = 1
    node_affinity_policy: str = "Honor"
    node_taints_policy: str = "Ignore"

    @property
    def hard(self) -> bool:
        return self.when_unsatisfiable == "DoNotSchedule"


@dataclass(slots=True)
class PodInfo:
    """A pod as the scheduler sees it; built once per pod version."""

    pod: Pod
    key: str
    namespace: str
    labels: dict[str, str]
    priority: int = 0
    requests: dict[str, int] = field(default_factory=dict)
    """cpu in millicores, the rest in units; always has "pods": 1."""
    nonzero_cpu: int = 0
    nonzero_memory: int = 0
    tolerations: tuple[Toleration, ...] = ()
    node_selector: dict[str, str] = field(default_factory=dict)
    required_node_terms: tuple[NodeSelectorTerm, ...] | None = None
    preferred_node_terms: tuple[WeightedNodeTerm, ...] = ()
    host_ports: tuple[HostPort, ...] = ()
    images: tuple[str, ...] = ()
    spread: tuple[SpreadConstraint, ...] = ()
    affinity: tuple[AffinityTerm, ...] = ()
    anti_affinity: tuple[AffinityTerm, ...] = ()
    preferred_affinity: tuple[WeightedTerm, ...] = ()
    preferred_anti_affinity: tuple[WeightedTerm, ...] = ()
    gates: tuple[str, ...] = ()
    node_name: str = ""
    nominated_node: str = ""
    preemption_policy: str = "PreemptLowerPriority"
    scheduler_name: str = "default-scheduler"
    terminating: bool = False
    start_time: str = ""
    owner: tuple[str, str] = ("", "")
    """(kind, name) of the ReplicaSet or ReplicationController controlling the pod."""
    signature: bytes = b""
    """Equal for pods that schedule alike (see `ParsedPods`); empty: unlike any other."""

    @property
    def has_pod_affinity(self) -> bool:
        return bool(
            self.affinity
            or self.anti_affinity
            or self.preferred_affinity
            or self.preferred_anti_affinity
        )


@dataclass(slots=True)
class NodeView:
    """A node's labels, taints, allocatable amounts and images."""

    name: str
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    unschedulable: bool
    allocatable: dict[str, int]
    images: dict[str, int]
    """Image name -> size in bytes."""


def _amount(resource: str, quantity: Any, where: str) -> int:
    try:
        return parse_cpu(str(quantity)) if resource == "cpu" else parse_memory(str(quantity))
    except ValueError as error:
        raise SelectorError(f"{where}[{resource!r}]: {error}") from None


def _container_requests(container: dict[str, Any], where: str) -> dict[str, int]:
    requests = (container.get("resources") or {}).get("requests") or {}
    return {
        name: _amount(name, value, f"{where}.resources.requests")
        for name, value in requests.items()
    }


def _term(data: Any, namespace: str, where: str) -> AffinityTerm:
    if not isinstance(data, dict) or not data.get("topologyKey"):
        raise SelectorError(f"{where}.topologyKey: required")
    selector = parse_label_selector(data.get("labelSelector"), f"{where}.labelSelector")
    namespaces: frozenset[str] | None = frozenset(data.get("namespaces") or ())
    ns_selector = data.get("namespaceSelector")
    by_labels: LabelSelector | None = None
    if ns_selector is not None:
        if ns_selector in ({}, {"matchLabels": {}}, {"matchExpressions": []}):
            namespaces = None  # an empty selector selects every namespace
        else:
            by_labels = parse_label_selector(ns_selector, f"{where}.namespaceSelector")
    elif not namespaces:
        namespaces = frozenset({namespace})
    return AffinityTerm(selector, namespaces, str(data["topologyKey"]), by_labels)


def _terms(data: Any, namespace: str, where: str) -> tuple[AffinityTerm, ...]:
    return tuple(_term(item, namespace, f"{where}[{i}]") for i, item in enumerate(data or ()))


def _weighted(data: Any, namespace: str, where: str) -> tuple[WeightedTerm, ...]:
    return tuple(
        WeightedTerm(
            int(item.get("weight", 0)),
            _term(item.get("podAffinityTerm"), namespace, f"{where}[{i}].podAffinityTerm"),
        )
        for i, item in enumerate(data or ())
    )


def pod_info(pod: Pod) -> PodInfo:
    """Parse `pod`; raises `SelectorError` naming the field of a malformed part."""
    return pod_info_from(msgspec.to_builtins(pod), pod)


def pod_info_from(data: dict[str, Any], pod: Pod) -> PodInfo:
    """Parse a pod's wire form (`pod` is what binding will write back)."""
    meta = data.get("metadata") or {}
    spec = data.get("spec") or {}
    status = data.get("status") or {}
    namespace = meta.get("namespace") or "default"
    info = PodInfo(
        pod=pod,
        key=f"{namespace}/{meta.get('name', '')}",
        namespace=namespace,
        labels=dict(meta.get("labels") or {}),
        priority=int(spec.get("priority") or 0),
        node_name=spec.get("nodeName") or "",
        nominated_node=status.get("nominatedNodeName") or "",
        preemption_policy=spec.get("preemptionPolicy") or "PreemptLowerPriority",
        scheduler_name=spec.get("schedulerName") or "default-scheduler",
        terminating=bool(meta.get("deletionTimestamp")),
        start_time=status.get("startTime") or meta.get("creationTimestamp") or "",
    )
    info.owner = controller_of(meta.get("ownerReferences") or ())
    requests: dict[str, int] = {}
    cpu = memory = 0
    images = []
    ports = []
    for index, container in enumerate(spec.get("containers") or ()):
        where = f"spec.containers[{index}]"
        own = _container_requests(container, where)
        for name, amount in own.items():
            requests[name] = requests.get(name, 0) + amount
        cpu += own.get("cpu", DEFAULT_MILLI_CPU_REQUEST)
        memory += own.get("memory", DEFAULT_MEMORY_REQUEST)
        if container.get("image"):
            images.append(normalized_image(str(container["image"])))
        for port in container.get("ports") or ():
            if port.get("hostPort"):
                ports.append(
                    HostPort(
                        port.get("protocol") or "TCP",
                        port.get("hostIP") or "0.0.0.0",
                        int(port["hostPort"]),
                    )
                )
    for index, container in enumerate(spec.get("initContainers") or ()):
        own = _container_requests(container, f"spec.initContainers[{index}]")
        for name, amount in own.items():
            requests[name] = max(requests.get(name, 0), amount)
        cpu = max(cpu, own.get("cpu", DEFAULT_MILLI_CPU_REQUEST))
        memory = max(memory, own.get("memory", DEFAULT_MEMORY_REQUEST))
    for name, value in (spec.get("overhead") or {}).items():
        amount = _amount(name, value, "spec.overhead")
        requests[name] = requests.get(name, 0) + amount
        if name == "cpu":
            cpu += amount
        elif name == "memory":
            memory += amount
    requests = {name: amount for name, amount in requests.items() if amount}
    requests["pods"] = 1
    info.requests = requests
    info.nonzero_cpu = cpu
    info.nonzero_memory = memory
    info.images = tuple(images)
    info.host_ports = tuple(ports)
    info.tolerations = tuple(
        Toleration(
            str(t.get("key") or ""),
            str(t.get("operator") or "Equal"),
            str(t.get("value") or ""),
            str(t.get("effect") or ""),
            t.get("tolerationSeconds"),
        )
        for t in spec.get("tolerations") or ()
    )
    info.node_selector = dict(spec.get("nodeSelector") or {})
    info.gates = tuple(str(g.get("name", "")) for g in spec.get("schedulingGates") or ())
    affinity = spec.get("affinity") or {}
    node_affinity = affinity.get("nodeAffinity") or {}
    required = node_affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is not None:
        where = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
        info.required_node_terms = tuple(
            parse_node_selector_term(term, f"{where}.nodeSelectorTerms[{i}]")
            for i, term in enumerate(required.get("nodeSelectorTerms") or ())
        )
    where = "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution"
    info.preferred_node_terms = tuple(
        WeightedNodeTerm(
            int(item.get("weight", 0)),
            parse_node_selector_term(item.get("preference"), f"{where}[{i}].preference"),
        )
        for i, item in enumerate(
            node_affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or ()
        )
    )
    for kind, attr in (("podAffinity", "affinity"), ("podAntiAffinity", "anti_affinity")):
        section = affinity.get(kind) or {}
        where = f"spec.affinity.{kind}"
        setattr(
            info,
            attr,
            _terms(
                section.get("requiredDuringSchedulingIgnoredDuringExecution"),
                namespace,
                f"{where}.requiredDuringSchedulingIgnoredDuringExecution",
            ),
        )
        setattr(
            info,
            f"preferred_{attr}",
            _weighted(
                section.get("preferredDuringSchedulingIgnoredDuringExecution"),
                namespace,
                f"{where}.preferredDuringSchedulingIgnoredDuringExecution",
            ),
        )
    info.spread = tuple(
        _spread(item, info.labels, f"spec.topologySpreadConstraints[{i}]")
        for i, item in enumerate(spec.get("topologySpreadConstraints") or ())
    )
    return info


_CONTROLLERS = {("v1", "ReplicationController"), ("apps/v1", "ReplicaSet")}


def controller_of(references: Any) -> tuple[str, str]:
    """(kind, name) of the controller among owner references in wire form, if it is
    a ReplicaSet or a ReplicationController (what default spreading looks at)."""
    for reference in references:
        if reference.get("controller"):
            kind = str(reference.get("kind", ""))
            if (reference.get("apiVersion"), kind) in _CONTROLLERS:
                return kind, str(reference.get("name", ""))
            return "", ""
    return "", ""


def _spread(data: Any, labels: dict[str, str], where: str) -> SpreadConstraint:
    if not isinstance(data, dict):
        raise SelectorError(f"{where}: must be an object")
    max_skew = data.get("maxSkew")
    if not isinstance(max_skew, int) or max_skew < 1:
        raise SelectorError(f"{where}.maxSkew: must be an integer >= 1, got {max_skew!r}")
    if not data.get("topologyKey"):
        raise SelectorError(f"{where}.topologyKey: required")
    when = data.get("whenUnsatisfiable") or "DoNotSchedule"
    if when not in ("DoNotSchedule", "ScheduleAnyway"):
        raise SelectorError(f"{where}.whenUnsatisfiable: unsupported value {when!r}")
    selector = parse_label_selector(data.get("labelSelector"), f"{where}.labelSelector")
    keys = data.get("matchLabelKeys") or ()
    if keys and selector is not None:
        present = {requirement.key for requirement in selector.requirements}
        requirements = list(selector.requirements)
        requirements.extend(
            Requirement(key, "In", (labels[key],))
            for key in keys
            if key in labels and key not in present
        )
        selector = LabelSelector(tuple(sorted(requirements, key=lambda r: (r.key, r.operator))))
    return SpreadConstraint(
        max_skew,
        str(data["topologyKey"]),
        when,
        selector,
        int(data.get("minDomains") or 1),
        data.get("nodeAffinityPolicy") or "Honor",
        data.get("nodeTaintsPolicy") or "Ignore",
    )


def normalized_image(image: str) -> str:
    """Docker's short names mean a tag: `busybox` is `busybox:latest`."""
    last = image.rsplit("/", 1)[-1]
    return image if ":" in last or "@" in last else f"{image}:latest"


def node_view(node: Node) -> NodeView:
    """Parse `node`: labels (with the hostname label if missing), taints, amounts, images."""
    return node_view_from(msgspec.to_builtins(node))


def node_view_from(data: dict[str, Any]) -> NodeView:
    """Parse a node's wire form."""
    meta = data.get("metadata") or {}
    spec = data.get("spec") or {}
    status = data.get("status") or {}
    name = str(meta.get("name", ""))
    labels = dict(meta.get("labels") or {})
    # The kubelet labels its node with its hostname; a node created without the
    # label gets it here, so that hostname topologies work for every node.
    labels.setdefault(HOSTNAME_LABEL, name)
    amounts = status.get("allocatable") or status.get("capacity") or {}
    images: dict[str, int] = {}
    for image in status.get("images") or ():
        for image_name in image.get("names") or ():
            images[normalized_image(str(image_name))] = int(image.get("sizeBytes") or 0)
    return NodeView(
        name=name,
        labels=labels,
        taints=tuple(
            Taint(str(t.get("key", "")), str(t.get("value") or ""), str(t.get("effect", "")))
            for t in spec.get("taints") or ()
        ),
        unschedulable=bool(spec.get("unschedulable")),
        allocatable={
            resource: _amount(resource, value, "status.allocatable")
            for resource, value in amounts.items()
        },
        images=images,
    )
