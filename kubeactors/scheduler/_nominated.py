"""Filtering a pod on one node with the pods nominated there counted as placed.

As upstream's `RunFilterPluginsWithNominatedPods`: pods nominated to a node (they
preempted there and wait for their victims to go) of equal or higher priority than
the pod being scheduled are added to the node, PreFilter runs again with them and
the filters must pass; then, if any were added, the filters must pass without them
too (pod affinity might hold only thanks to them, and they may yet land elsewhere).
Both engines use these plain per-node forms, so they agree; the path is taken only
for the few nodes with nominated pods.
"""

from __future__ import annotations

from ._cache import Cache
from ._podinfo import PodInfo
from .framework import CycleState, FilterPlugin, PreFilterPlugin, Snapshot, Status

__all__ = ["fits_on"]


def fits_on(
    cache: Cache,
    pre_filters: list[PreFilterPlugin],
    filters: list[FilterPlugin],
    pod: PodInfo,
    node: str,
    nominated: list[PodInfo],
) -> Status | None:
    """None if `pod` passes every filter on `node` with and without `nominated` (the
    pods nominated there it must leave room for) placed there; else why not."""
    added = [other for other in nominated if other.key not in cache.placed]
    for other in added:
        cache.add(other, node, assumed=True)
    try:
        status = _filter(cache, pre_filters, filters, pod, node)
    finally:
        for other in added:
            cache.remove(other.key)
    if status is not None or not added:
        return status
    return _filter(cache, pre_filters, filters, pod, node)


def _filter(
    cache: Cache,
    pre_filters: list[PreFilterPlugin],
    filters: list[FilterPlugin],
    pod: PodInfo,
    node: str,
) -> Status | None:
    state = CycleState()
    snapshot = Snapshot(cache, reference=True)
    for pre in pre_filters:
        status = pre.pre_filter(state, pod, snapshot)
        if status is not None and not status.ok:
            return Status(status.code, status.reasons, pre.name)
    info = cache.nodes[node]
    for plugin in filters:
        if plugin.name in state.skip_filter:
            continue
        status = plugin.filter(state, pod, info)
        if status is not None and not status.ok:
            return Status(status.code, status.reasons, plugin.name)
    return None
