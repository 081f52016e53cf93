"""The scheduler: queue, framework, default plugins, columnar node table and the actor."""

from ._cache import Cache, NodeInfo, Placement
from ._engine import ENGINES, Engine, ScheduleResult, feasible_nodes_to_find
from ._messages import (
    BindFailed,
    ExpireAssumed,
    FlushQueues,
    Inspect,
    NodesChanged,
    ObjectsChanged,
    PodsChanged,
    Requeue,
    ScheduleMore,
    SchedulerMessage,
    SchedulerSnapshot,
)
from ._parsed import ParsedPods, signature_of
from ._podinfo import NodeView, PodInfo, node_view, node_view_from, pod_info, pod_info_from
from ._profile import Profile
from ._scheduler import Scheduler
from ._selectors import SelectorError
from ._table import NodeTable
from .config import ConfigError, SchedulerConfiguration, load_configuration, plugin_registry
from .framework import Handle
from .queue import QueuedPod, SchedulingQueue

__all__ = [
    "ENGINES",
    "BindFailed",
    "Cache",
    "ConfigError",
    "Engine",
    "ExpireAssumed",
    "FlushQueues",
    "Handle",
    "Inspect",
    "NodeInfo",
    "NodeTable",
    "NodeView",
    "NodesChanged",
    "ObjectsChanged",
    "ParsedPods",
    "Placement",
    "PodInfo",
    "PodsChanged",
    "Profile",
    "QueuedPod",
    "Requeue",
    "ScheduleMore",
    "ScheduleResult",
    "Scheduler",
    "SchedulerConfiguration",
    "SchedulerMessage",
    "SchedulerSnapshot",
    "SchedulingQueue",
    "SelectorError",
    "feasible_nodes_to_find",
    "load_configuration",
    "node_view",
    "node_view_from",
    "plugin_registry",
    "pod_info",
    "pod_info_from",
    "signature_of",
]
