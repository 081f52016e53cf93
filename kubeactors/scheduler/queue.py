"""The scheduling queue: activeQ, backoffQ and the unschedulable pool, as upstream.

- activeQ: pods ready to be tried, ordered by the profile's QueueSort (priority,
  then arrival);
- backoffQ: pods that failed recently, each waiting `1 s * 2**(attempts-1)` (at most
  10 s) on the injected clock before returning to activeQ;
- unschedulable: pods no node could take; a cluster event that could help them
  (`move`) sends them back, and after 5 minutes they go back regardless;
- gated: pods a PreEnqueue plugin holds back (scheduling gates) until they change.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ._podinfo import PodInfo
from .framework import PreEnqueuePlugin

__all__ = ["QueuedPod", "SchedulingQueue"]

ACTIVE, BACKOFF, UNSCHEDULABLE, GATED, IN_FLIGHT = (
    "active",
    "backoff",
    "unschedulable",
    "gated",
    "in-flight",
)


@dataclass(slots=True)
class QueuedPod:
    info: PodInfo
    arrival: float
    attempts: int = 0
    where: str = ACTIVE
    seq: int = 0
    since: float = 0.0
    """When the pod entered its current pool."""
    popped_at_move: int = 0
    failed_plugins: set[str] = field(default_factory=set)
    message: str = ""
    """Why the last attempt failed."""

    @property
    def key(self) -> str:
        return self.info.key


class SchedulingQueue:
    def __init__(
        self,
        now: Callable[[], float],
        sort_key: Callable[[PodInfo, float], tuple[Any, ...]],
        pre_enqueue: Iterable[PreEnqueuePlugin] = (),
        *,
        initial_backoff: float = 1.0,
        max_backoff: float = 10.0,
        unschedulable_timeout: float = 300.0,
    ) -> None:
        self._now = now
        self._sort_key = sort_key
        self._pre_enqueue = list(pre_enqueue)
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.unschedulable_timeout = unschedulable_timeout
        self.pods: dict[str, QueuedPod] = {}
        self._active: list[tuple[tuple[Any, ...], int, str]] = []
        self._counter = itertools.count()
        self._moves = 0

    # -- counts ------------------------------------------------------------------

    def count(self, where: str) -> int:
        return sum(1 for pod in self.pods.values() if pod.where == where)

    def keys(self, where: str) -> list[str]:
        return sorted(key for key, pod in self.pods.items() if pod.where == where)

    @property
    def active_count(self) -> int:
        return sum(1 for pod in self.pods.values() if pod.where == ACTIVE)

    def has_active(self) -> bool:
        """True if activeQ may hold a pod (it may also hold stale entries)."""
        return bool(self._active)

    def __contains__(self, key: str) -> bool:
        return key in self.pods

    # -- adding and removing -----------------------------------------------------

    def add(self, info: PodInfo) -> None:
        """A new pending pod, or a new version of one (its spec or labels changed)."""
        queued = self.pods.get(info.key)
        if queued is None:
            queued = QueuedPod(info, self._now())
            self.pods[info.key] = queued
            self._admit(queued)
            return
        queued.info = info
        if queued.where == IN_FLIGHT:
            return
        if queued.where in (GATED, UNSCHEDULABLE):
            # An update may have made the pod schedulable: try it again.
            self._admit(queued)
        elif queued.where == ACTIVE:
            self._push(queued)

    def refresh(self, info: PodInfo) -> None:
        """A new version of a queued pod that changes nothing the scheduler reads."""
        queued = self.pods.get(info.key)
        if queued is not None:
            queued.info = info

    def delete(self, key: str) -> None:
        self.pods.pop(key, None)

    def _admit(self, queued: QueuedPod) -> None:
        for plugin in self._pre_enqueue:
            status = plugin.pre_enqueue(queued.info)
            if status is not None:
                queued.where = GATED
                queued.message = "; ".join(status.reasons)
                return
        if queued.attempts and self._backoff_until(queued) > self._now():
            queued.where = BACKOFF
            return
        self._push(queued)

    def _push(self, queued: QueuedPod) -> None:
        queued.where = ACTIVE
        queued.seq = next(self._counter)
        queued.since = self._now()
        heapq.heappush(
            self._active, (self._sort_key(queued.info, queued.arrival), queued.seq, queued.key)
        )

    # -- the scheduling loop -------------------------------------------------------

    def pop(self) -> QueuedPod | None:
        """The next pod to try, or None if activeQ is empty."""
        while self._active:
            _, seq, key = heapq.heappop(self._active)
            queued = self.pods.get(key)
            if queued is not None and queued.where == ACTIVE and queued.seq == seq:
                return self._take(queued)
        return None

    def pop_run(self, limit: int) -> list[QueuedPod]:
        """The next pod and, right behind it, those that schedule alike (equal
        non-empty signatures), `limit` at most: what as many `pop`s would return up to
        the first pod unlike the first. Empty if activeQ is empty."""
        first = self.pop()
        if first is None:
            return []
        run = [first]
        signature = first.info.signature
        active = self._active
        while signature and active and len(run) < limit:
            _, seq, key = active[0]
            queued = self.pods.get(key)
            if queued is None or queued.where != ACTIVE or queued.seq != seq:
                heapq.heappop(active)  # a stale entry, as `pop` would skip it
                continue
            if queued.info.signature != signature:
                break
            heapq.heappop(active)
            run.append(self._take(queued))
        return run

    def _take(self, queued: QueuedPod) -> QueuedPod:
        queued.where = IN_FLIGHT
        queued.attempts += 1
        queued.popped_at_move = self._moves
        return queued

    def done(self, key: str) -> None:
        """The pod was placed (assumed): it leaves the queue."""
        self.pods.pop(key, None)

    def unschedulable(self, queued: QueuedPod, plugins: set[str], message: str) -> None:
        """No node fits: park the pod, or back it off if the cluster changed meanwhile."""
        if self.pods.get(queued.key) is not queued:
            return
        queued.failed_plugins = plugins
        queued.message = message
        queued.since = self._now()
        queued.where = BACKOFF if self._moves > queued.popped_at_move else UNSCHEDULABLE

    def retry(self, queued: QueuedPod, message: str = "") -> None:
        """An error (a failed bind, say): try again after the pod's back-off."""
        if self.pods.get(queued.key) is not queued:
            return
        queued.message = message
        queued.since = self._now()
        queued.where = BACKOFF

    def readd(self, info: PodInfo, message: str = "") -> None:
        """A pod whose placement was undone (failed bind): back into the queue with back-off."""
        queued = self.pods.get(info.key)
        if queued is None:
            queued = QueuedPod(info, self._now(), attempts=1)
            self.pods[info.key] = queued
        queued.info = info
        queued.message = message
        queued.since = self._now()
        queued.where = BACKOFF

    # -- moving ------------------------------------------------------------------

    def move(self, plugins: set[str] | None = None) -> int:
        """A cluster event that could help pods failing on `plugins` (None: any).

        Those pods leave the unschedulable pool for backoffQ (still backing off) or
        activeQ. Returns how many moved.
        """
        self._moves += 1
        moved = 0
        for queued in self.pods.values():
            if queued.where != UNSCHEDULABLE:
                continue
            if (
                plugins is not None
                and queued.failed_plugins
                and not (queued.failed_plugins & plugins)
            ):
                continue
            moved += 1
            if self._backoff_until(queued) > self._now():
                queued.where = BACKOFF
            else:
                self._push(queued)
        return moved

    def _backoff_until(self, queued: QueuedPod) -> float:
        duration = self.initial_backoff * float(2 ** max(queued.attempts - 1, 0))
        return queued.since + min(duration, self.max_backoff)

    def flush(self) -> None:
        """Back-offs that have ended go to activeQ; pods unschedulable for too long too."""
        now = self._now()
        for queued in list(self.pods.values()):
            if (queued.where == BACKOFF and self._backoff_until(queued) <= now) or (
                queued.where == UNSCHEDULABLE and now - queued.since >= self.unschedulable_timeout
            ):
                self._push(queued)
