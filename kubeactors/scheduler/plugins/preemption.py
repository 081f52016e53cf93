"""DefaultPreemption: for a pod that fits nowhere, find lower-priority victims to evict.

As upstream's `framework/preemption`: on a sample of nodes (at least 10% and at
least 100), remove every pod of lower priority, check the preemptor then fits,
give back ("reprieve") as many victims as still leave room, highest priority first;
choose the node by upstream's order of criteria (lowest highest-victim priority,
lowest sum of victim priorities, fewest victims, latest start of the highest-
priority victims), then the first in visiting order. The scheduler evicts the
victims gracefully and nominates the node.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._cache import Cache, NodeInfo
from .._nominated import fits_on
from .._podinfo import PodInfo
from ..framework import (
    FilterPlugin,
    Handle,
    PostFilterPlugin,
    PreFilterPlugin,
)

__all__ = ["Candidate", "DefaultPreemption"]


@dataclass(slots=True)
class Candidate:
    node: str
    victims: list[PodInfo]

    def rank(self) -> tuple[int, int, int, str]:
        priorities = [v.priority for v in self.victims]
        highest = max(priorities, default=-(2**31))
        starts = [v.start_time for v in self.victims if v.priority == highest]
        # Later start first: negate by sorting on the inverted string order below.
        latest = max(starts, default="")
        return (highest, sum(priorities), len(self.victims), _invert(latest))


def _room_without(
    pod: PodInfo,
    node: NodeInfo,
    lower: list[PodInfo],
    nominated: list[PodInfo],
    filters: list[FilterPlugin],
) -> bool:
    """False if, even without every lower-priority pod, `pod`'s requests do not fit
    beside the pods nominated there: a quick answer for full nodes, before the
    victims are taken out of the cache and the filters run."""
    if node.view is None:
        return False
    if not any(plugin.name == "NodeResourcesFit" for plugin in filters):
        return True
    allocatable = node.view.allocatable
    for resource, amount in pod.requests.items():
        used = node.requested.get(resource, 0)
        used -= sum(p.requests.get(resource, 0) for p in lower)
        used += sum(p.requests.get(resource, 0) for p in nominated)
        if amount > 0 and allocatable.get(resource, 0) - used < amount:
            return False
    return True


def _invert(text: str) -> str:
    return "".join(chr(0x10FFFF - ord(ch)) for ch in text)


class DefaultPreemption(PostFilterPlugin):
    name = "DefaultPreemption"

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        super().__init__(args, handle)
        self.min_percentage = int(args.get("minCandidateNodesPercentage", 10))
        self.min_absolute = int(args.get("minCandidateNodesAbsolute", 100))

    def find(
        self,
        pod: PodInfo,
        cache: Cache,
        pre_filters: list[PreFilterPlugin],
        filters: list[FilterPlugin],
        rng: random.Random,
    ) -> Candidate | None:
        """The node and victims to preempt for `pod`, or None if preemption cannot help."""
        if pod.preemption_policy == "Never":
            return None
        nodes = cache.present()
        if not nodes:
            return None
        wanted = max(len(nodes) * self.min_percentage // 100, self.min_absolute)
        offset = rng.randrange(len(nodes))
        candidates: list[Candidate] = []
        # Room is left for the pods nominated of equal or higher priority.
        nominated = cache.nominated_for(pod) if cache.nominated else {}
        for index in range(len(nodes)):
            node = nodes[(offset + index) % len(nodes)]
            others = nominated.get(node.name, [])
            found = self._victims(pod, node, cache, pre_filters, filters, others)
            if found is not None:
                candidates.append(found)
                if len(candidates) >= wanted:
                    break
        if not candidates:
            return None
        return min(candidates, key=Candidate.rank)

    def _fits(
        self,
        pod: PodInfo,
        node: NodeInfo,
        cache: Cache,
        pre_filters: list[PreFilterPlugin],
        filters: list[FilterPlugin],
        nominated: list[PodInfo],
    ) -> bool:
        return fits_on(cache, pre_filters, filters, pod, node.name, nominated) is None

    def eligible(self, pod: PodInfo, cache: Cache) -> str:
        """Why `pod` may not preempt now ("" if it may), as upstream's
        `PodEligibleToPreemptOthers`: never with `preemptionPolicy: Never`, nor while
        lower-priority pods on its nominated node are still terminating (its earlier
        preemption is under way; preempting again would take more victims)."""
        if pod.preemption_policy == "Never":
            return "not eligible due to preemptionPolicy=Never."
        nomination = cache.nominations.get(pod.key)
        node = cache.nodes.get(nomination[0]) if nomination is not None else None
        evicting = cache.evicting
        if node is not None and any(
            (other.terminating or other.key in evicting) and other.priority < pod.priority
            for other in node.pods.values()
        ):
            return "not eligible due to a terminating pod on the nominated node."
        return ""

    def _victims(
        self,
        pod: PodInfo,
        node: NodeInfo,
        cache: Cache,
        pre_filters: list[PreFilterPlugin],
        filters: list[FilterPlugin],
        nominated: list[PodInfo],
    ) -> Candidate | None:
        lower = [p for p in node.pods.values() if p.priority < pod.priority]
        if not lower or not _room_without(pod, node, lower, nominated, filters):
            return None
        placements = {p.key: cache.placed[p.key] for p in lower}
        for victim in lower:
            cache.remove(victim.key)
        victims: list[PodInfo] = []
        try:
            if not self._fits(pod, node, cache, pre_filters, filters, nominated):
                return None
            # Reprieve: give back the most important pods first while the pod still fits.
            for victim in sorted(lower, key=lambda p: (-p.priority, p.start_time)):
                placement = placements[victim.key]
                cache.add(victim, node.name, assumed=placement.assumed, since=placement.since)
                if not self._fits(pod, node, cache, pre_filters, filters, nominated):
                    cache.remove(victim.key)
                    victims.append(victim)
            return Candidate(node.name, victims)
        finally:
            for victim in lower:
                if victim.key not in cache.placed:
                    placement = placements[victim.key]
                    cache.add(victim, node.name, assumed=placement.assumed, since=placement.since)
