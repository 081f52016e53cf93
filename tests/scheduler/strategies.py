"""Hypothesis strategies for scheduler tests: nodes and pods in the Kubernetes wire format."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from kubeactors.api import Pod
from kubeactors.scheduler import Cache, PodInfo, node_view_from, pod_info_from

MiB = 2**20

TAINTS = [
    {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
    {"key": "spot", "effect": "PreferNoSchedule"},
    {"key": "maintenance", "value": "soon", "effect": "NoExecute"},
    {"key": "team", "value": "b", "effect": "PreferNoSchedule"},
]
TOLERATIONS = [
    {"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"},
    {"key": "dedicated", "operator": "Exists"},
    {"key": "spot", "operator": "Exists", "effect": "PreferNoSchedule"},
    {"key": "maintenance", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30},
    {"operator": "Exists"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]
IMAGES = {"app:1": 300 * MiB, "db:2": 900 * MiB, "tiny:3": 5 * MiB}
LABELS = {"zone": ["a", "b", "c"], "disk": ["ssd", "hdd"], "rank": ["1", "2", "10"]}


@st.composite
def node_data(draw: st.DrawFn, index: int) -> dict[str, Any]:
    labels = {
        key: draw(st.sampled_from(values)) for key, values in LABELS.items() if draw(st.booleans())
    }
    allocatable = {
        "cpu": f"{draw(st.integers(0, 4000))}m",
        "memory": f"{draw(st.integers(0, 4096))}Mi",
        "pods": str(draw(st.integers(0, 6))),
    }
    if draw(st.booleans()):
        allocatable["example.com/gpu"] = str(draw(st.integers(0, 2)))
    images = draw(st.lists(st.sampled_from(sorted(IMAGES)), unique=True, max_size=2))
    return {
        "metadata": {"name": f"n{index}", "labels": labels},
        "spec": {
            "unschedulable": draw(st.integers(0, 5)) == 0,
            "taints": draw(
                st.lists(st.sampled_from(TAINTS), unique_by=lambda t: t["key"], max_size=2)
            ),
        },
        "status": {
            "allocatable": allocatable,
            "images": [{"names": [name], "sizeBytes": IMAGES[name]} for name in images],
        },
    }


def requirement() -> st.SearchStrategy[dict[str, Any]]:
    def make(key: str, operator: str, values: list[str]) -> dict[str, Any]:
        if operator in ("Exists", "DoesNotExist"):
            return {"key": key, "operator": operator}
        if operator in ("Gt", "Lt"):
            number = values[0] if values[0].isdigit() else "2"
            return {"key": key, "operator": operator, "values": [number]}
        return {"key": key, "operator": operator, "values": values}

    return st.builds(
        make,
        st.sampled_from(sorted(LABELS)),
        st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]),
        st.lists(
            st.sampled_from(["a", "b", "ssd", "1", "2", "10"]), min_size=1, max_size=2, unique=True
        ),
    )


def node_term() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda exprs, names: {
            "matchExpressions": exprs,
            **(
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": names}]}
                if names
                else {}
            ),
        },
        st.lists(requirement(), max_size=2),
        st.lists(st.sampled_from(["n0", "n1", "n2"]), max_size=2, unique=True),
    )


@st.composite
def pod_data(draw: st.DrawFn, index: int) -> dict[str, Any]:
    requests: dict[str, str] = {}
    if draw(st.booleans()):
        requests["cpu"] = f"{draw(st.integers(0, 2000))}m"
    if draw(st.booleans()):
        requests["memory"] = f"{draw(st.integers(0, 2048))}Mi"
    if draw(st.integers(0, 4)) == 0:
        requests["example.com/gpu"] = "1"
    container: dict[str, Any] = {"name": "app", "resources": {"requests": requests}}
    if draw(st.booleans()):
        container["image"] = draw(st.sampled_from([*sorted(IMAGES), "other:9"]))
    ports = draw(st.lists(st.sampled_from([8080, 9090]), unique=True, max_size=1))
    if ports:
        container["ports"] = [{"containerPort": p, "hostPort": p} for p in ports]
    spec: dict[str, Any] = {
        "containers": [container],
        "tolerations": draw(st.lists(st.sampled_from(TOLERATIONS), max_size=2)),
    }
    if draw(st.integers(0, 3)) == 0:
        spec["nodeSelector"] = {"zone": draw(st.sampled_from(LABELS["zone"]))}
    affinity: dict[str, Any] = {}
    if draw(st.integers(0, 3)) == 0:
        affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {
            "nodeSelectorTerms": draw(st.lists(node_term(), min_size=1, max_size=2))
        }
    if draw(st.booleans()):
        affinity["preferredDuringSchedulingIgnoredDuringExecution"] = draw(
            st.lists(
                st.builds(
                    lambda w, t: {"weight": w, "preference": t}, st.integers(1, 100), node_term()
                ),
                max_size=2,
            )
        )
    pod_affinity = {
        kind: section
        for kind in ("podAffinity", "podAntiAffinity")
        if (section := draw(pod_affinity_section()))
    }
    spec["affinity"] = {"nodeAffinity": affinity, **pod_affinity}
    if draw(st.booleans()):
        spec["topologySpreadConstraints"] = draw(st.lists(spread_constraint(), max_size=2))
    labels = {
        key: draw(st.sampled_from(values))
        for key, values in POD_LABELS.items()
        if draw(st.booleans())
    }
    namespace = draw(st.sampled_from(["default", "default", "other"]))
    return {
        "metadata": {"name": f"p{index}", "namespace": namespace, "labels": labels},
        "spec": spec,
    }


POD_LABELS = {"app": ["web", "db"], "tier": ["front", "back"]}
TOPOLOGY_KEYS = ["zone", "disk", "kubernetes.io/hostname"]


def label_selector() -> st.SearchStrategy[dict[str, Any]]:
    expression = st.builds(
        lambda key, operator, values: (
            {"key": key, "operator": operator}
            | ({"values": values} if operator in ("In", "NotIn") else {})
        ),
        st.sampled_from(sorted(POD_LABELS)),
        st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
        st.lists(st.sampled_from(["web", "db", "front"]), min_size=1, max_size=2, unique=True),
    )
    return st.builds(
        lambda labels, expressions: {"matchLabels": labels, "matchExpressions": expressions},
        st.dictionaries(
            st.sampled_from(sorted(POD_LABELS)), st.sampled_from(["web", "db", "front"]), max_size=1
        ),
        st.lists(expression, max_size=1),
    )


def affinity_term() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda selector, key, namespaces: {
            "labelSelector": selector,
            "topologyKey": key,
            **namespaces,
        },
        label_selector(),
        st.sampled_from(TOPOLOGY_KEYS),
        st.sampled_from([{}, {"namespaces": ["other"]}, {"namespaceSelector": {}}]),
    )


def pod_affinity_section() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda required, preferred: {
            **({"requiredDuringSchedulingIgnoredDuringExecution": required} if required else {}),
            **({"preferredDuringSchedulingIgnoredDuringExecution": preferred} if preferred else {}),
        },
        st.lists(affinity_term(), max_size=1) | st.just([]),
        st.lists(
            st.builds(
                lambda w, t: {"weight": w, "podAffinityTerm": t},
                st.integers(1, 100),
                affinity_term(),
            ),
            max_size=2,
        ),
    )


def spread_constraint() -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda skew, key, when, selector, min_domains, affinity_policy, taints_policy: {
            "maxSkew": skew,
            "topologyKey": key,
            "whenUnsatisfiable": when,
            "labelSelector": selector,
            **({"minDomains": min_domains} if min_domains else {}),
            "nodeAffinityPolicy": affinity_policy,
            "nodeTaintsPolicy": taints_policy,
        },
        st.integers(1, 3),
        st.sampled_from(TOPOLOGY_KEYS),
        st.sampled_from(["DoNotSchedule", "ScheduleAnyway"]),
        label_selector(),
        st.sampled_from([0, 0, 2, 4]),
        st.sampled_from(["Honor", "Ignore"]),
        st.sampled_from(["Honor", "Ignore"]),
    )


def node_list(max_size: int = 8) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.integers(1, max_size).flatmap(
        lambda n: st.tuples(*(node_data(i) for i in range(n))).map(list)
    )


def pod_list(max_size: int = 10) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.integers(1, max_size).flatmap(
        lambda n: st.tuples(*(pod_data(i) for i in range(n))).map(list)
    )


def cache_of(nodes: list[dict[str, Any]]) -> Cache:
    cache = Cache()
    for node in nodes:
        cache.set_node(node_view_from(node))
    return cache


def info_of(data: dict[str, Any]) -> PodInfo:
    return pod_info_from(data, Pod())


@st.composite
def roomy_node(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """A node any small pod fits on: what matters is its labels."""
    labels = {
        key: draw(st.sampled_from(values))
        for key, values in LABELS.items()
        if draw(st.integers(0, 4))
    }
    return {
        "metadata": {"name": f"n{index}", "labels": labels},
        "status": {"allocatable": {"cpu": "64", "memory": "64Gi", "pods": "100"}},
    }


@st.composite
def affinity_pod(draw: st.DrawFn, index: int) -> dict[str, Any]:
    """A pod with labels and pod (anti-)affinity or spread constraints, and little else."""
    labels = {key: draw(st.sampled_from(values)) for key, values in POD_LABELS.items()}
    spec: dict[str, Any] = {
        "containers": [{"name": "app", "resources": {"requests": {"cpu": "10m"}}}]
    }
    choice = draw(st.integers(0, 3))
    if choice in (0, 2):
        spec["affinity"] = {
            kind: section
            for kind in ("podAffinity", "podAntiAffinity")
            if (section := draw(pod_affinity_section()))
        }
    if choice in (1, 2):
        spec["topologySpreadConstraints"] = draw(
            st.lists(spread_constraint(), min_size=1, max_size=2)
        )
    namespace = draw(st.sampled_from(["default", "default", "default", "other"]))
    return {
        "metadata": {"name": f"p{index}", "namespace": namespace, "labels": labels},
        "spec": spec,
    }


def roomy_node_list(max_size: int = 8) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.integers(1, max_size).flatmap(
        lambda n: st.tuples(*(roomy_node(i) for i in range(n))).map(list)
    )


def affinity_pod_list(max_size: int = 16) -> st.SearchStrategy[list[dict[str, Any]]]:
    return st.integers(1, max_size).flatmap(
        lambda n: st.tuples(*(affinity_pod(i) for i in range(n))).map(list)
    )
