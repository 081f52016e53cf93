"""The scheduler's node table: columns of allocatable and requested resources per node."""

from __future__ import annotations

import random

import numpy as np
import numpy.typing as npt

from ..api import Resources

__all__ = ["NodeTable"]

Int64Array = npt.NDArray[np.int64]


class NodeTable:
    """Nodes as rows of numpy columns, so filtering and scoring a pod is array work.

    A row also exists for a node the scheduler has only heard of through a pod bound
    to it (not yet through the node itself): its requests are counted, but it is not
    `present`, so nothing is placed on it until the node shows up.
    """

    def __init__(self, capacity: int = 64) -> None:
        self._size = 0
        self.names: list[str] = []
        self._rows: dict[str, int] = {}
        self._free: list[int] = []
        self.alloc_cpu: Int64Array = np.zeros(capacity, np.int64)
        self.alloc_memory: Int64Array = np.zeros(capacity, np.int64)
        self.alloc_pods: Int64Array = np.zeros(capacity, np.int64)
        self.requested_cpu: Int64Array = np.zeros(capacity, np.int64)
        self.requested_memory: Int64Array = np.zeros(capacity, np.int64)
        self.requested_pods: Int64Array = np.zeros(capacity, np.int64)
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
        if self._free:
            row = self._free.pop()
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
        for column in (
            "alloc_cpu",
            "alloc_memory",
            "alloc_pods",
            "requested_cpu",
            "requested_memory",
            "requested_pods",
            "present",
            "schedulable",
        ):
            old = getattr(self, column)
            new = np.zeros(capacity, old.dtype)
            new[: len(old)] = old
            setattr(self, column, new)

    def set_node(self, name: str, allocatable: Resources, *, schedulable: bool = True) -> bool:
        """Add or update a node; True if that can make room for a pod that did not fit."""
        row = self.row(name)
        more_room = bool(
            (schedulable and not self.schedulable[row])
            or allocatable.cpu_millis > self.alloc_cpu[row]
            or allocatable.memory_bytes > self.alloc_memory[row]
            or allocatable.pods > self.alloc_pods[row]
        )
        self.alloc_cpu[row] = allocatable.cpu_millis
        self.alloc_memory[row] = allocatable.memory_bytes
        self.alloc_pods[row] = allocatable.pods
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
        self.requested_cpu[row] += request.cpu_millis
        self.requested_memory[row] += request.memory_bytes
        self.requested_pods[row] += request.pods

    def remove_pod(self, row: int, request: Resources) -> None:
        self.requested_cpu[row] -= request.cpu_millis
        self.requested_memory[row] -= request.memory_bytes
        self.requested_pods[row] -= request.pods
        self._release_if_empty(row)

    def _release_if_empty(self, row: int) -> None:
        if not self.present[row] and self.requested_pods[row] == 0:
            del self._rows[self.names[row]]
            self.names[row] = ""
            self.alloc_cpu[row] = self.alloc_memory[row] = self.alloc_pods[row] = 0
            self.requested_cpu[row] = self.requested_memory[row] = 0
            self._free.append(row)

    def feasible(self, request: Resources) -> npt.NDArray[np.bool_]:
        """Which rows have room for `request` (NodeResourcesFit, NodeUnschedulable)."""
        n = self._size
        return (
            self.schedulable[:n]
            & (self.alloc_cpu[:n] - self.requested_cpu[:n] >= request.cpu_millis)
            & (self.alloc_memory[:n] - self.requested_memory[:n] >= request.memory_bytes)
            & (self.alloc_pods[:n] - self.requested_pods[:n] >= request.pods)
        )

    def least_allocated(self, request: Resources) -> Int64Array:
        """Upstream's LeastAllocated score, 0..100: the free share after placing `request`."""
        n = self._size
        cpu = _free_share(self.alloc_cpu[:n], self.requested_cpu[:n] + request.cpu_millis)
        memory = _free_share(
            self.alloc_memory[:n], self.requested_memory[:n] + request.memory_bytes
        )
        return (cpu + memory) // 2

    def pick(self, request: Resources, rng: random.Random) -> int | None:
        """The row to place `request` on: the best score among feasible rows, ties at random."""
        fits = self.feasible(request)
        if not fits.any():
            return None
        scores = np.where(fits, self.least_allocated(request), -1)
        best = np.flatnonzero(scores == scores.max())
        return int(best[rng.randrange(len(best))]) if len(best) > 1 else int(best[0])


def _free_share(allocatable: Int64Array, requested: Int64Array) -> Int64Array:
    safe = np.maximum(allocatable, 1)
    share = (allocatable - requested) * 100 // safe
    return np.where(allocatable > 0, np.clip(share, 0, 100), 0)
