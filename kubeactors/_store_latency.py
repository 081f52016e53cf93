"""`StoreLatency`: an actor between the API server and the store that delays requests.

For fault simulation (a disk whose commits turn slow): each request reaches the
store `latency` seconds of the cluster's clock after it was sent, in the order sent.
With a latency of 0 and nothing held back, requests pass straight through.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import msgspec

from .actors import Actor, ActorRef

__all__ = ["SetLatency", "StoreLatency"]


class SetLatency(msgspec.Struct, frozen=True):
    """From now on, delay each request by `seconds` (requests held already keep theirs)."""

    seconds: float


class _Release(msgspec.Struct, frozen=True):
    pass


class StoreLatency(Actor[Any]):
    """Forwards every message to `store`, each `latency` seconds after it arrived.

    Order is kept: a request is never released before one that arrived earlier, so
    lowering the latency lets the queue drain in order rather than overtake it.
    """

    mailbox_size = 8192

    def __init__(self, store: ActorRef[Any], latency: float = 0.0) -> None:
        if latency < 0:
            raise ValueError(f"store latency must not be negative, got {latency}")
        self._store = store
        self._latency = latency
        self._held: deque[tuple[float, Any]] = deque()
        self._timer_due: float | None = None

    async def receive(self, message: Any) -> None:
        match message:
            case SetLatency(seconds=seconds):
                self._latency = seconds
            case _Release():
                self._timer_due = None
                await self._release()
            case _:
                if not self._latency and not self._held:
                    await self._store.tell(message)
                    return
                now = self.context.clock.now()
                due = now + self._latency
                if self._held:
                    due = max(due, self._held[-1][0])
                self._held.append((due, message))
                self._arm()

    async def _release(self) -> None:
        now = self.context.clock.now()
        while self._held and self._held[0][0] <= now:
            _, message = self._held.popleft()
            await self._store.tell(message)
        self._arm()

    def _arm(self) -> None:
        if not self._held or self._timer_due is not None:
            return
        due = self._held[0][0]
        self._timer_due = due
        self.context.send_later(max(0.0, due - self.context.clock.now()), _Release())
