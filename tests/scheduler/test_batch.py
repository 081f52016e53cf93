"""A run of alike pods placed in one go lands exactly where one-by-one cycles would."""

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeactors.scheduler import (
    Cache,
    Engine,
    Handle,
    PodInfo,
    ScheduleResult,
    load_configuration,
    node_view_from,
)

from .strategies import (
    cache_of,
    info_of,
    node_data,
    node_list,
    pod_data,
    pod_list,
    spread_constraint,
)


def _engine(nodes: list[dict[str, Any]], seed: int, engine: str, config: str | None) -> Engine:
    cache = cache_of(nodes)
    profile = load_configuration(config).build(Handle(cache))["default-scheduler"]
    return Engine(profile, cache, random.Random(seed), engine=engine)


def _replicas(template: dict[str, Any], count: int) -> list[PodInfo]:
    infos = []
    for index in range(count):
        info = info_of(template)
        info.key = f"{info.namespace}/replica-{index}"
        info.signature = b"one template"
        infos.append(info)
    return infos


def _place_one_by_one(engine: Engine, pods: list[PodInfo]) -> list[str]:
    placed = []
    for pod in pods:
        result = engine.schedule(pod)
        placed.append(result.node)
        if result.node:
            engine.cache.add(pod, result.node, assumed=True)
    return placed


def _place_as_runs(engine: Engine, pods: list[PodInfo]) -> list[str]:
    placed: list[str] = []

    def assume(pod: PodInfo, result: ScheduleResult) -> None:
        engine.cache.add(pod, result.node, assumed=True)

    while pods:
        results = engine.schedule_run(pods, assume)
        placed.extend(result.node for result in results)
        pods = pods[len(results) :]
    return placed


def _check(
    nodes: list[dict[str, Any]],
    before: list[dict[str, Any]],
    template: dict[str, Any],
    replicas: int,
    seed: int,
    config: str | None = None,
    changes: list[dict[str, Any]] | None = None,
) -> list[str]:
    """Place `replicas` of `template` (and as many again after each node of
    `changes` is set) in runs, one by one and with the reference engine: all three
    must agree."""
    changes = changes or []
    outcomes = []
    for engine_name, place in (
        ("vectorised", _place_as_runs),
        ("vectorised", _place_one_by_one),
        ("reference", _place_one_by_one),
    ):
        engine = _engine(nodes, seed, engine_name, config)
        _place_one_by_one(engine, [info_of(data) for data in before])
        pods = _replicas(template, replicas * (len(changes) + 1))
        placed = place(engine, pods[:replicas])
        for step, node in enumerate(changes, start=1):
            engine.cache.set_node(node_view_from(node))
            placed += place(engine, pods[step * replicas : (step + 1) * replicas])
        outcomes.append((placed, engine.next_start, engine.rng.getstate(), _usage(engine.cache)))
    assert outcomes[0] == outcomes[1] == outcomes[2]
    return outcomes[0][0]


def _usage(cache: Cache) -> dict[str, dict[str, int]]:
    return {name: dict(node.requested) for name, node in sorted(cache.nodes.items())}


@st.composite
def replica_template(draw: st.DrawFn) -> dict[str, Any]:
    """A pod as `pod_data` draws it, most often without pod affinity or spreading (the
    pods a run places in one go, leaving out the plugins that skip them); some with
    spread constraints but no pod affinity (the spread plugin stays, the affinity one
    is left out); the others check that runs fall back to one by one."""
    data = draw(pod_data(0))
    shape = draw(st.integers(0, 3))
    if shape:
        data["spec"]["affinity"] = {"nodeAffinity": data["spec"]["affinity"]["nodeAffinity"]}
    if shape in (1, 2):
        data["spec"].pop("topologySpreadConstraints", None)
    return data


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    node_list(),
    pod_list(max_size=4),
    replica_template(),
    st.integers(1, 12),
    st.integers(0, 2**16),
)
def test_a_run_places_replicas_as_one_by_one_cycles_would(
    nodes: list[dict[str, Any]],
    before: list[dict[str, Any]],
    template: dict[str, Any],
    replicas: int,
    seed: int,
) -> None:
    _check(nodes, before, template, replicas, seed)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(100, 200),
    st.integers(0, 60),
    st.integers(1, 2),
    st.sampled_from(["", "spot", "team"]),
    st.integers(0, 2**16),
)
def test_runs_sample_the_same_windows_as_one_by_one_cycles(
    count: int, percentage: int, room: int, prefer_no: str, seed: int
) -> None:
    rng = random.Random(seed)
    nodes = [
        {
            "metadata": {"name": f"n{i}", "labels": {"zone": rng.choice("abc")}},
            "spec": {
                "taints": [{"key": prefer_no, "effect": "PreferNoSchedule"}]
                if prefer_no and rng.random() < 0.3
                else []
            },
            "status": {
                "allocatable": {
                    "cpu": f"{rng.randrange(0, 2000)}m",
                    "memory": "4Gi",
                    "pods": str(rng.randrange(0, room + 1)),
                }
            },
        }
        for i in range(count)
    ]
    template = {
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "300m"}}}]},
    }
    replicas = room * count + 1
    placed = _check(nodes, [], template, replicas, seed, f"percentageOfNodesToScore: {percentage}")
    # Enough replicas to fill the cluster: the runs went through nodes filling up and
    # ended on a pod that fits nowhere.
    assert placed[-1] == ""


def test_a_run_asks_plugins_that_skip_its_pods_once_not_per_pod() -> None:
    nodes = [
        {
            "metadata": {"name": f"n{i}", "labels": {"zone": "abc"[i % 3]}},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}},
        }
        for i in range(20)
    ]
    engine = _engine(nodes, 7, "vectorised", None)
    calls: Counter[str] = Counter()

    def counting(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any) -> Any:
            calls[name] += 1
            return method(*args)

        return counted

    for plugin in {*engine.profile.pre_filter, *engine.profile.pre_score}:
        if plugin.name in ("PodTopologySpread", "InterPodAffinity"):
            for method in ("pre_filter", "pre_score"):
                name = f"{plugin.name}.{method}"
                setattr(plugin, method, counting(name, getattr(plugin, method)))
    template = {
        "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "100m"}}}]},
    }
    placed = _place_as_runs(engine, _replicas(template, 10))
    assert all(placed)
    assert len(calls) == 4
    assert set(calls.values()) == {1}, calls


def _spread_template(template: dict[str, Any], constraints: list[dict[str, Any]]) -> dict[str, Any]:
    spec = {**template["spec"], "topologySpreadConstraints": constraints}
    spec["affinity"] = {"nodeAffinity": spec["affinity"]["nodeAffinity"]}
    return {**template, "spec": spec}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    node_list(),
    pod_data(0),
    st.lists(spread_constraint(), min_size=1, max_size=2),
    st.lists(st.tuples(st.integers(0, 7), node_data(0)), min_size=1, max_size=3),
    st.integers(1, 6),
    st.integers(0, 2**16),
)
def test_replicas_between_node_changes_land_as_the_reference_places_them(
    nodes: list[dict[str, Any]],
    template: dict[str, Any],
    constraints: list[dict[str, Any]],
    changes: list[tuple[int, dict[str, Any]]],
    replicas: int,
    seed: int,
) -> None:
    """What the spread plugin keeps for one template's replicas (the domains of its
    constraints, hard and soft) is dropped when a node changes: a node relabelled,
    resized or added between replicas leaves every engine placing the same."""
    # Node `index` (an existing one or a new one) takes the drawn shape.
    renamed = [
        {**node, "metadata": {**node["metadata"], "name": f"n{index}"}} for index, node in changes
    ]
    _check(nodes, [], _spread_template(template, constraints), replicas, seed, changes=renamed)
