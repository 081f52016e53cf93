"""Behaviour of the default plugins on upstream's tricky cases, in both engines."""

import random
from typing import Any

import pytest

from kubeactors.scheduler import Engine, Handle, load_configuration, node_view_from

from .strategies import cache_of, info_of


def _node(
    name: str, cpu: str = "4", labels: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
        "status": {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"}},
    }


def _pod(
    name: str, cpu: str = "100m", labels: dict[str, str] | None = None, **spec: Any
) -> dict[str, Any]:
    container = {"name": "app", "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}}}
    return {
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"containers": [container], **spec},
    }


@pytest.fixture(params=["vectorised", "reference"])
def engine_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


class Cluster:
    def __init__(self, nodes: list[dict[str, Any]], engine: str) -> None:
        self.cache = cache_of(nodes)
        profile = load_configuration().build(Handle(self.cache))["default-scheduler"]
        self.engine = Engine(profile, self.cache, random.Random(0), engine=engine)

    def place(self, data: dict[str, Any]) -> str:
        """Schedule and assume (never bind) the pod; '' if it fits nowhere."""
        info = info_of(data)
        result = self.engine.schedule(info)
        if result.node:
            self.cache.add(info, result.node, assumed=True)
        self.last = result
        return result.node


def test_the_failure_message_counts_reasons_as_upstream(engine_name: str) -> None:
    taint = {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}
    nodes = [_node(f"small{i}", cpu="1") for i in range(3)]
    nodes += [_node(f"gpu{i}", taints=[taint]) for i in range(2)]
    cluster = Cluster(nodes, engine_name)
    assert cluster.place(_pod("big", cpu="2")) == ""
    assert cluster.last.message == (
        "0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, "
        "3 Insufficient cpu."
    )


def test_no_execute_taints_are_tolerated_for_placement_whatever_the_seconds(
    engine_name: str,
) -> None:
    taint = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}
    cluster = Cluster([_node("n", taints=[taint])], engine_name)
    assert cluster.place(_pod("plain")) == ""
    assert cluster.last.message == (
        "0/1 nodes are available: "
        "1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }."
    )
    brief = {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 5,
    }
    assert cluster.place(_pod("brief", tolerations=[brief])) == "n"
    wrong_effect = {**brief, "effect": "NoSchedule"}
    assert cluster.place(_pod("wrong", tolerations=[wrong_effect])) == ""


def _spread(when: str, skew: int = 1) -> list[dict[str, Any]]:
    return [
        {
            "maxSkew": skew,
            "topologyKey": "zone",
            "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": {"app": "web"}},
        }
    ]


def test_hard_spread_refuses_a_skewed_zone_and_soft_spread_only_prefers(engine_name: str) -> None:
    nodes = [_node("a1", labels={"zone": "a"}), _node("b1", cpu="1", labels={"zone": "b"})]
    cluster = Cluster(nodes, engine_name)
    web = {"app": "web"}
    placed = [
        cluster.place(
            _pod(f"w{i}", cpu="1", labels=web, topologySpreadConstraints=_spread("DoNotSchedule"))
        )
        for i in range(3)
    ]
    # a, b alternate until b is full; then a would make the skew 2 > 1.
    assert sorted(placed[:2]) == ["a1", "b1"]
    assert placed[2] == "a1"
    assert (
        cluster.place(
            _pod("w3", cpu="1", labels=web, topologySpreadConstraints=_spread("DoNotSchedule"))
        )
        == ""
    )
    assert (
        cluster.last.message == "0/2 nodes are available: 1 Insufficient cpu, "
        "1 node(s) didn't match pod topology spread constraints."
    )
    soft = cluster.place(
        _pod("w4", cpu="1", labels=web, topologySpreadConstraints=_spread("ScheduleAnyway"))
    )
    assert soft == "a1"


def test_soft_spread_prefers_the_emptier_zone(engine_name: str) -> None:
    nodes = [_node(f"{zone}{i}", labels={"zone": zone}) for zone in "ab" for i in range(2)]
    cluster = Cluster(nodes, engine_name)
    web = {"app": "web"}
    zones = [
        cluster.place(
            _pod(f"w{i}", labels=web, topologySpreadConstraints=_spread("ScheduleAnyway"))
        )[0]
        for i in range(6)
    ]
    assert zones.count("a") == zones.count("b") == 3


def test_anti_affinity_counts_pods_assumed_but_not_yet_bound(engine_name: str) -> None:
    nodes = [_node(f"n{i}") for i in range(3)]
    cluster = Cluster(nodes, engine_name)
    anti = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchLabels": {"color": "green"}},
                    "topologyKey": "kubernetes.io/hostname",
                }
            ]
        }
    }
    green = {"color": "green"}
    placed = [cluster.place(_pod(f"g{i}", labels=green, affinity=anti)) for i in range(3)]
    assert sorted(placed) == ["n0", "n1", "n2"]
    assert cluster.place(_pod("g3", labels=green, affinity=anti)) == ""
    assert (
        cluster.last.message
        == "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
    )
    # A pod without the rule is still kept off by the existing pods' anti-affinity.
    assert cluster.place(_pod("plain", labels=green)) == ""
    assert "existing pods anti-affinity" in cluster.last.message
    assert cluster.place(_pod("other", labels={"color": "blue"})) != ""


def test_pod_affinity_follows_the_first_pod_of_a_series(engine_name: str) -> None:
    nodes = [_node(f"{zone}{i}", labels={"zone": zone}) for zone in "ab" for i in range(3)]
    cluster = Cluster(nodes, engine_name)
    term = {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "zone"}
    affinity = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    first = cluster.place(_pod("db0", labels={"app": "db"}, affinity=affinity))
    assert first  # no db pod anywhere, and it matches its own term
    zone = first[0]
    for index in range(1, 5):
        assert cluster.place(_pod(f"db{index}", labels={"app": "db"}, affinity=affinity))[0] == zone
    # A pod that needs db pods but is not one waits while none exist elsewhere.
    lonely = {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {**term, "labelSelector": {"matchLabels": {"app": "cache"}}}
            ]
        }
    }
    assert cluster.place(_pod("needs-cache", affinity=lonely)) == ""


def _replica(cluster: Cluster, index: int) -> str:
    """Schedule replica `index` of one hard-spread template and assume it where it went."""
    info = info_of(
        _pod(
            f"w{index}",
            labels={"app": "web"},
            topologySpreadConstraints=_spread("DoNotSchedule"),
        )
    )
    info.signature = b"web replica"
    result = cluster.engine.schedule(info)
    if result.node:
        cluster.cache.add(info, result.node, assumed=True)
    return result.node


def test_hard_spread_of_one_template_follows_a_node_changing_zone(engine_name: str) -> None:
    # Replicas share a signature: what the spread plugin derives from the nodes alone
    # is kept between them, and must not outlive a node's change.
    nodes = [_node(f"{zone}1", labels={"zone": zone}) for zone in "abc"]
    cluster = Cluster(nodes, engine_name)

    assert sorted(_replica(cluster, i) for i in range(3)) == ["a1", "b1", "c1"]
    # c1 moves to zone a: a holds two replicas, b one, so the next must go to b.
    cluster.cache.set_node(node_view_from(_node("c1", labels={"zone": "a"})))
    assert _replica(cluster, 3) == "b1"


def test_hard_spread_of_one_template_survives_a_row_for_a_node_not_seen_yet(
    engine_name: str,
) -> None:
    # A pod bound to a node the scheduler has not seen yet gets a row of its own (not
    # present): what the spread plugin kept from the last replica is then stale.
    cluster = Cluster([_node(f"{zone}1", labels={"zone": zone}) for zone in "ab"], engine_name)

    assert _replica(cluster, 0)
    cluster.cache.add(info_of(_pod("elsewhere")), "not-seen-yet", assumed=False)
    assert _replica(cluster, 1)
