"""The scheduler passes over node updates that change nothing it reads (heartbeats)."""

from __future__ import annotations

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import Node, NodeCondition
from kubeactors.client import Delta
from kubeactors.scheduler import Scheduler
from kubeactors.scheduler._podinfo import node_view
from kubeactors.scheduler._scheduler import _same_view
from kubeactors.testing.strategies import nodes


def _mixed(old: Node, other: Node, take: list[bool], beat: str) -> Node:
    """`old` with each field the scheduler reads taken from `other` where `take` says,
    and a new Ready heartbeat."""
    labels = other.metadata.labels if take[0] else old.metadata.labels
    taints = other.spec.taints if take[1] else old.spec.taints
    unschedulable = (not old.spec.unschedulable) if take[2] else old.spec.unschedulable
    allocatable = other.status.allocatable if take[3] else old.status.allocatable
    capacity = other.status.capacity if take[4] else old.status.capacity
    ready = NodeCondition(type="Ready", status="True", last_heartbeat_time=beat)
    return msgspec.structs.replace(
        old,
        metadata=msgspec.structs.replace(old.metadata, labels=labels),
        spec=msgspec.structs.replace(old.spec, taints=taints, unschedulable=unschedulable),
        status=msgspec.structs.replace(
            old.status, allocatable=allocatable, capacity=capacity, conditions=[ready]
        ),
    )


@given(
    old=nodes("n"),
    other=nodes("n"),
    take=st.lists(st.booleans(), min_size=5, max_size=5),
    beat=st.sampled_from(["2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"]),
)
def test_an_update_is_passed_over_only_when_the_view_stays(
    old: Node, other: Node, take: list[bool], beat: str
) -> None:
    new = _mixed(old, other, take, beat)
    if _same_view(old, new):
        assert node_view(old) == node_view(new)
    if not any(take):
        assert _same_view(old, new)  # a heartbeat alone is passed over


class _Queue:
    """Counts the retries of waiting pods a node change asks for."""

    def __init__(self) -> None:
        self.moves = 0

    def move(self, *_: object) -> None:
        self.moves += 1


@given(node=nodes("n"), other=nodes("n"))
def test_a_heartbeat_leaves_the_node_table_alone_and_a_change_reaches_it(
    node: Node, other: Node
) -> None:
    scheduler = Scheduler(client=None)  # type: ignore[arg-type]
    queue = scheduler._queue = _Queue()  # type: ignore[assignment]
    table = scheduler._cache.table
    scheduler._nodes_changed([Delta("ADDED", node)])
    version, moves = table.node_version, queue.moves
    beat = _mixed(node, other, [False] * 5, "2024-01-01T00:02:00Z")
    scheduler._nodes_changed([Delta("MODIFIED", beat, node)])
    assert (table.node_version, queue.moves) == (version, moves)
    relabelled = _mixed(beat, other, [True, False, False, False, False], "2024-01-01T00:03:00Z")
    scheduler._nodes_changed([Delta("MODIFIED", relabelled, beat)])
    assert scheduler._cache.nodes["n"].view == node_view(relabelled)
    if relabelled.metadata.labels != beat.metadata.labels:
        assert table.node_version > version
        assert queue.moves == moves + 1  # new labels may let a waiting pod's selector hold
