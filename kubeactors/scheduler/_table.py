"""The scheduler's node table: one row per node, one numpy column per fact.

Columns hold allocatable, requested and free amounts of every resource seen (cpu,
memory, pods, ephemeral-storage, extended resources), the non-zero requests used
for scoring, flags, label values encoded as integer codes per key, one boolean
column per distinct taint, a count column per used host port, a size column per
image, and count columns of pods matching a selector (registered on first use).
Filters and scores are then array operations over rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from ._podinfo import HostPort, Taint

__all__ = ["BoolArray", "Int64Array", "NodeTable"]

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int32]

STANDARD_RESOURCES = ("cpu", "memory", "pods", "ephemeral-storage")


class NodeTable:
    """Nodes as rows of numpy columns, kept up to date incrementally.

    A row also exists for a node known only through a pod bound to it (not yet
    through the node itself): its requests are counted, but it is not `present`,
    so nothing is placed there until the node shows up. Rows of removed nodes are
    reused once no pod is counted on them.
    """

    def __init__(self, capacity: int = 64) -> None:
        self._capacity = max(1, capacity)
        self.size = 0
        """Rows in use (present or not); every column is valid on `[:size]`."""
        self.names: list[str] = []
        self._rows: dict[str, int] = {}
        self._free_rows: list[int] = []
        self._columns: dict[str, Any] = {}
        self._fill: dict[str, int] = {}
        self.alloc: dict[str, Int64Array] = {}
        self.requested: dict[str, Int64Array] = {}
        self.free: dict[str, Int64Array] = {}
        for resource in STANDARD_RESOURCES:
            self._add_resource(resource)
        self.nonzero_cpu: Int64Array = self._new("nonzero:cpu", np.int64)
        self.nonzero_memory: Int64Array = self._new("nonzero:memory", np.int64)
        self.present: BoolArray = self._new("present", np.bool_)
        self.schedulable: BoolArray = self._new("schedulable", np.bool_)
        self.labels: dict[str, IntArray] = {}
        self.label_values: dict[str, dict[str, int]] = {}
        self.label_names: dict[str, list[str]] = {}
        self.taints: dict[Taint, BoolArray] = {}
        self.ports: dict[HostPort, IntArray] = {}
        self.images: dict[str, Int64Array] = {}
        self.counts: dict[object, IntArray] = {}
        """Per-node counts of pods under a key the cache chooses (a selector, a term)."""
        self.version = 0
        """Bumped whenever the set of present rows changes."""
        self.node_version = 0
        """Bumped whenever any row changes but for its pods (made, node added,
        updated or removed, freed), so that what is derived from nodes alone may be
        kept until then."""
        self._present_rows: npt.NDArray[np.intp] | None = None

    # -- columns -----------------------------------------------------------------

    def _new(self, name: str, dtype: type[np.generic], fill: int = 0) -> Any:
        column = np.full(self._capacity, fill, dtype)
        self._columns[name] = column
        self._fill[name] = fill
        return column

    def _add_resource(self, resource: str) -> None:
        self.alloc[resource] = self._new(f"alloc:{resource}", np.int64)
        self.requested[resource] = self._new(f"requested:{resource}", np.int64)
        self.free[resource] = self._new(f"free:{resource}", np.int64)

    def resource_column(self, resource: str) -> None:
        """Make sure `resource` has columns (an extended resource seen for the first time)."""
        if resource not in self.alloc:
            self._add_resource(resource)

    def label_column(self, key: str) -> IntArray:
        """Codes of each row's value for label `key` (-1: no such label)."""
        column: IntArray | None = self.labels.get(key)
        if column is None:
            column = self._new(f"label:{key}", np.int32, -1)
            self.labels[key] = column
            self.label_values[key] = {}
            self.label_names[key] = []
        return column

    def label_code(self, key: str, value: str) -> int:
        """The code of `value` under `key`; -2 (matches no row) if no node has it."""
        return self.label_values.get(key, {}).get(value, -2)

    def count_column(self, key: object) -> IntArray:
        column: IntArray | None = self.counts.get(key)
        if column is None:
            column = self._new(f"count:{len(self.counts)}", np.int32)
            self.counts[key] = column
        return column

    def _grow(self) -> None:
        self._capacity *= 2
        for name, old in list(self._columns.items()):
            new = np.full(self._capacity, self._fill[name], old.dtype)
            new[: len(old)] = old
            self._columns[name] = new
        columns = self._columns
        for resource in list(self.alloc):
            self.alloc[resource] = columns[f"alloc:{resource}"]
            self.requested[resource] = columns[f"requested:{resource}"]
            self.free[resource] = columns[f"free:{resource}"]
        self.nonzero_cpu = columns["nonzero:cpu"]
        self.nonzero_memory = columns["nonzero:memory"]
        self.present = columns["present"]
        self.schedulable = columns["schedulable"]
        for key in self.labels:
            self.labels[key] = columns[f"label:{key}"]
        self._regrow_named(self.taints, "taint")
        self._regrow_named(self.ports, "port")
        self._regrow_named(self.images, "image")
        for index, count_key in enumerate(list(self.counts)):
            self.counts[count_key] = columns[f"count:{index}"]

    def _regrow_named(self, columns: dict[Any, Any], prefix: str) -> None:
        for key in list(columns):
            columns[key] = self._columns[f"{prefix}:{key!r}"]

    # -- rows --------------------------------------------------------------------

    def __len__(self) -> int:
        """The number of nodes present."""
        return len(self.present_rows())

    def __contains__(self, name: str) -> bool:
        row = self._rows.get(name)
        return row is not None and bool(self.present[row])

    def find(self, name: str) -> int | None:
        return self._rows.get(name)

    def row(self, name: str) -> int:
        """The row of `name`, made (not present) if the node is unknown so far."""
        row = self._rows.get(name)
        if row is not None:
            return row
        self.node_version += 1
        if self._free_rows:
            row = self._free_rows.pop()
            self.names[row] = name
        else:
            row = self.size
            if row == self._capacity:
                self._grow()
            self.size += 1
            self.names.append(name)
        self._rows[name] = row
        return row

    def present_rows(self) -> npt.NDArray[np.intp]:
        """Rows of present nodes, in row order (the order nodes are visited in)."""
        if self._present_rows is None:
            self._present_rows = np.flatnonzero(self.present[: self.size])
        return self._present_rows

    def _changed(self) -> None:
        self._present_rows = None
        self.version += 1

    # -- nodes -------------------------------------------------------------------

    def set_node(
        self,
        name: str,
        allocatable: Mapping[str, int],
        *,
        schedulable: bool = True,
        labels: Mapping[str, str] | None = None,
        taints: Iterable[Taint] = (),
        images: Mapping[str, int] | None = None,
    ) -> None:
        """Add or update a node's row."""
        self.node_version += 1
        row = self.row(name)
        for resource in allocatable:
            self.resource_column(resource)
        for resource, column in self.alloc.items():
            amount = allocatable.get(resource, 0)
            column[row] = amount
            self.free[resource][row] = amount - self.requested[resource][row]
        if not self.present[row]:
            self.present[row] = True
            self._changed()
        self.schedulable[row] = schedulable
        labels = labels or {}
        for key, codes_column in self.labels.items():
            if key not in labels:
                codes_column[row] = -1
        for key, value in labels.items():
            self.label_column(key)
            codes = self.label_values[key]
            code = codes.get(value)
            if code is None:
                code = codes[value] = len(codes)
                self.label_names[key].append(value)
            self.labels[key][row] = code
        wanted = set(taints)
        for taint in wanted:
            if taint not in self.taints:
                self.taints[taint] = self._new(f"taint:{taint!r}", np.bool_)
        for taint, has in self.taints.items():
            has[row] = taint in wanted
        images = images or {}
        for image in images:
            if image not in self.images:
                self.images[image] = self._new(f"image:{image!r}", np.int64)
        for image, sizes in self.images.items():
            sizes[row] = images.get(image, 0)

    def remove_node(self, name: str) -> None:
        row = self._rows.get(name)
        if row is None:
            return
        self.node_version += 1
        if self.present[row]:
            self.present[row] = False
            self._changed()
        self.schedulable[row] = False
        self._release_if_empty(row)

    # -- pods --------------------------------------------------------------------

    def add_pod(
        self,
        row: int,
        requests: Mapping[str, int],
        nonzero: tuple[int, int],
        ports: Iterable[HostPort] = (),
    ) -> None:
        for resource, amount in requests.items():
            if resource not in self.requested:
                self.resource_column(resource)
            self.requested[resource][row] += amount
            self.free[resource][row] -= amount
        self.nonzero_cpu[row] += nonzero[0]
        self.nonzero_memory[row] += nonzero[1]
        for port in ports:
            column: IntArray | None = self.ports.get(port)
            if column is None:
                column = self.ports[port] = self._new(f"port:{port!r}", np.int32)
            column[row] += 1

    def remove_pod(
        self,
        row: int,
        requests: Mapping[str, int],
        nonzero: tuple[int, int],
        ports: Iterable[HostPort] = (),
    ) -> None:
        for resource, amount in requests.items():
            self.requested[resource][row] -= amount
            self.free[resource][row] += amount
        self.nonzero_cpu[row] -= nonzero[0]
        self.nonzero_memory[row] -= nonzero[1]
        for port in ports:
            self.ports[port][row] -= 1
        self._release_if_empty(row)

    def _release_if_empty(self, row: int) -> None:
        if not self.present[row] and self.requested["pods"][row] == 0:
            self.node_version += 1
            del self._rows[self.names[row]]
            self.names[row] = ""
            for name, column in self._columns.items():
                column[row] = self._fill[name]
            self._free_rows.append(row)

    # -- helpers for plugins -----------------------------------------------------

    def domain_totals(
        self, key: str, per_node: npt.NDArray[np.generic], rows: BoolArray | None = None
    ) -> Int64Array:
        """Per row: the sum of `per_node` over the rows sharing its value of label `key`.

        Only present rows in `rows` (default: all) contribute; rows without the label
        get 0.
        """
        n = self.size
        codes = self.label_column(key)[:n]
        has = codes >= 0
        contributing = has & self.present[:n]
        if rows is not None:
            contributing &= rows
        sums = np.bincount(
            codes[contributing],
            weights=per_node[:n][contributing],
            minlength=len(self.label_values[key]),
        ).astype(np.int64)
        totals = np.zeros(n, np.int64)
        totals[has] = sums[codes[has]]
        return totals
