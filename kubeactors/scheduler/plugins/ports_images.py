"""NodePorts (host port conflicts filter) and ImageLocality (nodes with the images score)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .._cache import NodeInfo
from .._podinfo import PodInfo
from .._table import BoolArray, Int64Array
from ..framework import (
    MAX_NODE_SCORE,
    CycleState,
    FilterPlugin,
    PreFilterPlugin,
    PreScorePlugin,
    ScorePlugin,
    Snapshot,
    Status,
)

__all__ = ["ImageLocality", "NodePorts"]

_MB = 1024 * 1024
_MIN_THRESHOLD = 23 * _MB
_MAX_CONTAINER_THRESHOLD = 1000 * _MB


class NodePorts(PreFilterPlugin, FilterPlugin):
    name = "NodePorts"
    node_local = True
    reason = "node(s) didn't have free ports for the requested pod ports"

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status | None:
        if not pod.host_ports:
            state.skip_filter.add(self.name)
        return None

    def filter_all(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> BoolArray | None:
        table = snapshot.cache.table
        n = table.size
        mask: BoolArray | None = None
        for wanted in pod.host_ports:
            for used, count in table.ports.items():
                if wanted.conflicts(used):
                    free = count[:n] == 0
                    mask = free if mask is None else mask & free
        return mask

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        for wanted in pod.host_ports:
            if any(wanted.conflicts(used) for used in node.ports):
                return Status.unschedulable(self.reason)
        return None


class ImageLocality(PreScorePlugin, ScorePlugin):
    """Prefers nodes that already have the pod's images, weighted by how widely spread."""

    name = "ImageLocality"
    node_local = True
    reads_placed_pods = False

    def _images(self, pod: PodInfo) -> list[str]:
        return list(pod.images)

    def pre_score(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: npt.NDArray[np.intp]
    ) -> Status | None:
        table = snapshot.cache.table
        present = table.present[: table.size]
        total = int(present.sum())
        spread: dict[str, float] = {}
        for image in set(self._images(pod)):
            sizes = table.images.get(image)
            if sizes is not None:
                spread[image] = (
                    float((sizes[: table.size][present] > 0).sum()) / total if total else 0.0
                )
        if not spread:
            state.skip_score.add(self.name)
        state.data[self.name] = spread
        return None

    def _priority(self, pod: PodInfo, total: int) -> int:
        maximum = _MAX_CONTAINER_THRESHOLD * max(len(pod.images), 1)
        total = min(max(total, _MIN_THRESHOLD), maximum)
        return MAX_NODE_SCORE * (total - _MIN_THRESHOLD) // (maximum - _MIN_THRESHOLD)

    def score_all(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: npt.NDArray[np.intp]
    ) -> Int64Array:
        spread: dict[str, float] = state.data[self.name]
        table = snapshot.cache.table
        total = np.zeros(len(rows), np.int64)
        for image in self._images(pod):
            sizes = table.images.get(image)
            if sizes is not None and image in spread:
                total += (sizes[rows] * spread[image]).astype(np.int64)
        maximum = _MAX_CONTAINER_THRESHOLD * max(len(pod.images), 1)
        clipped = np.clip(total, _MIN_THRESHOLD, maximum)
        result: Int64Array = (
            MAX_NODE_SCORE * (clipped - _MIN_THRESHOLD) // (maximum - _MIN_THRESHOLD)
        )
        return result

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        spread: dict[str, float] = state.data[self.name]
        images = node.view.images if node.view is not None else {}
        total = 0
        for image in self._images(pod):
            size = images.get(image, 0)
            if size and image in spread:
                total += int(size * spread[image])
        return self._priority(pod, total)
