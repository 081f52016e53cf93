"""Pods nominated by preemption keep their room, as upstream's nominator, in both engines."""

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeactors.scheduler import Engine, Handle, PodInfo, load_configuration

from .strategies import cache_of, info_of, node_list, pod_list
from .test_plugins import Cluster, _node, _pod, engine_name

__all__ = ["engine_name"]


def _with_priority(data: dict[str, Any], priority: int, **spec: Any) -> dict[str, Any]:
    return {**data, "spec": {**data["spec"], "priority": priority, **spec}}


def _nominate(cluster: Cluster, data: dict[str, Any], node: str) -> PodInfo:
    info = info_of(data)
    cluster.cache.nominate(info, node)
    return info


def test_a_nominated_pod_keeps_its_room_from_lower_and_equal_priorities(
    engine_name: str,
) -> None:
    cluster = Cluster([_node("big", cpu="1"), _node("small", cpu="500m")], engine_name)
    _nominate(cluster, _with_priority(_pod("preemptor", cpu="800m"), 10), "big")
    # Without the reservation "big" (the emptier node) would win.
    assert cluster.place(_with_priority(_pod("lower", cpu="300m"), 5)) == "small"
    assert cluster.place(_with_priority(_pod("equal", cpu="150m"), 10)) == "big"
    assert cluster.place(_with_priority(_pod("equal2", cpu="250m"), 10)) == ""
    assert cluster.last.message == "0/2 nodes are available: 2 Insufficient cpu."


def test_a_higher_priority_pod_ignores_the_reservation(engine_name: str) -> None:
    cluster = Cluster([_node("big", cpu="1"), _node("small", cpu="500m")], engine_name)
    _nominate(cluster, _with_priority(_pod("preemptor", cpu="800m"), 10), "big")
    assert cluster.place(_with_priority(_pod("higher", cpu="300m"), 20)) == "big"


def test_a_nominated_pod_goes_to_its_node_first_and_then_holds_nothing(engine_name: str) -> None:
    cluster = Cluster([_node("big", cpu="4"), _node("small", cpu="1")], engine_name)
    data = _with_priority(_pod("preemptor", cpu="800m"), 10)
    preemptor = _nominate(cluster, data, "small")
    result = cluster.engine.schedule(preemptor)
    assert (result.node, result.evaluated, result.feasible) == ("small", 1, 1)
    cluster.cache.add(preemptor, "small", assumed=True)
    cluster.cache.forget_nomination(preemptor.key)
    assert not cluster.cache.nominated
    # Counted once, as placed, and no longer reserved: "small" takes what fits.
    assert cluster.place(_with_priority(_pod("after", cpu="200m"), 0, nodeName="small")) == "small"
    assert cluster.cache.nodes["small"].requested["cpu"] == 1000


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    node_list(),
    pod_list(max_size=4),
    pod_list(max_size=6),
    st.lists(st.tuples(st.integers(0, 7), st.integers(0, 3)), max_size=4),
    st.lists(st.integers(0, 3), min_size=6, max_size=6),
    st.integers(0, 2**16),
)
def test_engines_agree_with_nominated_pods(
    nodes: list[dict[str, Any]],
    nominated: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    where: list[tuple[int, int]],
    priorities: list[int],
    seed: int,
) -> None:
    outcomes = []
    for engine in ("vectorised", "reference"):
        cache = cache_of(nodes)
        profile = load_configuration().build(Handle(cache))["default-scheduler"]
        scheduler = Engine(profile, cache, random.Random(seed), engine=engine)
        for data, (node, priority) in zip(nominated, where, strict=False):
            info = info_of(_with_priority(data, priority))
            info.key = f"nominated/{info.key}"
            cache.nominate(info, nodes[node % len(nodes)]["metadata"]["name"])
        seen = []
        for data, priority in zip(pods, priorities, strict=False):
            info = info_of(_with_priority(data, priority))
            evaluated = scheduler.evaluate(info)
            result = scheduler.schedule(info)
            seen.append((evaluated, result.node, result.message if not result.node else ""))
            if result.node:
                cache.add(info, result.node, assumed=True)
        outcomes.append(seen)
    assert outcomes[0] == outcomes[1]
