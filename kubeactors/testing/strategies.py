"""Hypothesis strategies for Kubernetes objects: quantities, resource lists, nodes, pods.

Label keys, values and taint keys come from small vocabularies, so that node
selectors, tolerations and taints generated independently still meet each other
often enough for a property to be put to the test.
"""

from __future__ import annotations

from typing import Literal

import msgspec
from hypothesis import strategies as st

from ..api import (
    Affinity,
    Container,
    LabelSelector,
    Node,
    NodeAffinity,
    NodeSelector,
    NodeSelectorRequirement,
    NodeSelectorTerm,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodAffinity,
    PodAffinityTerm,
    PodAntiAffinity,
    PodSpec,
    ResourceRequirements,
    Taint,
    Toleration,
    TopologySpreadConstraint,
)
from ._state import ClusterState

__all__ = [
    "LABEL_KEYS",
    "LABEL_VALUES",
    "TOPOLOGY_KEYS",
    "ZONES",
    "clusters",
    "cpu_quantities",
    "label_selectors",
    "labels",
    "memory_quantities",
    "node_lists",
    "node_selector_requirements",
    "nodes",
    "pod_affinity_terms",
    "pods",
    "quantities",
    "register_strategies",
    "resource_lists",
    "taints",
    "tolerations",
    "topology_spread_constraints",
]

ZONES = ("zone-a", "zone-b", "zone-c")
LABEL_KEYS = ("disktype", "tier", "gpu", "example.com/team")
LABEL_VALUES = ("ssd", "hdd", "web", "db", "yes", "1", "2", "8")
TOPOLOGY_KEYS = ("kubernetes.io/hostname", "topology.kubernetes.io/zone")
"""Every generated node has both labels, so terms over them always find domains."""

_TolerationEffect = Literal["", "NoSchedule", "PreferNoSchedule", "NoExecute"]
_SelectorOperator = Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
_EFFECTS: tuple[_TolerationEffect, ...] = ("", "NoSchedule", "PreferNoSchedule", "NoExecute")
_OPERATORS: tuple[_SelectorOperator, ...] = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")

_DECIMAL_SUFFIXES = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9}
_BINARY_SUFFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


@st.composite
def cpu_quantities(draw: st.DrawFn, min_millis: int = 0, max_millis: int = 64_000) -> str:
    """A CPU quantity between the bounds, in any of its spellings ("1500m", "1.5", "2")."""
    millis = draw(st.integers(min_millis, max_millis))
    spellings = [f"{millis}m"]
    if millis % 1000 == 0:
        spellings.append(str(millis // 1000))
    if millis % 100 == 0:
        whole, tenths = divmod(millis // 100, 10)
        spellings.append(f"{whole}.{tenths}")
    return draw(st.sampled_from(spellings))


@st.composite
def memory_quantities(draw: st.DrawFn, min_bytes: int = 0, max_bytes: int = 2**40) -> str:
    """A byte count between the bounds, spelled with a binary, decimal or exponent suffix."""
    suffix, unit = draw(st.sampled_from(sorted({**_DECIMAL_SUFFIXES, **_BINARY_SUFFIXES}.items())))
    low = -(-min_bytes // unit)
    high = max_bytes // unit
    if low > high:
        # No whole number of this unit fits the bounds: plain bytes always do.
        return str(draw(st.integers(min_bytes, max_bytes)))
    count = draw(st.integers(low, high))
    if suffix in _DECIMAL_SUFFIXES and unit > 1 and draw(st.booleans()):
        return f"{count}e{len(str(unit)) - 1}"
    return f"{count}{suffix}"


def quantities() -> st.SearchStrategy[str]:
    """Any non-negative quantity string: CPU-like or byte-like."""
    return cpu_quantities() | memory_quantities()


@st.composite
def resource_lists(
    draw: st.DrawFn,
    *,
    max_millis: int = 8_000,
    max_bytes: int = 32 * 2**30,
    pods: bool = False,
    required: bool = False,
) -> dict[str, str]:
    """A `requests`-style map of cpu and memory (each may be missing unless `required`).

    With `pods`, a "pods" count too, as node capacity has.
    """
    resources: dict[str, str] = {}
    if required or draw(st.booleans()):
        resources["cpu"] = draw(cpu_quantities(max_millis=max_millis))
    if required or draw(st.booleans()):
        resources["memory"] = draw(memory_quantities(max_bytes=max_bytes))
    if pods:
        resources["pods"] = str(draw(st.integers(0, 110)))
    return resources


def labels(max_size: int = 3) -> st.SearchStrategy[dict[str, str]]:
    """Labels drawn from `LABEL_KEYS` and `LABEL_VALUES`."""
    return st.dictionaries(
        st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES), max_size=max_size
    )


def taints() -> st.SearchStrategy[Taint]:
    return st.builds(
        Taint,
        key=st.sampled_from(LABEL_KEYS),
        value=st.sampled_from(("", *LABEL_VALUES)),
        effect=st.sampled_from(("NoSchedule", "PreferNoSchedule", "NoExecute")),
    )


@st.composite
def tolerations(draw: st.DrawFn) -> Toleration:
    """A toleration: of one key and value (Equal), of a key (Exists), or of everything."""
    effect = draw(st.sampled_from(_EFFECTS))
    kind = draw(st.sampled_from(("equal", "exists", "everything")))
    if kind == "everything":
        return Toleration(operator="Exists", effect=effect)
    key = draw(st.sampled_from(LABEL_KEYS))
    if kind == "exists":
        return Toleration(key=key, operator="Exists", effect=effect)
    value = draw(st.sampled_from(("", *LABEL_VALUES)))
    return Toleration(
        key=key, operator=draw(st.sampled_from(("", "Equal"))), value=value, effect=effect
    )


@st.composite
def nodes(draw: st.DrawFn, name: str | None = None, *, max_taints: int = 2) -> Node:
    """A Ready node with capacity, labels (hostname, zone, a few more) and taints."""
    if name is None:
        name = f"node-{draw(st.integers(0, 9999))}"
    capacity = {
        "cpu": draw(cpu_quantities(min_millis=1000, max_millis=64_000)),
        "memory": draw(memory_quantities(min_bytes=2**30, max_bytes=256 * 2**30)),
        "pods": str(draw(st.integers(1, 110))),
    }
    node_labels = {
        **draw(labels()),
        "kubernetes.io/hostname": name,
        "topology.kubernetes.io/zone": draw(st.sampled_from(ZONES)),
    }
    node_taints = draw(
        st.lists(taints(), max_size=max_taints, unique_by=lambda t: (t.key, t.effect))
    )
    return Node(
        metadata=ObjectMeta(name=name, labels=node_labels),
        spec=NodeSpec(taints=node_taints),
        status=NodeStatus(capacity=capacity, allocatable=dict(capacity)),
    )


def node_lists(min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[list[Node]]:
    """Nodes with distinct names (node-0, node-1, ...)."""
    return st.integers(min_size, max_size).flatmap(
        lambda count: st.tuples(*(nodes(f"node-{index}") for index in range(count))).map(list)
    )


@st.composite
def node_selector_requirements(draw: st.DrawFn) -> NodeSelectorRequirement:
    operator = draw(st.sampled_from(_OPERATORS))
    key = draw(st.sampled_from(LABEL_KEYS))
    if operator in ("Exists", "DoesNotExist"):
        values: list[str] = []
    elif operator in ("Gt", "Lt"):
        values = [str(draw(st.integers(0, 9)))]
    else:
        values = draw(st.lists(st.sampled_from(LABEL_VALUES), min_size=1, max_size=3, unique=True))
    return NodeSelectorRequirement(key=key, operator=operator, values=values)


def _required_node_affinity() -> st.SearchStrategy[Affinity]:
    term = st.builds(
        NodeSelectorTerm,
        match_expressions=st.lists(node_selector_requirements(), min_size=1, max_size=2),
    )
    selector = st.builds(NodeSelector, node_selector_terms=st.lists(term, min_size=1, max_size=2))
    return st.builds(
        Affinity,
        node_affinity=st.builds(
            NodeAffinity, required_during_scheduling_ignored_during_execution=selector
        ),
    )


def label_selectors() -> st.SearchStrategy[LabelSelector]:
    """A selector of one or two labels from the `labels` vocabulary (never empty)."""
    match_labels = st.dictionaries(
        st.sampled_from(LABEL_KEYS), st.sampled_from(LABEL_VALUES), min_size=1, max_size=2
    )
    return st.builds(LabelSelector, match_labels=match_labels)


def pod_affinity_terms() -> st.SearchStrategy[PodAffinityTerm]:
    """A term over hostname or zone, selecting pods by label in the pod's namespace."""
    return st.builds(
        PodAffinityTerm,
        topology_key=st.sampled_from(TOPOLOGY_KEYS),
        label_selector=label_selectors(),
    )


def topology_spread_constraints() -> st.SearchStrategy[TopologySpreadConstraint]:
    return st.builds(
        TopologySpreadConstraint,
        max_skew=st.integers(1, 3),
        topology_key=st.sampled_from(TOPOLOGY_KEYS),
        when_unsatisfiable=st.sampled_from(("DoNotSchedule", "ScheduleAnyway")),
        label_selector=label_selectors(),
    )


@st.composite
def _affinity(draw: st.DrawFn) -> Affinity | None:
    node = draw(st.none() | _required_node_affinity())
    terms = pod_affinity_terms().map(lambda term: [term])
    together = draw(
        st.none()
        | st.builds(PodAffinity, required_during_scheduling_ignored_during_execution=terms)
    )
    apart = draw(
        st.none()
        | st.builds(PodAntiAffinity, required_during_scheduling_ignored_during_execution=terms)
    )
    if node is None and together is None and apart is None:
        return None
    return Affinity(
        node_affinity=node.node_affinity if node is not None else None,
        pod_affinity=together,
        pod_anti_affinity=apart,
    )


@st.composite
def pods(
    draw: st.DrawFn,
    name: str | None = None,
    *,
    namespace: str = "default",
    max_millis: int = 4_000,
    max_bytes: int = 8 * 2**30,
    constrained: bool = True,
) -> Pod:
    """An unbound pod: containers with requests, and (when `constrained`) a node
    selector, required node and pod (anti-)affinity, topology spread constraints,
    tolerations and a priority, each maybe."""
    if name is None:
        name = f"pod-{draw(st.integers(0, 99_999))}"
    requests = resource_lists(max_millis=max_millis, max_bytes=max_bytes)
    containers = draw(
        st.lists(
            st.builds(
                Container,
                name=st.just("c"),
                image=st.just("registry.k8s.io/pause:3.9"),
                resources=st.builds(ResourceRequirements, requests=requests),
            ),
            min_size=1,
            max_size=3,
        )
    )
    containers = [
        Container(name=f"c{index}", image=c.image, resources=c.resources)
        for index, c in enumerate(containers)
    ]
    spec = PodSpec(containers=containers)
    if constrained:
        spec = PodSpec(
            containers=containers,
            node_selector=draw(labels(max_size=1)),
            affinity=draw(_affinity()),
            tolerations=draw(st.lists(tolerations(), max_size=2)),
            topology_spread_constraints=draw(
                st.lists(
                    topology_spread_constraints(),
                    max_size=2,
                    unique_by=lambda c: (c.topology_key, c.when_unsatisfiable),
                )
            ),
            priority=draw(st.none() | st.integers(0, 1000)),
        )
    return Pod(
        metadata=ObjectMeta(name=name, namespace=namespace, labels=draw(labels())), spec=spec
    )


@st.composite
def clusters(
    draw: st.DrawFn, *, min_nodes: int = 1, max_nodes: int = 6, max_pods: int = 12
) -> ClusterState:
    """A whole cluster to place: nodes (node-0...) and unbound pods (pod-0...) for them.

    Pods come in groups made from one template, as a Deployment's do; in about half
    the groups the pods carry the labels their own affinity terms and spread
    constraints select, so that those rules bind the group's pods to each other.
    """
    node_list = draw(node_lists(min_size=min_nodes, max_size=max_nodes))
    pod_list: list[Pod] = []
    while len(pod_list) < max_pods and draw(st.booleans()):
        template = draw(pods())
        if draw(st.booleans()):
            template = _selecting_itself(template)
        for _ in range(draw(st.integers(1, max_pods - len(pod_list)))):
            meta = msgspec.structs.replace(template.metadata, name=f"pod-{len(pod_list)}")
            pod_list.append(msgspec.structs.replace(template, metadata=meta))
    return ClusterState(node_list, pod_list)


def _selecting_itself(pod: Pod) -> Pod:
    """`pod` with the labels its pod affinity terms and spread constraints select."""
    selectors = [c.label_selector for c in pod.spec.topology_spread_constraints]
    affinity = pod.spec.affinity
    if affinity is not None:
        for section in (affinity.pod_affinity, affinity.pod_anti_affinity):
            if section is not None:
                terms = section.required_during_scheduling_ignored_during_execution
                selectors.extend(term.label_selector for term in terms)
    own = dict(pod.metadata.labels)
    for selector in selectors:
        if selector is not None:
            own.update(selector.match_labels)
    return msgspec.structs.replace(pod, metadata=msgspec.structs.replace(pod.metadata, labels=own))


def register_strategies() -> None:
    """Make `st.from_type(Pod)` and friends use these strategies.

    The plugin entry point (`kubeactors._hypothesis_plugin`) does the same lazily, so
    installing kubeactors is enough.
    """
    st.register_type_strategy(Pod, pods())
    st.register_type_strategy(Node, nodes())
    st.register_type_strategy(Taint, taints())
    st.register_type_strategy(Toleration, tolerations())
