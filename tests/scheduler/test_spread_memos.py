"""What soft spreading keeps between a template's replicas goes stale with the cluster.

The default constraints of one pod signature are kept until a workload changes, and
the per-domain sums of a constraint are kept and brought up to date from the changes
to its count column (`MatchLog`): replicas placed around pods added and removed
outside the runs, Services appearing, logs overrunning, land where the reference
engine puts them.
"""

import math
import random
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeactors.api import ReplicaSet, Service
from kubeactors.scheduler import Engine, Handle, PodInfo, ScheduleResult, load_configuration
from kubeactors.scheduler import _cache as cache_module
from kubeactors.scheduler._selectors import LabelSelector, Requirement
from kubeactors.scheduler.plugins.topology_spread import PodTopologySpread

from .strategies import cache_of, info_of

ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"
WEB = {"app": "web"}


def _node(name: str, zone: str | None, cpu: int) -> dict[str, Any]:
    labels = {HOSTNAME: name, **({ZONE: zone} if zone else {})}
    return {
        "metadata": {"name": name, "labels": labels},
        "status": {"allocatable": {"cpu": f"{cpu}m", "memory": "64Gi", "pods": "110"}},
    }


def _pod(name: str, labels: dict[str, str], owned: bool, cpu: int = 100) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "default", "labels": labels}
    if owned:
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-1", "uid": "rs"}
            | {"controller": True}
        ]
    container = {"name": "app", "resources": {"requests": {"cpu": f"{cpu}m"}}}
    return {"metadata": meta, "spec": {"containers": [container]}}


def _replica(index: int, owned: bool = True) -> PodInfo:
    info = info_of(_pod(f"web-{index}", WEB, owned))
    info.signature = b"the web template"
    return info


_REPLICA_SET = msgspec.convert(
    {
        "metadata": {"name": "web-1", "namespace": "default"},
        "spec": {"selector": {"matchLabels": WEB}},
    },
    ReplicaSet,
)
_SERVICE = msgspec.convert(
    {"metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": WEB}}, Service
)


def _engine(nodes: list[dict[str, Any]], name: str, seed: int) -> Engine:
    cache = cache_of(nodes)
    profile = load_configuration().build(Handle(cache))["default-scheduler"]
    return Engine(profile, cache, random.Random(seed), engine=name)


def _place(engine: Engine, pods: list[PodInfo], runs: bool) -> list[str]:
    placed: list[str] = []

    def assume(pod: PodInfo, result: ScheduleResult) -> None:
        engine.cache.add(pod, result.node, assumed=True)

    while runs and pods:
        results = engine.schedule_run(pods, assume)
        placed.extend(result.node for result in results)
        pods = pods[len(results) :]
    for pod in pods:
        result = engine.schedule(pod)
        placed.append(result.node)
        if result.node:
            assume(pod, result)
    return placed


Step = tuple[str, int]


def _play(
    nodes: list[dict[str, Any]], steps: list[Step], name: str, runs: bool, seed: int
) -> list[str]:
    """Place replicas of one template as `steps` say, with pods of the same workload
    added and removed in between (as the informer brings them)."""
    engine = _engine(nodes, name, seed)
    cache = engine.cache
    cache.workloads.apply(_REPLICA_SET, deleted=False)
    placed: list[str] = []
    replicas = 0
    for step, (action, amount) in enumerate(steps):
        if action == "place":
            pods = [_replica(replicas + i) for i in range(amount)]
            replicas += amount
            landed = _place(engine, pods, runs)
            placed += landed
            for pod, node in zip(pods, landed, strict=False):
                if node:
                    cache.placed[pod.key].assumed = False
        elif action == "remove":
            keys = sorted(cache.placed)
            if keys:
                cache.remove(keys[amount % len(keys)])
        elif action == "foreign":
            node = nodes[amount % len(nodes)]["metadata"]["name"]
            info = info_of(_pod(f"other-{len(cache.placed)}-{step}", WEB, owned=False))
            cache.add(info, node, assumed=False)
        else:
            cache.workloads.apply(_SERVICE, deleted=action == "unserve")
    return placed


def _step() -> st.SearchStrategy[Step]:
    return st.one_of(
        st.tuples(st.just("place"), st.integers(1, 8)),
        st.tuples(st.sampled_from(["remove", "foreign"]), st.integers(0, 50)),
        st.tuples(st.sampled_from(["serve", "unserve"]), st.just(0)),
    )


@st.composite
def _zoned_nodes(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(2, 9))
    # Mostly every node in a zone (the keyed path); sometimes one without.
    unzoned = draw(st.sampled_from([None, None, None, 0]))
    return [
        _node(
            f"n{i}",
            None if i == unzoned else draw(st.sampled_from("abc")),
            draw(st.sampled_from([600, 1000, 4000])),
        )
        for i in range(count)
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _zoned_nodes(),
    st.lists(_step(), min_size=1, max_size=12),
    st.sampled_from([1024, 2, 1]),
    st.integers(0, 2**16),
)
def test_replicas_around_changes_to_their_workload_land_as_the_reference_places_them(
    nodes: list[dict[str, Any]], steps: list[Step], log_size: int, seed: int
) -> None:
    # `log_size` small: the kept sums often find their changes dropped and sum again.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cache_module, "MATCH_LOG_SIZE", log_size)
        as_runs = _play(nodes, steps, "vectorised", True, seed)
        one_by_one = _play(nodes, steps, "vectorised", False, seed)
    reference = _play(nodes, steps, "reference", False, seed)
    assert as_runs == one_by_one == reference


def test_default_constraints_follow_a_service_that_appears_between_replicas() -> None:
    # "big" is the emptiest node by far: unspread, every replica goes there.
    nodes = [_node("big", "a", 64000), _node("small1", "b", 8000), _node("small2", "c", 8000)]
    outcomes = []
    for name in ("vectorised", "reference"):
        engine = _engine(nodes, name, 0)
        # Not owned by the ReplicaSet: only a Service makes them a workload.
        first = _place(engine, [_replica(i, owned=False) for i in range(3)], runs=True)
        engine.cache.workloads.apply(_SERVICE, deleted=False)
        spread = _place(engine, [_replica(i, owned=False) for i in range(3, 7)], runs=True)
        outcomes.append(first + spread)
    assert outcomes[0] == outcomes[1]
    # Three on "big" while unspread; then the small nodes, with nothing on them yet.
    assert outcomes[0][:3] == ["big"] * 3
    assert set(outcomes[0][3:]) == {"small1", "small2"}


def test_kept_domain_sums_take_in_pods_counted_since() -> None:
    # Zone a holds two nodes, zone b one: after four pods of the workload are counted
    # on n0 outside any run, zone a is the crowded one, though n1 itself is empty.
    nodes = [_node("n0", "a", 64000), _node("n1", "a", 64000), _node("n2", "b", 64000)]
    steps: list[Step] = [("place", 1), *[("foreign", 0)] * 4, ("place", 4)]
    placed = _play(nodes, steps, "vectorised", True, 0)
    assert placed == _play(nodes, steps, "reference", False, 0)
    assert placed[1:3] == ["n2", "n2"]


def test_count_columns_take_in_pods_of_a_signature_met_before_their_selector() -> None:
    # What a pod signature matches is kept: a selector asked about later must still
    # count the pods of signatures met before it.
    cache = cache_of([_node("n0", "a", 4000)])
    other = LabelSelector((Requirement("app", "In", ("db",)),))
    cache.match_counts(((other, frozenset({"default"})),))
    first = _replica(0)
    cache.add(first, "n0", assumed=True)
    selector = LabelSelector((Requirement("app", "In", ("web",)),))
    column = cache.match_counts(((selector, frozenset({"default"})),))
    row = cache.table.find("n0")
    assert row is not None
    assert column[row] == 1
    cache.add(_replica(1), "n0", assumed=True)
    assert column[row] == 2
    cache.remove(first.key)
    assert column[row] == 1


def test_window_codes_are_kept_only_for_windows_that_cannot_change() -> None:
    # A run's windows are read-only arrays of their own: their zone codes and weight
    # are kept by identity. A writable window may change in place: never kept.
    nodes = [_node(f"n{i}", "ab"[i % 2], 4000) for i in range(6)]
    engine = _engine(nodes, "vectorised", 0)
    engine.cache.workloads.apply(_REPLICA_SET, deleted=False)
    plugin = next(p for p in engine.profile.pre_score if isinstance(p, PodTopologySpread))
    pod = _replica(0)
    constraints, require_all = plugin._constraints(pod, engine.cache)
    soft = [c for c in constraints if not c.hard]
    memo = plugin._soft_domains_of(pod, soft, require_all, engine.cache)
    zone = next(d for c, d in zip(soft, memo.domains, strict=True) if c.topology_key == ZONE)

    def window(rows: npt.NDArray[np.intp]) -> tuple[list[int], int]:
        codes, weight = plugin._window_codes(zone, rows)
        return codes.tolist(), round(math.exp(weight)) - 2  # the distinct zones

    def expected(rows: npt.NDArray[np.intp]) -> tuple[list[int], int]:
        codes = zone.codes[rows].tolist()
        return codes, len(set(codes))

    writable = np.array([0, 2], np.intp)  # both in zone a
    assert window(writable) == expected(writable)
    writable[1] = 1  # zone b now
    assert window(writable) == expected(writable)
    assert expected(writable)[1] == 2
    frozen = np.array([0, 1, 2], np.intp)
    frozen.flags.writeable = False
    assert window(frozen) == window(frozen) == expected(frozen)
    assert [kept for kept, _, _ in zone.windows.values()] == [frozen]
    view = frozen[:1]  # read-only, but a view of another array: not kept either
    assert window(view) == expected(view)
    assert len(zone.windows) == 1
