"""The node lifecycle controller's incremental pass against its full pass, on random
histories: nodes join, leave and come back, kubelets post Ready, NotReady or nothing,
leases are renewed or lost, the controller's own writes come back late or meet a
conflict, and time moves in steps around the grace period. Both controllers run
against a store of their own; after every step they must have made the same writes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import msgspec
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kubeactors.api import (
    ApiError,
    Lease,
    LeaseSpec,
    Node,
    NodeCondition,
    NodeStatus,
    ObjectMeta,
    WatchEvent,
)
from kubeactors.controllers import NodeLifecycleController, NodeLifecycleSettings
from kubeactors.controllers.nodelifecycle import LEASE_NAMESPACE

_START = datetime(2026, 1, 1, tzinfo=UTC)
_NODES = 6


class _Clock:
    def __init__(self) -> None:
        self.time = 0.0

    def now(self) -> float:
        return self.time

    def wall(self) -> datetime:
        return _START + timedelta(seconds=self.time)


@dataclass
class _Store:
    """Nodes and Leases, written by kubelets (the test) and by the controller; each
    change waits in `pending` until the test lets the informers see it."""

    nodes: dict[str, Node] = field(default_factory=dict)
    leases: dict[str, Lease] = field(default_factory=dict)
    revision: int = 0
    pending: list[WatchEvent[Any]] = field(default_factory=list)
    writes: list[bytes] = field(default_factory=list)
    conflicts: int = 0
    """Controller writes still to fail with a conflict."""

    def put(self, obj: Any, kind: str = "MODIFIED") -> Any:
        self.revision += 1
        meta = msgspec.structs.replace(obj.metadata, resource_version=str(self.revision))
        obj = msgspec.structs.replace(obj, metadata=meta)
        store = self.nodes if isinstance(obj, Node) else self.leases
        if kind == "DELETED":
            del store[meta.name]
        else:
            store[meta.name] = obj
        self.pending.append(WatchEvent(type=kind, object=obj))  # type: ignore[arg-type]
        return obj

    # -- the controller's client ------------------------------------------------------

    async def update(self, node: Node) -> Node:
        current = self._current(node)
        return self._write(msgspec.structs.replace(current, spec=node.spec))

    async def update_status(self, node: Node) -> Node:
        current = self._current(node)
        return self._write(msgspec.structs.replace(current, status=node.status))

    def _current(self, node: Node) -> Node:
        name = node.metadata.name
        current = self.nodes.get(name)
        if current is None:
            raise ApiError.not_found("nodes", name)
        if self.conflicts or current.metadata.resource_version != node.metadata.resource_version:
            self.conflicts = max(0, self.conflicts - 1)
            raise ApiError.conflict("nodes", name)
        return current

    def _write(self, node: Node) -> Node:
        stored: Node = self.put(node)
        self.writes.append(msgspec.json.encode(stored))
        return stored


def _node(name: str, zone: str, ready: str | None, stamp: str) -> Node:
    conditions = (
        [NodeCondition(type="Ready", status=ready, last_heartbeat_time=stamp)]  # type: ignore[arg-type]
        if ready is not None
        else []
    )
    labels = {"topology.kubernetes.io/zone": zone}
    return Node(
        metadata=ObjectMeta(name=name, labels=labels), status=NodeStatus(conditions=conditions)
    )


def _lease(name: str, stamp: str) -> Lease:
    return Lease(
        metadata=ObjectMeta(name=name, namespace=LEASE_NAMESPACE),
        spec=LeaseSpec(holder_identity=name, renew_time=stamp),
    )


class _Run:
    """One controller on its own store and clock."""

    def __init__(self, full_scan: bool) -> None:
        self.clock = _Clock()
        self.store = _Store()
        self.controller = NodeLifecycleController(
            self.store,  # type: ignore[arg-type]
            NodeLifecycleSettings(
                eviction_qps=1.0,
                secondary_eviction_qps=0.5,
                large_cluster_threshold=2,
                full_scan=full_scan,
            ),
        )
        self.controller._context = SimpleNamespace(  # type: ignore[assignment]
            clock=self.clock, send_every=lambda period, message: None
        )
        self.controller.setup()

    async def step(self, step: tuple[Any, ...], index: int) -> None:
        store, stamp = self.store, f"2026-01-01T00:00:00.{index:06d}Z"
        match step:
            case ("join", node, zone, ready):
                name = f"n{node}"
                if name not in store.nodes:
                    store.put(_node(name, f"z{zone}", ready, stamp), "ADDED")
            case ("post", node, ready):
                current = store.nodes.get(f"n{node}")
                if current is not None:
                    fresh = _node(current.metadata.name, "", ready, stamp)
                    store.put(msgspec.structs.replace(current, status=fresh.status))
            case ("renew", node):
                name = f"n{node}"
                lease = store.leases.get(name)
                if lease is None:
                    store.put(_lease(name, stamp), "ADDED")
                else:
                    spec = msgspec.structs.replace(lease.spec, renew_time=stamp)
                    store.put(msgspec.structs.replace(lease, spec=spec))
            case ("touch_lease", node):
                lease = store.leases.get(f"n{node}")
                if lease is not None:  # written again, its renew time kept: no heartbeat
                    spec = msgspec.structs.replace(lease.spec, lease_duration_seconds=index)
                    store.put(msgspec.structs.replace(lease, spec=spec))
            case ("leave", node):
                current = store.nodes.get(f"n{node}")
                if current is not None:
                    store.put(current, "DELETED")
            case ("lose_lease", node):
                lease = store.leases.get(f"n{node}")
                if lease is not None:
                    store.put(lease, "DELETED")
            case ("see", count):
                seen, store.pending = store.pending[:count], store.pending[count:]
                for event in seen:
                    informer = (
                        self.controller.nodes
                        if isinstance(event.object, Node)
                        else self.controller.leases
                    )
                    await informer._apply_events([event])
            case ("conflict",):
                store.conflicts += 1
            case ("wait", seconds):
                self.clock.time += seconds
                await self.controller.monitor()


_node_index = st.integers(0, _NODES - 1)
_ready = st.sampled_from(["True", "True", "False", "Unknown", None])
_steps = st.one_of(
    st.tuples(st.just("join"), _node_index, st.integers(0, 1), _ready),
    st.tuples(st.just("post"), _node_index, _ready),
    st.tuples(st.just("renew"), _node_index),
    st.tuples(st.just("renew"), _node_index),
    st.tuples(st.just("leave"), _node_index),
    st.tuples(st.just("lose_lease"), _node_index),
    st.tuples(st.just("touch_lease"), _node_index),
    st.tuples(st.just("see"), st.integers(1, 8)),
    st.tuples(st.just("see"), st.just(100)),
    st.tuples(st.just("conflict")),
    st.tuples(st.just("wait"), st.sampled_from([1.0, 5.0, 5.0, 10.0, 20.0, 30.0, 41.0])),
)

_JOINED: list[tuple[Any, ...]] = [
    ("join", 0, 0, "True"),
    ("join", 1, 0, "True"),
    ("renew", 0),
    ("renew", 1),
    ("see", 100),
    ("wait", 5.0),
]
"""Two nodes of one zone, Ready, with leases, looked at once."""


async def _replay(steps: list[tuple[Any, ...]]) -> tuple[_Run, _Run]:
    full, incremental = _Run(full_scan=True), _Run(full_scan=False)
    for index, step in enumerate(steps):
        for run in (full, incremental):
            await run.step(step, index)
        assert incremental.store.writes == full.store.writes, f"after step {index}: {step}"
        assert incremental.controller.zone_states == full.controller.zone_states
    return full, incremental


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_steps, max_size=100))
# Two nodes not ready, seen in the order opposite to the informer's: written in its order.
@example([*_JOINED, ("post", 1, "False"), ("post", 0, "False"), ("see", 100), ("wait", 5.0)])
# A lease renewed alone is noted when seen: the node falls silent a grace period after.
@example(
    [
        *_JOINED,
        ("renew", 0),
        ("see", 100),
        ("wait", 20.0),
        ("wait", 20.0),
        ("wait", 5.0),
        ("wait", 10.0),
        ("wait", 20.0),
    ]
)
# A Lease written again without a renewal is no heartbeat.
@example(
    [
        *_JOINED,
        *[step for _ in range(9) for step in (("touch_lease", 0), ("see", 100), ("wait", 5.0))],
    ]
)
# A Lease written again without a renewal, then renewed, both seen before one pass:
# the pass notes the renewal (the Lease as cached now, not as first changed).
@example([*_JOINED, ("touch_lease", 0), ("renew", 0), ("see", 100), *[("wait", 5.0)] * 10])
# A taint write that fails is tried again on the next pass (the one zone, fully
# disrupted, taints nothing for NoExecute: no other write touches the node).
@example(
    [
        ("join", 0, 0, "True"),
        ("renew", 0),
        ("see", 100),
        ("wait", 5.0),
        ("post", 0, "False"),
        ("see", 100),
        ("conflict",),
        ("wait", 5.0),
        ("see", 100),
        ("wait", 5.0),
    ]
)
def test_the_incremental_pass_writes_what_the_full_pass_writes(
    steps: list[tuple[Any, ...]],
) -> None:
    asyncio.run(_replay(steps))


def test_the_model_reaches_every_write() -> None:
    """The model's histories do lead to writes: Unknown, the NoSchedule and NoExecute
    taints, and their removal when the node is Ready again."""
    steps: list[tuple[Any, ...]] = [
        *[("join", node, node % 2, "True") for node in range(4)],
        *[("renew", node) for node in range(4)],
        ("see", 8),
        ("wait", 5.0),
        ("renew", 0),
        ("see", 1),
        ("wait", 41.0),  # nodes 1-3 silent: Unknown, NoSchedule
        ("see", 8),
        ("wait", 5.0),
        ("see", 8),
        ("wait", 5.0),  # their NoExecute taints, at the zones' rates
        ("see", 8),
        ("post", 1, "True"),
        ("renew", 1),
        ("see", 8),
        ("wait", 5.0),  # node 1 back: its taints go
    ]
    full, _ = asyncio.run(_replay(steps))
    written = [msgspec.json.decode(write, type=Node) for write in full.store.writes]
    assert any(c.status == "Unknown" for node in written for c in node.status.conditions)
    effects = {(t.key, t.effect) for node in written for t in node.spec.taints}
    assert ("node.kubernetes.io/unreachable", "NoExecute") in effects
    assert ("node.kubernetes.io/unreachable", "NoSchedule") in effects
    last_of_node1 = [node for node in written if node.metadata.name == "n1"][-1]
    assert last_of_node1.spec.taints == []
