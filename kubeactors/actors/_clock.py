"""Time as an injected dependency, so that a whole cluster can run on a virtual clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

import anyio

__all__ = ["Clock", "SystemClock", "TimerHandle"]


@runtime_checkable
class TimerHandle(Protocol):
    """A scheduled callback that can be cancelled before it fires."""

    def cancel(self) -> None: ...


@runtime_checkable
class Clock(Protocol):
    """The only source of time a component may use.

    `now()` is monotonic seconds; it is not wall-clock time. `wall()` is the time of
    day, for timestamps written into objects, so that they follow the clock too.
    `call_later` runs a plain callback on the event loop and is what timers, ask
    timeouts and heartbeats use.
    """

    def now(self) -> float: ...

    def wall(self) -> datetime:
        """The current wall time, timezone-aware UTC."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    async def sleep_until(self, deadline: float) -> None: ...

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle: ...


class SystemClock:
    """The real clock: the running event loop's monotonic time.

    The one place allowed to read the OS clock: `now` reads `time.monotonic`, which
    is what asyncio's loop time is, without two calls to find the loop first (asks
    read the clock each time).
    """

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(max(0.0, seconds))

    async def sleep_until(self, deadline: float) -> None:
        await anyio.sleep(max(0.0, deadline - self.now()))

    def call_later(self, delay: float, callback: Callable[[], object]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(max(0.0, delay), callback)
