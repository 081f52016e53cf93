"""What the scheduler actor is told: informer batches, bind failures, its own ticks."""

from __future__ import annotations

from typing import Any

import msgspec

from ..actors import Reply
from ..api import Node, Pod
from ..client import Delta

__all__ = [
    "BindFailed",
    "ExpireAssumed",
    "FlushQueues",
    "Inspect",
    "NodesChanged",
    "ObjectsChanged",
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


class ObjectsChanged(msgspec.Struct, frozen=True):
    """Namespaces (their labels, for namespaceSelectors), Services, ReplicaSets and
    ReplicationControllers (for default spreading) changed."""

    deltas: list[Delta[Any]]


class BindFailed(msgspec.Struct, frozen=True):
    """Binding `pod` (a "namespace/name" key) to `node` failed: forget and retry."""

    pod: str
    node: str
    reason: str


class ExpireAssumed(msgspec.Struct, frozen=True):
    """Time to forget assumptions whose bind has not been answered for too long."""


class FlushQueues(msgspec.Struct, frozen=True):
    """Time to move pods whose back-off ended (and long-unschedulable pods) to activeQ."""


class Requeue(msgspec.Struct, frozen=True):
    pod: str


class ScheduleMore(msgspec.Struct, frozen=True):
    """Continue with the queue after letting other messages in."""


class SchedulerSnapshot(msgspec.Struct, frozen=True):
    """Counters and queues, for tests, benchmarks and the CLI."""

    scheduled: int
    """Scheduling decisions made (a pod retried after a failed bind counts again)."""
    bind_failures: int
    pending: list[str]
    """Pods known to be unbound and not assumed anywhere."""
    unschedulable: list[str]
    """Pods whose last attempt found no node, waiting for the cluster to change."""
    nodes: int
    bound: int = 0
    """Pods the scheduler has seen bound (by itself or by anyone else)."""
    assumed: int = 0
    """Pods placed by the scheduler whose binding it has not yet seen stored."""
    queued: int = 0
    """Pods waiting in the active queue for their turn."""
    gated: list[str] = msgspec.field(default_factory=list)
    """Pods held back by scheduling gates."""
    attempts: int = 0
    """Scheduling attempts made (successful or not)."""
    preemptions: int = 0
    """Pods deleted to make room for higher-priority pods."""
    attempt_seconds: list[float] = msgspec.field(default_factory=list)
    """How long recent scheduling attempts took (only when asked for)."""


class Inspect(msgspec.Struct, frozen=True):
    reply: Reply[SchedulerSnapshot]
    latencies: bool = False
    """Include the recent attempts' durations."""


SchedulerMessage = (
    NodesChanged
    | PodsChanged
    | ObjectsChanged
    | BindFailed
    | ExpireAssumed
    | FlushQueues
    | Requeue
    | ScheduleMore
    | Inspect
)
