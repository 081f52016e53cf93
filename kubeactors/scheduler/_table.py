"""The scheduler's node table: columns of allocatable and requested resources per node."""

from __future__ import annotations

import random

import numpy as np
import numpy.typing as npt

from ..api import Resources

__all__ = ["NodeTable"]

Int64Array = npt.NDArray[np.int64]

_COLUMNS = (
    "alloc_cpu",
    "alloc_memory",
    "alloc_pods",
    "requested_cpu",
    "requested_memory",
    "requested_pods",
    "free_cpu",
    "free_memory",
    "free_pods",
    "_score_cpu_divisor",
    "_score_memory_divisor",
    "present",
    "schedulable",
)


class NodeTable:
    """Nodes as rows of numpy columns, so filtering and scoring a pod is array work.

    Besides allocatable and requested amounts, the table keeps the free amounts
    (allocatable minus requested) up to date on every change, so that filtering a
    pod is three comparisons and scoring it a few integer operations per column.

    A row also exists for a node the scheduler has only heard of through a pod bound
    to it (not yet through the node itself): its requests are counted, but it is not
    `present`, so nothing is placed on it until the node shows up.
    """

    def __init__(self, capacity: int = 64) -> None:
        self._size = 0
        self.names: list[str] = []
        self._rows: dict[str, int] = {}
        self._free_rows: list[int] = []
        capacity = max(1, capacity)
        self.alloc_cpu: Int64Array = np.zeros(capacity, np.int64)
        self.alloc_memory: Int64Array = np.zeros(capacity, np.int64)
        self.alloc_pods: Int64Array = np.zeros(capacity, np.int64)
        self.requested_cpu: Int64Array = np.zeros(capacity, np.int64)
        self.requested_memory: Int64Array = np.zeros(capacity, np.int64)
        self.requested_pods: Int64Array = np.zeros(capacity, np.int64)
        self.free_cpu: Int64Array = np.zeros(capacity, np.int64)
        self.free_memory: Int64Array = np.zeros(capacity, np.int64)
        self.free_pods: Int64Array = np.zeros(capacity, np.int64)
        # Allocatable, with 1 for 0 so that scoring never divides by zero (a row
        # with nothing allocatable fits only empty requests and scores 0 anyway).
        self._score_cpu_divisor: Int64Array = np.ones(capacity, np.int64)
        self._score_memory_divisor: Int64Array = np.ones(capacity, np.int64)
        self.present = np.zeros(capacity, np.bool_)
        self.schedulable = np.zeros(capacity, np.bool_)

    def __len__(self) -> int:
        """The number of nodes present."""
        return int(self.present[: self._size].sum())

    def __contains__(self, name: str) -> bool:
        row = self._rows.get(name)
        return row is not None and bool(self.present[row])

    def row(self, name: str) -> int:
        """The row of `name`, made (not present) if the node is unknown so far."""
        row = self._rows.get(name)
        if row is not None:
            return row
        if self._free_rows:
            row = self._free_rows.pop()
            self.names[row] = name
        else:
            row = self._size
            if row == len(self.present):
                self._grow()
            self._size += 1
            self.names.append(name)
        self._rows[name] = row
        return row

    def _grow(self) -> None:
        capacity = 2 * len(self.present)
        for column in _COLUMNS:
            old = getattr(self, column)
            new = np.full(capacity, _empty_value(column), old.dtype)
            new[: len(old)] = old
            setattr(self, column, new)

    def set_node(self, name: str, allocatable: Resources, *, schedulable: bool = True) -> bool:
        """Add or update a node; True if that can make room for a pod that did not fit."""
        row = self.row(name)
        cpu, memory, pods = allocatable
        more_room = bool(
            (schedulable and not self.schedulable[row])
            or cpu > self.alloc_cpu[row]
            or memory > self.alloc_memory[row]
            or pods > self.alloc_pods[row]
        )
        self.alloc_cpu[row] = cpu
        self.alloc_memory[row] = memory
        self.alloc_pods[row] = pods
        self.free_cpu[row] = cpu - self.requested_cpu[row]
        self.free_memory[row] = memory - self.requested_memory[row]
        self.free_pods[row] = pods - self.requested_pods[row]
        self._score_cpu_divisor[row] = max(cpu, 1)
        self._score_memory_divisor[row] = max(memory, 1)
        self.present[row] = True
        self.schedulable[row] = schedulable
        return more_room

    def remove_node(self, name: str) -> None:
        row = self._rows.get(name)
        if row is None:
            return
        self.present[row] = False
        self.schedulable[row] = False
        self._release_if_empty(row)

    def add_pod(self, row: int, request: Resources) -> None:
        cpu, memory, pods = request
        self.requested_cpu[row] += cpu
        self.requested_memory[row] += memory
        self.requested_pods[row] += pods
        self.free_cpu[row] -= cpu
        self.free_memory[row] -= memory
        self.free_pods[row] -= pods

    def remove_pod(self, row: int, request: Resources) -> None:
        cpu, memory, pods = request
        self.requested_cpu[row] -= cpu
        self.requested_memory[row] -= memory
        self.requested_pods[row] -= pods
        self.free_cpu[row] += cpu
        self.free_memory[row] += memory
        self.free_pods[row] += pods
        self._release_if_empty(row)

    def _release_if_empty(self, row: int) -> None:
        if not self.present[row] and self.requested_pods[row] == 0:
            del self._rows[self.names[row]]
            self.names[row] = ""
            for column in _COLUMNS:
                getattr(self, column)[row] = _empty_value(column)
            self._free_rows.append(row)

    def feasible(self, request: Resources) -> npt.NDArray[np.bool_]:
        """Which rows have room for `request` (NodeResourcesFit, NodeUnschedulable)."""
        n = self._size
        fits = self.free_cpu[:n] >= request.cpu_millis
        fits &= self.free_memory[:n] >= request.memory_bytes
        fits &= self.free_pods[:n] >= request.pods
        fits &= self.schedulable[:n]
        return fits

    def least_allocated(self, request: Resources) -> Int64Array:
        """Upstream's LeastAllocated score, 0..100: the free share after placing `request`.

        Meaningful for feasible rows only (elsewhere it may fall outside 0..100).
        """
        n = self._size
        cpu = self.free_cpu[:n] - request.cpu_millis
        cpu *= 100
        cpu //= self._score_cpu_divisor[:n]
        memory = self.free_memory[:n] - request.memory_bytes
        memory *= 100
        memory //= self._score_memory_divisor[:n]
        cpu += memory
        cpu //= 2
        return cpu

    def pick(self, request: Resources, rng: random.Random) -> int | None:
        """The row to place `request` on: the best score among feasible rows, ties at random."""
        candidates = np.flatnonzero(self.feasible(request))
        if not len(candidates):
            return None
        scores = self.least_allocated(request)
        if len(candidates) < self._size:
            scores = scores[candidates]
        best = candidates[scores == scores.max()]
        return int(best[rng.randrange(len(best))]) if len(best) > 1 else int(best[0])


def _empty_value(column: str) -> int:
    """What a column holds for a row without a node: nothing, or 1 for a divisor."""
    return 1 if column.endswith("divisor") else 0
