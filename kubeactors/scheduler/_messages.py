"""What the scheduler actor is told: informer batches, bind failures, its own ticks."""

from __future__ import annotations

import msgspec

from ..actors import Reply
from ..api import Node, Pod
from ..client import Delta

__all__ = [
    "BindFailed",
    "ExpireAssumed",
    "Inspect",
    "NodesChanged",
    "PodsChanged",
    "Requeue",
    "ScheduleMore",
    "SchedulerMessage",
    "SchedulerSnapshot",
]


class NodesChanged(msgspec.Struct, frozen=True):
    deltas: list[Delta[Node]]


class PodsChanged(msgspec.Struct, frozen=True):
    deltas: list[Delta[Pod]]


class BindFailed(msgspec.Struct, frozen=True):
    """Binding `pod` (a "namespace/name" key) to `node` failed: forget and retry."""

    pod: str
    node: str
    reason: str


class ExpireAssumed(msgspec.Struct, frozen=True):
    """Time to forget assumptions whose bind has not been answered for too long."""


class Requeue(msgspec.Struct, frozen=True):
    pod: str


class ScheduleMore(msgspec.Struct, frozen=True):
    """Continue with the queue after letting other messages in."""


class SchedulerSnapshot(msgspec.Struct, frozen=True):
    """Counters and queues, for tests and the CLI."""

    scheduled: int
    bind_failures: int
    pending: list[str]
    unschedulable: list[str]
    nodes: int


class Inspect(msgspec.Struct, frozen=True):
    reply: Reply[SchedulerSnapshot]


SchedulerMessage = (
    NodesChanged | PodsChanged | BindFailed | ExpireAssumed | Requeue | ScheduleMore | Inspect
)
