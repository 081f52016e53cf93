"""NodeResourcesFit (filter, and LeastAllocated / MostAllocated /
RequestedToCapacityRatio scoring) and NodeResourcesBalancedAllocation."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from .._cache import NodeInfo
from .._podinfo import PodInfo
from .._table import BoolArray, Int64Array, NodeTable
from ..framework import (
    MAX_NODE_SCORE,
    CycleState,
    FilterPlugin,
    Handle,
    PreScorePlugin,
    ScorePlugin,
    Snapshot,
    Status,
)

__all__ = ["NodeResourcesBalancedAllocation", "NodeResourcesFit"]

Rows = npt.NDArray[np.intp]

_DEFAULT_RESOURCES = ({"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1})


def _reason(resource: str) -> str:
    return "Too many pods" if resource == "pods" else f"Insufficient {resource}"


def _resources(args: Mapping[str, Any], field: str) -> list[tuple[str, int]]:
    items = args.get("resources") or _DEFAULT_RESOURCES
    parsed = []
    for index, item in enumerate(items):
        name = item.get("name")
        weight = item.get("weight", 1)
        if not isinstance(name, str) or not name:
            raise ValueError(f"{field}.resources[{index}].name: required")
        if not isinstance(weight, int) or not 1 <= weight <= 100:
            raise ValueError(f"{field}.resources[{index}].weight: must be 1..100, got {weight!r}")
        parsed.append((name, weight))
    return parsed


def _pod_amount(pod: PodInfo, resource: str, nonzero: bool) -> int:
    if nonzero and resource == "cpu":
        return pod.nonzero_cpu
    if nonzero and resource == "memory":
        return pod.nonzero_memory
    return pod.requests.get(resource, 0)


def _node_requested(node: NodeInfo, resource: str, nonzero: bool) -> int:
    if nonzero and resource == "cpu":
        return node.nonzero_cpu
    if nonzero and resource == "memory":
        return node.nonzero_memory
    return node.requested.get(resource, 0)


def _column_requested(table: NodeTable, resource: str, nonzero: bool) -> Int64Array:
    table.resource_column(resource)
    column: Int64Array = table.requested[resource]
    if nonzero and resource == "cpu":
        column = table.nonzero_cpu
    elif nonzero and resource == "memory":
        column = table.nonzero_memory
    return column


def _trunc_div(a: Int64Array, b: int) -> Int64Array:
    """Integer division rounding toward zero, as Go's."""
    quotient: Int64Array = np.abs(a) // abs(b)
    return np.where((a < 0) != (b < 0), -quotient, quotient)


def _go_div(a: int, b: int) -> int:
    return -(-a // b) if (a < 0) != (b < 0) else a // b


class _Shape:
    """RequestedToCapacityRatio's broken-linear function (scores 0..10 scaled to 0..100)."""

    def __init__(self, points: list[Any]) -> None:
        if not points:
            raise ValueError("scoringStrategy.requestedToCapacityRatio.shape: must not be empty")
        self.points = [
            (int(point["utilization"]), int(point["score"]) * (MAX_NODE_SCORE // 10))
            for point in points
        ]

    def __call__(self, utilization: int) -> int:
        points = self.points
        for index, (at, score) in enumerate(points):
            if utilization <= at:
                if index == 0:
                    return score
                before, low = points[index - 1]
                return low + _go_div((score - low) * (utilization - before), at - before)
        return points[-1][1]

    def array(self, utilization: Int64Array) -> Int64Array:
        points = self.points
        result = np.full(len(utilization), points[-1][1], np.int64)
        done = np.zeros(len(utilization), np.bool_)
        for index, (at, score) in enumerate(points):
            here = ~done & (utilization <= at)
            if index == 0:
                result[here] = score
            else:
                before, low = points[index - 1]
                result[here] = low + _trunc_div(
                    (score - low) * (utilization[here] - before), at - before
                )
            done |= here
        return result


class NodeResourcesFit(FilterPlugin, ScorePlugin):
    """Filters nodes without room for the pod's requests; scores by a strategy."""

    name = "NodeResourcesFit"
    node_local = True

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        strategy = args.get("scoringStrategy") or {}
        self.strategy = strategy.get("type", "LeastAllocated")
        if self.strategy not in ("LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"):
            raise ValueError(f"scoringStrategy.type: unsupported value {self.strategy!r}")
        self.resources = _resources(strategy, "scoringStrategy")
        self.shape: _Shape | None = None
        if self.strategy == "RequestedToCapacityRatio":
            ratio = strategy.get("requestedToCapacityRatio") or {}
            self.shape = _Shape(ratio.get("shape") or [])

    # -- filter --------------------------------------------------------------------

    def _wanted(self, pod: PodInfo) -> list[tuple[str, int]]:
        return [(resource, amount) for resource, amount in pod.requests.items() if amount > 0]

    def filter_all(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> BoolArray | None:
        table = snapshot.cache.table
        n = table.size
        mask: BoolArray | None = None
        for resource, amount in self._wanted(pod):
            table.resource_column(resource)
            fits = table.free[resource][:n] >= amount
            mask = fits if mask is None else mask & fits
        return mask

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        allocatable = node.view.allocatable if node.view is not None else {}
        reasons = [
            _reason(resource)
            for resource, amount in self._wanted(pod)
            if allocatable.get(resource, 0) - node.requested.get(resource, 0) < amount
        ]
        return Status.unschedulable(*reasons) if reasons else None

    def reasons(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: Rows
    ) -> Counter[str]:
        table = snapshot.cache.table
        counts: Counter[str] = Counter()
        for resource, amount in self._wanted(pod):
            short = int((table.free[resource][rows] < amount).sum())
            if short:
                counts[_reason(resource)] = short
        return counts

    # -- score ---------------------------------------------------------------------

    def _resource_score(self, requested: Any, allocatable: Any) -> Any:
        """Per resource, as upstream's scorers; works on ints and on arrays alike."""
        if self.strategy == "LeastAllocated":
            return np.where(
                requested > allocatable,
                0,
                (allocatable - requested) * MAX_NODE_SCORE // np.maximum(allocatable, 1),
            )
        if self.strategy == "MostAllocated":
            return np.minimum(requested, allocatable) * MAX_NODE_SCORE // np.maximum(allocatable, 1)
        assert self.shape is not None
        utilization = np.where(
            requested > allocatable, 100, requested * 100 // np.maximum(allocatable, 1)
        )
        return self.shape.array(np.atleast_1d(utilization))

    def score_all(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: Rows
    ) -> Int64Array:
        table = snapshot.cache.table
        total = np.zeros(len(rows), np.int64)
        weights = np.zeros(len(rows), np.int64)
        for resource, weight in self.resources:
            table.resource_column(resource)
            allocatable = table.alloc[resource][rows]
            requested = _column_requested(table, resource, True)[rows] + _pod_amount(
                pod, resource, True
            )
            counted = allocatable > 0
            total += np.where(counted, self._resource_score(requested, allocatable) * weight, 0)
            weights += np.where(counted, weight, 0)
        if self.strategy == "RequestedToCapacityRatio":
            # math.Round of the weighted mean: half away from zero.
            safe = np.maximum(weights, 1)
            rounded: Int64Array = (2 * total + safe) // (2 * safe)
            return np.where(weights > 0, rounded, 0)
        return np.where(weights > 0, total // np.maximum(weights, 1), 0)

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        allocatable_amounts = node.view.allocatable if node.view is not None else {}
        total = weights = 0
        for resource, weight in self.resources:
            allocatable = allocatable_amounts.get(resource, 0)
            if allocatable == 0:
                continue
            requested = _node_requested(node, resource, True) + _pod_amount(pod, resource, True)
            if self.strategy == "LeastAllocated":
                score = (
                    0
                    if requested > allocatable
                    else (allocatable - requested) * MAX_NODE_SCORE // allocatable
                )
            elif self.strategy == "MostAllocated":
                score = min(requested, allocatable) * MAX_NODE_SCORE // allocatable
            else:
                assert self.shape is not None
                score = self.shape(
                    100 if requested > allocatable else requested * 100 // allocatable
                )
            total += score * weight
            weights += weight
        if not weights:
            return 0
        if self.strategy == "RequestedToCapacityRatio":
            return (2 * total + weights) // (2 * weights)
        return total // weights


class NodeResourcesBalancedAllocation(PreScorePlugin, ScorePlugin):
    """Prefers nodes whose resources would be used in equal shares after placing the pod."""

    name = "NodeResourcesBalancedAllocation"
    node_local = True

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        self.resources = [name for name, _ in _resources(args, "args")]

    def pre_score(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: Rows
    ) -> Status | None:
        # A pod that requests none of the resources is balanced anywhere (upstream skips it).
        if not any(pod.requests.get(resource, 0) for resource in self.resources):
            state.skip_score.add(self.name)
        return None

    def score_all(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: Rows
    ) -> Int64Array:
        table = snapshot.cache.table
        fractions = []
        counted = []
        for resource in self.resources:
            table.resource_column(resource)
            allocatable = table.alloc[resource][rows]
            requested = table.requested[resource][rows] + pod.requests.get(resource, 0)
            has = allocatable > 0
            fraction = np.where(has, requested / np.maximum(allocatable, 1), 0.0)
            fractions.append(np.minimum(fraction, 1.0))
            counted.append(has)
        std: npt.NDArray[np.float64]
        if len(fractions) == 2 and bool(np.all(counted[0] & counted[1])):
            std = np.abs((fractions[0] - fractions[1]) / 2)
        else:
            std = np.array(
                [
                    self._std([f[i] for f, c in zip(fractions, counted, strict=True) if c[i]])
                    for i in range(len(rows))
                ],
                np.float64,
            )
        result: Int64Array = ((1 - std) * MAX_NODE_SCORE).astype(np.int64)
        return result

    @staticmethod
    def _std(fractions: list[float]) -> float:
        if len(fractions) == 2:
            return abs((fractions[0] - fractions[1]) / 2)
        if len(fractions) > 2:
            mean = sum(fractions) / len(fractions)
            total = 0.0
            for fraction in fractions:
                total = total + (fraction - mean) * (fraction - mean)
            return float(np.sqrt(total / len(fractions)))
        return 0.0

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        allocatable_amounts = node.view.allocatable if node.view is not None else {}
        fractions = []
        for resource in self.resources:
            allocatable = allocatable_amounts.get(resource, 0)
            if allocatable == 0:
                continue
            requested = node.requested.get(resource, 0) + pod.requests.get(resource, 0)
            fractions.append(min(requested / allocatable, 1.0))
        return int((1 - self._std(fractions)) * MAX_NODE_SCORE)
