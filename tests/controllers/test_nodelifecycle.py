import asyncio
import functools
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    Lease,
    LeaseSpec,
    Node,
    NodeCondition,
    NodeStatus,
    ObjectMeta,
    Pod,
    Taint,
    Toleration,
)
from kubeactors.client import Client
from kubeactors.controllers import (
    NodeLifecycleController,
    NodeLifecycleSettings,
    TaintEvictionController,
)
from kubeactors.controllers._taints import NOT_READY, UNREACHABLE, eviction_delay, tolerates
from kubeactors.controllers._zones import ZoneQueue, ZoneState, zone_rate, zone_state

from ..api.harness import make_pod, running_api
from .faults import wait_for
from .objects import running

FAST = NodeLifecycleSettings(
    grace_period=1.0, monitor_period=0.1, eviction_qps=100.0, default_toleration_seconds=1
)
_beats = itertools.count()


def _stamp() -> str:
    return f"2026-01-01T00:00:00.{next(_beats):06d}Z"


def ready_node(name: str, status: str = "True") -> Node:
    condition = NodeCondition(type="Ready", status=status, last_heartbeat_time=_stamp())  # type: ignore[arg-type]
    return Node(metadata=ObjectMeta(name=name), status=NodeStatus(conditions=[condition]))


async def renew(client: Client, name: str) -> None:
    lease = await client.get(Lease, name, "kube-node-lease")
    spec = msgspec.structs.replace(lease.spec, renew_time=_stamp())
    await client.update(msgspec.structs.replace(lease, spec=spec))


@asynccontextmanager
async def heartbeats(client: Client, names: list[str]) -> AsyncIterator[None]:
    async with anyio.create_task_group() as group:

        async def beat() -> None:
            while True:
                for name in names:
                    await renew(client, name)
                await anyio.sleep(0.1)

        group.start_soon(beat)
        yield
        group.cancel_scope.cancel()


def _has_taint(node: Node, key: str) -> bool:
    return any(t.key == key and t.effect == "NoExecute" for t in node.spec.taints)


def _by_name(nodes: list[Node], name: str) -> Node:
    return next(n for n in nodes if n.metadata.name == name)


async def test_silent_node_goes_unknown_is_tainted_evicted_and_recovers(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        client = h.client
        for name in ("alive", "silent"):
            await client.create(ready_node(name))
            await client.create(
                Lease(
                    metadata=ObjectMeta(name=name, namespace="kube-node-lease"),
                    spec=LeaseSpec(holder_identity=name, renew_time=_stamp()),
                )
            )
        forever = Toleration(key=UNREACHABLE, operator="Exists", effect="NoExecute")
        brief = Toleration(
            key=UNREACHABLE, operator="Exists", effect="NoExecute", toleration_seconds=1
        )
        doomed = await client.create(make_pod("doomed"))
        doomed = msgspec.structs.replace(
            doomed, spec=msgspec.structs.replace(doomed.spec, tolerations=[brief])
        )
        tolerant = await client.create(make_pod("tolerant"))
        tolerant = msgspec.structs.replace(
            tolerant, spec=msgspec.structs.replace(tolerant.spec, tolerations=[forever])
        )
        await client.update(running(doomed, node="silent"))
        await client.update(running(tolerant, node="silent"))
        await client.update(running(await client.create(make_pod("safe")), node="alive"))
        async with heartbeats(client, ["alive"]):
            ref = h.system.spawn(lambda: NodeLifecycleController(client, FAST), name="nlc")
            evictor = h.system.spawn(lambda: TaintEvictionController(client, 1), name="evict")
            nodes = await wait_for(
                client, Node, lambda nodes: _has_taint(_by_name(nodes, "silent"), UNREACHABLE)
            )
            silent = _by_name(nodes, "silent")
            assert {c.status for c in silent.status.conditions} == {"Unknown"}
            assert not _by_name(nodes, "alive").spec.taints
            pods = await wait_for(client, Pod, lambda pods: len(pods) == 2)
            assert {p.metadata.name for p in pods} == {"tolerant", "safe"}
            # The kubelet comes back: posts Ready and renews its lease.
            await client.update(msgspec.structs.replace(silent, status=ready_node("silent").status))
            await renew(client, "silent")
            nodes = await wait_for(
                client, Node, lambda nodes: not _by_name(nodes, "silent").spec.taints
            )
            assert _by_name(nodes, "silent").status.conditions[0].status == "True"
            assert len((await client.list(Pod)).items) == 2
            await evictor.stop()
            await ref.stop()


async def test_not_ready_node_gets_the_not_ready_taints(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        # A healthy node too: with every zone fully disrupted nothing is tainted.
        await h.client.create(ready_node("healthy"))
        await h.client.create(ready_node("sick", status="False"))
        ref = h.system.spawn(lambda: NodeLifecycleController(h.client, FAST), name="nlc")
        nodes = await wait_for(
            h.client, Node, lambda nodes: _has_taint(_by_name(nodes, "sick"), NOT_READY)
        )
        sick = _by_name(nodes, "sick")
        assert {(t.key, t.effect) for t in sick.spec.taints} == {
            (NOT_READY, "NoSchedule"),
            (NOT_READY, "NoExecute"),
        }
        assert not _by_name(nodes, "healthy").spec.taints
        await ref.stop()


def test_tolerations_match_as_upstream() -> None:
    taint = Taint(key=UNREACHABLE, effect="NoExecute")
    assert tolerates(Toleration(operator="Exists"), taint)
    assert tolerates(Toleration(key=UNREACHABLE, operator="Exists"), taint)
    assert not tolerates(Toleration(key=NOT_READY, operator="Exists"), taint)
    assert not tolerates(Toleration(key=UNREACHABLE, operator="Exists", effect="NoSchedule"), taint)
    assert tolerates(Toleration(key="k", value="v"), Taint(key="k", value="v", effect="NoExecute"))
    assert not tolerates(
        Toleration(key="k", value="v"), Taint(key="k", value="w", effect="NoExecute")
    )


def test_eviction_delay_takes_the_shortest_toleration() -> None:
    taints = [Taint(key=UNREACHABLE, effect="NoExecute")]
    plain = Pod()
    assert eviction_delay(plain, taints, 300) == 300
    assert eviction_delay(plain, taints, None) == 0
    short = Toleration(key=UNREACHABLE, operator="Exists", toleration_seconds=5)
    long = Toleration(operator="Exists", toleration_seconds=50)
    pod = msgspec.structs.replace(
        plain, spec=msgspec.structs.replace(plain.spec, tolerations=[short, long])
    )
    assert eviction_delay(pod, taints, 300) == 5
    assert eviction_delay(pod, [Taint(key="other", effect="NoExecute")], 300) == 50
    assert eviction_delay(plain, [Taint(key="other", effect="NoExecute")], 300) == 0
    assert eviction_delay(plain, [Taint(key="other", effect="NoSchedule")], 300) is None


@given(st.integers(0, 100), st.integers(0, 100))
def test_zone_state_thresholds(ready: int, not_ready: int) -> None:
    state = zone_state(ready, not_ready, 0.55)
    if ready == 0 and not_ready > 0:
        assert state is ZoneState.FULL_DISRUPTION
    elif not_ready > 2 and not_ready / (ready + not_ready) >= 0.55:
        assert state is ZoneState.PARTIAL_DISRUPTION
    else:
        assert state is ZoneState.NORMAL


@pytest.mark.parametrize(
    ("state", "size", "all_full", "rate"),
    [
        (ZoneState.NORMAL, 10, False, 0.1),
        (ZoneState.FULL_DISRUPTION, 10, False, 0.1),
        (ZoneState.PARTIAL_DISRUPTION, 51, False, 0.01),
        (ZoneState.PARTIAL_DISRUPTION, 50, False, 0.0),
        (ZoneState.FULL_DISRUPTION, 10, True, 0.0),
    ],
)
def test_zone_rates_as_upstream(state: ZoneState, size: int, all_full: bool, rate: float) -> None:
    assert rate == zone_rate(
        state,
        size,
        all_fully_disrupted=all_full,
        primary_qps=0.1,
        secondary_qps=0.01,
        large_cluster_threshold=50,
    )


def test_zone_queue_releases_at_its_rate() -> None:
    queue = ZoneQueue(rate=0.1)
    for name in "abc":
        queue.add(name)
    assert queue.take(0.0) == ["a"]
    assert queue.take(5.0) == []
    assert queue.take(10.0) == ["b"]
    queue.rate = 0.0
    assert queue.take(100.0) == []


def test_settings_name_the_bad_field() -> None:
    with pytest.raises(ValueError, match="grace_period"):
        NodeLifecycleSettings(grace_period=0)
    with pytest.raises(ValueError, match="unhealthy_zone_threshold"):
        NodeLifecycleSettings(unhealthy_zone_threshold=2)


async def test_nothing_is_tainted_when_every_zone_is_down(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(ready_node("a", status="False"))
        ref = h.system.spawn(lambda: NodeLifecycleController(h.client, FAST), name="nlc")
        (node,) = await wait_for(h.client, Node, lambda nodes: bool(nodes[0].spec.taints))
        await anyio.sleep(0.5)
        (node,) = (await h.client.list(Node)).items
        assert {(t.key, t.effect) for t in node.spec.taints} == {(NOT_READY, "NoSchedule")}
        await ref.stop()


_LIFECYCLE = """
name: lifecycle
until: 12m
cluster:
  nodes:
    - {name: a, count: 3, zone: za}
    - {name: b, count: 3, zone: zb}
  node_grace: 40s
  toleration: 1m
workloads:
  - {type: deployment, name: web, replicas: 12, cpu: 100m}
faults:
  - {type: node-crash, at: 1m, nodes: [node-0], for: 4m}
  - {type: partition, at: 2m, nodes: [node-4], for: 3m}
  - {type: zone-outage, at: 7m, zone: zb, for: 3m}
"""


def test_the_incremental_pass_writes_what_the_full_pass_writes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Crashes, a partition and a zone outage on the virtual clock: the pass that looks
    only at nodes that changed makes the same writes, in the same order, as the pass
    over every node (the trace holds every write with its revision)."""
    from kubeactors.sim import parse_scenario, run_scenario, runner

    scenario = parse_scenario(_LIFECYCLE)
    incremental = asyncio.run(run_scenario(scenario, seed=1, keep_trace=True))
    monkeypatch.setattr(
        runner, "NodeLifecycleSettings", functools.partial(NodeLifecycleSettings, full_scan=True)
    )
    full = asyncio.run(run_scenario(scenario, seed=1, keep_trace=True))
    assert incremental.evictions > 0
    assert incremental.trace == full.trace


def test_the_ready_heartbeat_is_read_from_the_node_object_at_hand() -> None:
    """The heartbeat kept per node is the one of the Node object it was read from: a
    newer object of the same node (even an equal one) is read again."""
    controller = NodeLifecycleController(client=None)  # type: ignore[arg-type]
    first = ready_node("a")
    beat = first.status.conditions[0].last_heartbeat_time
    assert controller._ready_beat(first) == beat
    assert controller._ready_beat(first) == beat
    newer = ready_node("a")
    later = newer.status.conditions[0].last_heartbeat_time
    assert later != beat
    assert controller._ready_beat(newer) == later
    silent = Node(metadata=ObjectMeta(name="a"))
    assert controller._ready_beat(silent) is None
