"""The vectorised and reference engines agree: feasible nodes, scores, choices, messages."""

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeactors.scheduler import Cache, Engine, Handle, load_configuration

from .strategies import (
    affinity_pod_list,
    cache_of,
    info_of,
    node_list,
    pod_list,
    roomy_node_list,
)


def _engines(
    nodes: list[dict[str, Any]], seed: int, config: str | None = None
) -> list[tuple[Engine, Cache]]:
    pairs = []
    for engine in ("vectorised", "reference"):
        cache = cache_of(nodes)
        profile = load_configuration(config).build(Handle(cache))["default-scheduler"]
        pairs.append((Engine(profile, cache, random.Random(seed), engine=engine), cache))
    return pairs


def _run_both(pairs: list[tuple[Engine, Cache]], pods: list[dict[str, Any]]) -> None:
    (vectorised, v_cache), (reference, r_cache) = pairs
    for data in pods:
        info = info_of(data)
        assert vectorised.evaluate(info) == reference.evaluate(info)
        chosen, expected = vectorised.schedule(info), reference.schedule(info)
        assert chosen.node == expected.node
        if not chosen.node:
            assert chosen.message == expected.message
            continue
        v_cache.add(info, chosen.node, assumed=True)
        r_cache.add(info_of(data), expected.node, assumed=True)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(node_list(), pod_list(), st.integers(0, 2**16))
def test_engines_agree_with_the_default_profile(
    nodes: list[dict[str, Any]], pods: list[dict[str, Any]], seed: int
) -> None:
    _run_both(_engines(nodes, seed), pods)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(roomy_node_list(), affinity_pod_list(), st.integers(0, 2**16))
def test_engines_agree_on_pod_affinity_and_topology_spread(
    nodes: list[dict[str, Any]], pods: list[dict[str, Any]], seed: int
) -> None:
    _run_both(_engines(nodes, seed), pods)


STRATEGIES = [
    "type: MostAllocated",
    "type: LeastAllocated\n"
    "        resources: [{name: cpu, weight: 3}, {name: example.com/gpu, weight: 2}]",
    "type: RequestedToCapacityRatio\n        requestedToCapacityRatio:\n"
    "          shape: [{utilization: 0, score: 10}, {utilization: 60, score: 3},"
    " {utilization: 100, score: 7}]",
]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(node_list(), pod_list(), st.integers(0, 2**16), st.sampled_from(STRATEGIES))
def test_engines_agree_with_every_scoring_strategy(
    nodes: list[dict[str, Any]], pods: list[dict[str, Any]], seed: int, strategy: str
) -> None:
    config = f"""
profiles:
- pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        {strategy}
  - name: NodeResourcesBalancedAllocation
    args: {{resources: [{{name: cpu}}, {{name: memory}}, {{name: example.com/gpu}}]}}
"""
    _run_both(_engines(nodes, seed, config), pods)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(100, 400), st.integers(0, 2**16), st.integers(0, 60))
def test_sampling_visits_the_same_nodes_in_both_engines(
    nodes: int, seed: int, percentage: int
) -> None:
    rng = random.Random(seed)
    data = [
        {
            "metadata": {"name": f"n{i}"},
            "status": {
                "allocatable": {"cpu": f"{rng.randrange(0, 4000)}m", "memory": "4Gi", "pods": "20"}
            },
        }
        for i in range(nodes)
    ]
    pods = [
        {
            "metadata": {"name": f"p{i}"},
            "spec": {"containers": [{"name": "a", "resources": {"requests": {"cpu": "300m"}}}]},
        }
        for i in range(30)
    ]
    pairs = _engines(data, seed, f"percentageOfNodesToScore: {percentage}")
    _run_both(pairs, pods)
    assert pairs[0][0].next_start == pairs[1][0].next_start
