"""`WorkQueue`: the queue controllers are built around, as client-go's.

An item is queued at most once however often it is added; an item being processed
is not handed out again until `done`, and if it was added meanwhile it is queued
again then. `add_rate_limited` delays an item by the larger of its own exponential
back-off (per failure, reset by `forget`) and an overall token bucket. Delays run on
the injected clock, so a virtual clock skips them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

import anyio

from ..actors import Clock, TimerHandle

__all__ = ["BucketRateLimiter", "ItemBackoff", "QueueShutDown", "RateLimiter", "WorkQueue"]

T = TypeVar("T", bound=Hashable)


class QueueShutDown(Exception):
    """`get` on a queue that was shut down and has nothing left."""


class RateLimiter(Protocol[T]):  # type: ignore[misc]
    def when(self, item: T) -> float:
        """How long to wait before `item` is retried (and count the retry)."""
        ...

    def forget(self, item: T) -> None: ...

    def retries(self, item: T) -> int: ...


class ItemBackoff(Generic[T]):
    """Per-item exponential back-off: `base * 2**failures`, at most `cap` seconds."""

    def __init__(self, base: float = 0.005, cap: float = 1000.0) -> None:
        if base <= 0 or cap < base:
            raise ValueError(f"need 0 < base <= cap, got base={base}, cap={cap}")
        self.base = base
        self.cap = cap
        self._failures: dict[T, int] = {}

    def when(self, item: T) -> float:
        failures = self._failures.get(item, 0)
        self._failures[item] = failures + 1
        if failures > 64:
            return self.cap
        return min(self.cap, self.base * math.pow(2, failures))

    def forget(self, item: T) -> None:
        self._failures.pop(item, None)

    def retries(self, item: T) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter(Generic[T]):
    """An overall token bucket: `qps` tokens a second, at most `burst` saved up."""

    def __init__(self, clock: Clock, qps: float = 10.0, burst: int = 100) -> None:
        if qps <= 0 or burst < 1:
            raise ValueError(f"need qps > 0 and burst >= 1, got qps={qps}, burst={burst}")
        self._clock = clock
        self.qps = qps
        self.burst = burst
        self._tokens = float(burst)
        self._last = clock.now()

    def when(self, item: T) -> float:
        now = self._clock.now()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1  # reserve, as golang's Limiter.Reserve: may go negative
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def forget(self, item: T) -> None:
        pass

    def retries(self, item: T) -> int:
        return 0


class _MaxOf(Generic[T]):
    def __init__(self, *limiters: RateLimiter[T]) -> None:
        self._limiters = limiters

    def when(self, item: T) -> float:
        return max(limiter.when(item) for limiter in self._limiters)

    def forget(self, item: T) -> None:
        for limiter in self._limiters:
            limiter.forget(item)

    def retries(self, item: T) -> int:
        return max(limiter.retries(item) for limiter in self._limiters)


class WorkQueue(Generic[T]):
    """A deduplicating queue of keys with delayed and rate-limited adds.

    ```python
    key = await queue.get()
    try:
        await reconcile(key)
        queue.forget(key)
    except Exception:
        queue.add_rate_limited(key)
    finally:
        queue.done(key)
    ```
    """

    def __init__(self, clock: Clock, rate_limiter: RateLimiter[T] | None = None) -> None:
        self._clock = clock
        self._limiter: RateLimiter[T] = (
            rate_limiter
            if rate_limiter is not None
            else _MaxOf(ItemBackoff(), BucketRateLimiter(clock))
        )
        self._queue: deque[T] = deque()
        self._dirty: set[T] = set()
        self._processing: set[T] = set()
        self._waiting: dict[T, tuple[float, TimerHandle]] = {}
        self._ready = anyio.Event()
        self._shut_down = False

    def __len__(self) -> int:
        """Items queued and not yet handed out (not counting delayed ones)."""
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shut_down

    def add(self, item: T) -> None:
        """Queue `item` unless it is queued already (or, if in process, once it is done)."""
        if self._shut_down or item in self._dirty:
            return
        self._dirty.add(item)
        if item in self._processing:
            return
        self._queue.append(item)
        self._ready.set()

    def add_after(self, item: T, delay: float) -> None:
        """Queue `item` after `delay` seconds; an earlier pending add of it wins."""
        if self._shut_down:
            return
        if delay <= 0:
            self.add(item)
            return
        due = self._clock.now() + delay
        pending = self._waiting.get(item)
        if pending is not None:
            if pending[0] <= due:
                return
            pending[1].cancel()

        def fire() -> None:
            self._waiting.pop(item, None)
            self.add(item)

        self._waiting[item] = (due, self._clock.call_later(delay, fire))

    def add_rate_limited(self, item: T) -> None:
        """Queue `item` again after its back-off (one more failure counted)."""
        self.add_after(item, self._limiter.when(item))

    def forget(self, item: T) -> None:
        """`item` succeeded: its back-off starts again from the base delay."""
        self._limiter.forget(item)

    def num_requeues(self, item: T) -> int:
        return self._limiter.retries(item)

    async def get(self) -> T:
        """The next item, waiting for one; `QueueShutDown` once shut down and drained."""
        while not self._queue:
            if self._shut_down:
                raise QueueShutDown("the work queue is shut down")
            self._ready = anyio.Event()
            await self._ready.wait()
        item = self._queue.popleft()
        self._dirty.discard(item)
        self._processing.add(item)
        return item

    def done(self, item: T) -> None:
        """Processing of `item` ended; if it was added meanwhile, it is queued again."""
        self._processing.discard(item)
        if item in self._dirty:
            self._queue.append(item)
            self._ready.set()

    def shut_down(self) -> None:
        """Take no more adds; `get` hands out what is queued, then raises `QueueShutDown`."""
        self._shut_down = True
        for _, handle in self._waiting.values():
            handle.cancel()
        self._waiting.clear()
        self._ready.set()
