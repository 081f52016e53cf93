"""TaintToleration: untolerated NoSchedule/NoExecute taints filter; PreferNoSchedule scores."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .._cache import NodeInfo
from .._podinfo import PodInfo, Taint
from .._table import BoolArray, Int64Array, NodeTable
from ..framework import (
    CycleState,
    FilterPlugin,
    NormalizeScorePlugin,
    Snapshot,
    Status,
    default_normalize,
    default_normalize_list,
)

__all__ = ["TaintToleration", "taint_mask", "tolerated", "untolerated"]

_FILTERED = ("NoSchedule", "NoExecute")


def tolerated(pod: PodInfo, taint: Taint) -> bool:
    """NoExecute's tolerationSeconds bound how long a running pod stays, not where
    one may be placed: any matching toleration lets the scheduler place the pod."""
    return any(toleration.tolerates(taint) for toleration in pod.tolerations)


def _preferred_tolerated(pod: PodInfo, taint: Taint) -> bool:
    return any(
        toleration.tolerates(taint)
        for toleration in pod.tolerations
        if toleration.effect in ("", "PreferNoSchedule")
    )


def taint_mask(table: NodeTable, pod: PodInfo) -> BoolArray | None:
    """Rows without NoSchedule/NoExecute taints the pod does not tolerate; None: all."""
    n = table.size
    mask: BoolArray | None = None
    for taint, has in table.taints.items():
        if taint.effect in _FILTERED and not tolerated(pod, taint):
            free = ~has[:n]
            mask = free if mask is None else mask & free
    return mask


def untolerated(pod: PodInfo, node: NodeInfo) -> Taint | None:
    """The first NoSchedule/NoExecute taint of `node` the pod does not tolerate."""
    if node.view is None:
        return None
    for taint in node.view.taints:
        if taint.effect in _FILTERED and not tolerated(pod, taint):
            return taint
    return None


class TaintToleration(FilterPlugin, NormalizeScorePlugin):
    name = "TaintToleration"
    node_local = True
    reads_placed_pods = False

    def filter_all(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> BoolArray | None:
        return taint_mask(snapshot.cache.table, pod)

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        taint = untolerated(pod, node)
        if taint is None:
            return None
        return Status.unschedulable(f"node(s) had untolerated taint {taint}", resolvable=False)

    def score_all(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: npt.NDArray[np.intp]
    ) -> Int64Array:
        table = snapshot.cache.table
        counts = np.zeros(len(rows), np.int64)
        for taint, has in table.taints.items():
            if taint.effect == "PreferNoSchedule" and not _preferred_tolerated(pod, taint):
                counts += has[rows]
        return counts

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        if node.view is None:
            return 0
        return sum(
            1
            for taint in node.view.taints
            if taint.effect == "PreferNoSchedule" and not _preferred_tolerated(pod, taint)
        )

    def normalize(self, state: CycleState, pod: PodInfo, scores: Int64Array) -> Int64Array:
        return default_normalize(scores, reverse=True)

    def normalize_list(self, state: CycleState, pod: PodInfo, scores: list[int]) -> list[int]:
        return default_normalize_list(scores, reverse=True)
