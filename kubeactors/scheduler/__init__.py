"""The scheduler: a node table of numpy columns and the actor that binds pods to nodes."""

from ._messages import (
    BindFailed,
    ExpireAssumed,
    Inspect,
    NodesChanged,
    PodsChanged,
    Requeue,
    ScheduleMore,
    SchedulerMessage,
    SchedulerSnapshot,
)
from ._scheduler import Scheduler
from ._table import NodeTable

__all__ = [
    "BindFailed",
    "ExpireAssumed",
    "Inspect",
    "NodeTable",
    "NodesChanged",
    "PodsChanged",
    "Requeue",
    "ScheduleMore",
    "Scheduler",
    "SchedulerMessage",
    "SchedulerSnapshot",
]
