"""`VirtualClock`: time stands still while anything has work, and jumps when all is idle.

How idleness is detected. The clock takes over the running asyncio loop's notion of
time (`loop.time`), so every timer on the loop (`call_later`, `asyncio.sleep`, anyio
cancel scopes and `sleep`) runs on virtual time. The loop asks its selector for I/O
once per iteration, with a timeout of 0 when a callback is ready (a task to run, a
message to handle) and otherwise the time until its next timer: that call is where
the clock decides. Time jumps straight to the next timer only when nothing is ready,
no I/O event is pending, and no outside work is in flight: no thread is busy (a store
commit in a worker thread, say) and no `hold()` is open.

A thread counts as idle when it waits for work: blocked in a `threading` wait (a
`queue.Queue.get` with nothing queued, an `Event`, a join) or in a
`queue.SimpleQueue.get` with nothing queued (thread pools, aiosqlite). Anything else,
a thread running Python code or blocked in another C call, counts as busy.

Determinism. Timers due at the same virtual instant fire in the order they were set
(the clock's timers carry a sequence number that breaks ties), not in the order of
the loop's timer heap, which depends on every timer the loop ever held: a run replays
the same way in a loop that ran something else before. Threads finish at moments of
their own, so by default the clock also makes their results land at a fixed point:
it holds what threads hand the loop (`call_soon_threadsafe`) and, at each
iteration's I/O poll, waits for every busy thread to go idle and then releases those
callbacks in arrival order. A thread's
work thus completes in the iteration after it was started, whatever the machine's
timing. Two threads running at once can still finish in either order.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import linecache
import logging
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextvars import Context
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from ._timer import OrderedTimer

__all__ = ["DEFAULT_EPOCH", "VirtualClock"]

logger = logging.getLogger(__name__)

DEFAULT_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
"""The wall time at virtual time zero unless a clock is given another epoch."""

# The longest single real wait in the selector while outside work is in flight; the
# loop then looks again, so a missed wake-up costs at most this much.
_REAL_WAIT = 0.5
# How long the loop waits for a busy thread before it warns and stops waiting for it.
_THREAD_STALL = 10.0
# How often to look again at threads that are busy but sent nothing yet.
_THREAD_POLL = 0.0005

_THREADING_FILE = threading.__file__
# The registries of live and starting threads, read without their lock (which
# `threading.active_count()` takes) since the loop reads them on every iteration.
_ACTIVE_THREADS: dict[int, threading.Thread] = getattr(threading, "_active", {})
_STARTING_THREADS: dict[threading.Thread, bool] = getattr(threading, "_limbo", {})


def _only_the_loop_thread() -> bool:
    if _ACTIVE_THREADS:
        return len(_ACTIVE_THREADS) + len(_STARTING_THREADS) <= 1
    return threading.active_count() <= 1  # threading's internals changed


_QUEUE_FILE = queue.__file__


class VirtualClock:
    """A `Clock` on which the event loop never sleeps: idle time is skipped.

    `ActorSystem(clock=VirtualClock())` attaches it to the running loop for the
    system's life; while attached, the whole loop runs on virtual time. `now()`
    starts at `start`, `wall()` at `epoch`. `jumps` counts how often time skipped
    ahead.
    """

    def __init__(
        self,
        *,
        start: float = 0.0,
        epoch: datetime = DEFAULT_EPOCH,
        wait_for_threads: bool = True,
    ) -> None:
        if epoch.tzinfo is None:
            raise ValueError(f"epoch must be timezone-aware, got {epoch!r}")
        self._now = float(start)
        self._start = float(start)
        self._epoch = epoch.astimezone(UTC)
        self._wall_of = (self._now, self._epoch)
        self._wait_for_threads = wait_for_threads
        self.jumps = 0
        self._holds = 0
        self._attached = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        self._real_select: Callable[[float | None], list[Any]] | None = None
        self._real_threadsafe: Callable[..., asyncio.Handle] | None = None
        self._from_threads: deque[tuple[asyncio.Handle, Callable[..., object], tuple[Any, ...]]]
        self._from_threads = deque()
        self._delivered = threading.Event()
        self._ignored_threads: set[int] = set()
        self._timer_order = itertools.count()

    def __repr__(self) -> str:
        return f"<VirtualClock now={self._now:g}>"

    # -- the Clock protocol ---------------------------------------------------------

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        now, known = self._now, self._wall_of
        if known[0] != now:  # asked many times per instant: computed once
            known = self._wall_of = (now, self._epoch + timedelta(seconds=now - self._start))
        return known[1]

    async def sleep(self, seconds: float) -> None:
        self._running_loop()
        await asyncio.sleep(max(0.0, seconds))

    async def sleep_until(self, deadline: float) -> None:
        self._running_loop()
        await asyncio.sleep(max(0.0, deadline - self._now))

    def call_later(self, delay: float, callback: Callable[[], object]) -> asyncio.TimerHandle:
        return self._running_loop().call_later(max(0.0, delay), callback)

    # -- attaching to a loop ----------------------------------------------------------

    @contextlib.contextmanager
    def attach(self) -> Iterator[None]:
        """Run the current event loop on this clock for the block (re-entrant)."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._install(loop)
        elif self._loop is not loop:
            raise RuntimeError("this VirtualClock is attached to another event loop")
        self._attached += 1
        try:
            yield
        finally:
            self._attached -= 1
            if self._attached == 0:
                self._uninstall()

    @property
    def attached(self) -> bool:
        return self._loop is not None

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        """Keep time still for the block: for outside work the clock cannot see.

        Threads are seen; a subprocess or a network peer is not: wrap the wait for
        it in `with clock.hold():` so that timers do not fire while it works.
        """
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is None:
            raise RuntimeError(
                "the VirtualClock is not attached to an event loop: use it through "
                "ActorSystem(clock=...) or `with clock.attach():`"
            )
        return loop

    def _install(self, loop: asyncio.AbstractEventLoop) -> None:
        selector = getattr(loop, "_selector", None)
        scheduled = getattr(loop, "_scheduled", None)
        if selector is None or scheduled is None:
            raise RuntimeError(
                f"VirtualClock needs asyncio's selector event loop, not {type(loop).__name__}"
            )
        if isinstance(getattr(loop, "time", None), _VirtualTime):
            raise RuntimeError("another VirtualClock already runs this event loop")
        # Timers set before attaching keep their remaining delay, now in virtual time.
        _shift(scheduled, self._now - loop.time())
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._real_select = selector.select
        self._real_threadsafe = loop.call_soon_threadsafe
        # Instance attributes shadow the loop's methods until `_uninstall` deletes them.
        patched: Any = loop
        patched.time = _VirtualTime(self)
        patched.call_at = self._call_at
        patched.call_soon_threadsafe = self._call_soon_threadsafe
        selector.select = self._select

    def _uninstall(self) -> None:
        loop: Any = self._loop
        assert loop is not None
        del loop.time
        del loop.call_at
        del loop.call_soon_threadsafe
        del loop._selector.select
        self._loop = None
        self._release_from_threads()
        _shift(loop._scheduled, loop.time() - self._now)

    # -- what the loop calls --------------------------------------------------------------

    def _call_at(
        self,
        when: float,
        callback: Callable[..., object],
        *args: Any,
        context: Context | None = None,
    ) -> asyncio.TimerHandle:
        """The loop's `call_at` (which `call_later` and every sleep go through), with
        a timer that orders after every earlier timer due at the same instant."""
        loop: Any = self._loop
        assert loop is not None
        if when is None:
            raise TypeError("when cannot be None")
        loop._check_closed()
        if loop._debug:
            loop._check_thread()
            loop._check_callback(callback, "call_at")
        timer = OrderedTimer(when, callback, args, loop, context, next(self._timer_order))
        handle: Any = timer
        if handle._source_traceback:
            del handle._source_traceback[-1]
        heapq.heappush(loop._scheduled, timer)
        handle._scheduled = True
        return timer

    def _call_soon_threadsafe(
        self, callback: Callable[..., object], *args: Any, context: Context | None = None
    ) -> asyncio.Handle:
        loop = self._loop
        real = self._real_threadsafe
        assert real is not None
        if loop is None or not self._wait_for_threads or threading.get_ident() == self._loop_thread:
            return real(callback, *args, context=context)
        # From a worker thread: held until the loop's next poll, so the point where
        # a thread's result lands does not depend on how fast the thread was.
        handle = asyncio.Handle(callback, args, loop, context)
        self._from_threads.append((handle, callback, args))
        self._delivered.set()
        real(_wake_up)
        if self._loop is None:
            # Detached meanwhile, perhaps after its last release: hand it on now.
            self._release_from_threads()
        return handle

    def _release_from_threads(self) -> None:
        loop = self._loop
        while self._from_threads:
            handle, callback, args = self._from_threads.popleft()
            if handle.cancelled():
                continue
            context: Context | None = getattr(handle, "_context", None)
            if loop is not None:
                loop.call_soon(callback, *args, context=context)
            elif self._real_threadsafe is not None:
                self._real_threadsafe(callback, *args, context=context)

    def _select(self, timeout: float | None) -> list[Any]:
        real_select = self._real_select
        assert real_select is not None
        if self._wait_for_threads:
            self._wait_until_threads_idle()
            if self._from_threads:
                self._release_from_threads()
                return real_select(0)
        events = real_select(0)
        if events or timeout == 0:
            return events
        if self._holds or self._busy_threads():
            return real_select(_REAL_WAIT)
        scheduled: list[asyncio.TimerHandle] = getattr(self._loop, "_scheduled", [])
        if not scheduled:
            # No timer at all: only the outside world can wake the loop now.
            return real_select(_REAL_WAIT)
        self._now = max(self._now, scheduled[0].when())
        self.jumps += 1
        return []

    def _wait_until_threads_idle(self) -> None:
        if _only_the_loop_thread():
            return
        started: float | None = None
        while busy := self._busy_threads():
            now = time.monotonic()
            if started is None:
                started = now
            elif now - started > _THREAD_STALL:
                names = {thread.ident: thread.name for thread in threading.enumerate()}
                logger.warning(
                    "virtual clock: threads %s stayed busy for %gs; no longer waiting for them",
                    [names.get(ident, ident) for ident in busy],
                    _THREAD_STALL,
                )
                self._ignored_threads.update(busy)
                return
            self._delivered.wait(_THREAD_POLL)
            self._delivered.clear()

    def _busy_threads(self) -> list[int]:
        """The threads doing work right now (not the loop's own)."""
        if _only_the_loop_thread():
            return []
        own = self._loop_thread
        ignored = self._ignored_threads
        return [
            ident
            for ident, frame in sys._current_frames().items()
            if ident != own and ident not in ignored and not _waiting_for_work(frame)
        ]


class _VirtualTime:
    """`loop.time` while a clock is attached (a class, so attaching twice is detected)."""

    __slots__ = ("_clock",)

    def __init__(self, clock: VirtualClock) -> None:
        self._clock = clock

    def __call__(self) -> float:
        return self._clock._now


def _waiting_for_work(frame: FrameType) -> bool:
    """Whether the thread whose innermost frame this is waits, with nothing to do."""
    code = frame.f_code
    name = code.co_name
    filename = code.co_filename
    if filename == _THREADING_FILE:
        if name == "_wait_for_tstate_lock":
            return True
        if name != "wait":
            return False
        # A Condition wait: idle, unless it is a queue get and an item is queued
        # (the thread was woken for it but has not run yet).
        outer = frame.f_back
        while outer is not None:
            if outer.f_code.co_name == "get" and outer.f_code.co_filename == _QUEUE_FILE:
                waiting_on = outer.f_locals.get("self")
                return not (isinstance(waiting_on, queue.Queue) and len(waiting_on.queue))
            outer = outer.f_back
        return True
    # A `SimpleQueue.get` is a C call, so the frame is the caller's (a thread pool's
    # or aiosqlite's worker loop): idle if it is at a `.get(` and its queues are empty.
    queues = [value for value in frame.f_locals.values() if isinstance(value, queue.SimpleQueue)]
    if not queues or ".get(" not in linecache.getline(filename, frame.f_lineno):
        return False
    return all(waiting_on.empty() for waiting_on in queues)


def _shift(scheduled: list[asyncio.TimerHandle], offset: float) -> None:
    """Move every scheduled timer by `offset` seconds (the heap order stays valid)."""
    for handle in scheduled:
        handle._when += offset  # type: ignore[attr-defined]


def _wake_up() -> None:
    """Scheduled from a thread only to wake the loop's poll."""
