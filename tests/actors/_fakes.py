"""Test doubles for the actor runtime: a clock that only moves when a test moves it."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import anyio.lowlevel

__all__ = ["FakeClock", "settle"]


class _FakeTimer:
    __slots__ = ("callback", "cancelled", "deadline")

    def __init__(self, deadline: float, callback: Callable[[], object]) -> None:
        self.deadline = deadline
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A `Clock` whose time stands still until `advance` moves it.

    Callbacks due by the new time run in deadline order (ties in scheduling order),
    so restart windows and ask timeouts are tested without waiting.
    """

    EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._start = start
        self._timers: list[tuple[float, int, _FakeTimer]] = []
        self._sequence = itertools.count()

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self.EPOCH + timedelta(seconds=self._now - self._start)

    def call_later(self, delay: float, callback: Callable[[], object]) -> _FakeTimer:
        timer = _FakeTimer(self._now + max(0.0, delay), callback)
        heapq.heappush(self._timers, (timer.deadline, next(self._sequence), timer))
        return timer

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self._now + seconds)

    async def sleep_until(self, deadline: float) -> None:
        future = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_later(deadline - self._now, wake)
        try:
            await future
        finally:
            timer.cancel()

    @property
    def pending(self) -> int:
        """How many timers are scheduled and not cancelled."""
        return sum(1 for _, _, timer in self._timers if not timer.cancelled)

    async def advance(self, seconds: float) -> None:
        """Move time forward, firing each due callback and letting the tasks it wakes run."""
        if seconds < 0:
            raise ValueError(f"time cannot go backwards: {seconds}")
        target = self._now + seconds
        while self._timers and self._timers[0][0] <= target:
            deadline, _, timer = heapq.heappop(self._timers)
            self._now = max(self._now, deadline)
            if not timer.cancelled:
                timer.callback()
                await settle()
        self._now = target
        await settle()


async def settle(turns: int = 30) -> None:
    """Let every runnable task run for a while: enough for messages to pass a few actors."""
    for _ in range(turns):
        await anyio.lowlevel.checkpoint()
