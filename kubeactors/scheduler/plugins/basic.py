"""The small default plugins: PrioritySort, SchedulingGates, NodeName, NodeUnschedulable,
DefaultBinder."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._cache import NodeInfo
from .._podinfo import PodInfo, Taint
from .._table import BoolArray
from ..framework import (
    BindPlugin,
    Code,
    CycleState,
    FilterPlugin,
    PreEnqueuePlugin,
    QueueSortPlugin,
    Snapshot,
    Status,
)

__all__ = ["DefaultBinder", "NodeName", "NodeUnschedulable", "PrioritySort", "SchedulingGates"]

UNSCHEDULABLE_TAINT = Taint("node.kubernetes.io/unschedulable", "", "NoSchedule")


class PrioritySort(QueueSortPlugin):
    """Higher priority first, then earlier arrival."""

    name = "PrioritySort"

    def sort_key(self, pod: PodInfo, arrival: float) -> tuple[Any, ...]:
        return (-pod.priority, arrival)


class SchedulingGates(PreEnqueuePlugin):
    """A pod with scheduling gates waits outside the active queue until they are gone."""

    name = "SchedulingGates"

    def pre_enqueue(self, pod: PodInfo) -> Status | None:
        if pod.gates:
            return Status(
                Code.UNRESOLVABLE,
                (f"waiting for scheduling gates: [{' '.join(pod.gates)}]",),
                self.name,
            )
        return None


class NodeName(FilterPlugin):
    name = "NodeName"
    node_local = True
    reads_placed_pods = False
    reason = "node(s) didn't match the requested node name"

    def filter_all(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> BoolArray | None:
        if not pod.node_name:
            return None
        table = snapshot.cache.table
        mask: BoolArray = np.zeros(table.size, np.bool_)
        row = table.find(pod.node_name)
        if row is not None:
            mask[row] = True
        return mask

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if pod.node_name and pod.node_name != node.name:
            return Status.unschedulable(self.reason, resolvable=False)
        return None


class NodeUnschedulable(FilterPlugin):
    """A cordoned node takes only pods that tolerate its unschedulable taint."""

    name = "NodeUnschedulable"
    node_local = True
    reads_placed_pods = False
    reason = "node(s) were unschedulable"

    def _tolerated(self, pod: PodInfo) -> bool:
        return any(t.tolerates(UNSCHEDULABLE_TAINT) for t in pod.tolerations)

    def filter_all(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> BoolArray | None:
        if self._tolerated(pod):
            return None
        table = snapshot.cache.table
        schedulable: BoolArray = table.schedulable[: table.size]
        return schedulable

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        if node.view is not None and node.view.unschedulable and not self._tolerated(pod):
            return Status.unschedulable(self.reason, resolvable=False)
        return None


class DefaultBinder(BindPlugin):
    """Binds through the API server (the scheduler actor sends the binding)."""

    name = "DefaultBinder"
