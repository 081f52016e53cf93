"""A rate-limited work queue of keys, on the injected clock (client-go's workqueue).

Private stand-in until `kubeactors.client` ships its `WorkQueue`; the shape is the
same: deduplicating, one worker per key at a time, per-item exponential back-off
under an overall token bucket.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from typing import Generic, TypeVar

import anyio

from ..actors import Clock, TimerHandle

__all__ = ["WorkQueue"]

K = TypeVar("K", bound=Hashable)


class WorkQueue(Generic[K]):
    """Keys waiting to be reconciled.

    A key added while queued is not queued twice; a key added while a worker holds it
    is queued again when that worker calls `done`, so no two workers ever reconcile
    the same key at once and no change is missed. `add_rate_limited` re-adds after
    `base_delay * 2**failures` (capped at `max_delay`), and never faster than the
    overall bucket of `qps` with `burst`, as upstream's default controller limiter.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        base_delay: float = 0.005,
        max_delay: float = 1000.0,
        qps: float = 10.0,
        burst: int = 100,
    ) -> None:
        if base_delay <= 0 or max_delay < base_delay:
            raise ValueError(f"need 0 < base_delay <= max_delay, got {base_delay}, {max_delay}")
        if qps <= 0 or burst < 1:
            raise ValueError(f"need qps > 0 and burst >= 1, got {qps}, {burst}")
        self._clock = clock
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._qps = qps
        self._burst = float(burst)
        self._tokens = float(burst)
        self._refilled = clock.now()
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._failures: dict[K, int] = {}
        self._timers: dict[K, tuple[float, TimerHandle]] = {}
        self._ready = anyio.Event()
        self._shut_down = False

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def processing(self) -> int:
        return len(self._processing)

    @property
    def waiting(self) -> int:
        """Keys scheduled to come back later (back-off or `add_after`)."""
        return len(self._timers)

    def add(self, key: K) -> None:
        if self._shut_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key not in self._processing:
            self._queue.append(key)
            self._ready.set()

    def add_after(self, key: K, delay: float) -> None:
        """Add `key` after `delay` seconds; an earlier pending add for it wins."""
        if self._shut_down:
            return
        if delay <= 0:
            self.add(key)
            return
        due = self._clock.now() + delay
        pending = self._timers.get(key)
        if pending is not None:
            if pending[0] <= due:
                return
            pending[1].cancel()

        def fire() -> None:
            self._timers.pop(key, None)
            self.add(key)

        self._timers[key] = (due, self._clock.call_later(delay, fire))

    def add_rate_limited(self, key: K) -> None:
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        item_delay = min(self._max_delay, self._base_delay * 2.0**failures)
        self.add_after(key, max(item_delay, self._bucket_delay()))

    def forget(self, key: K) -> None:
        """Clear `key`'s failure count (it reconciled)."""
        self._failures.pop(key, None)

    def requeues(self, key: K) -> int:
        return self._failures.get(key, 0)

    async def get(self) -> K:
        """The next key; the caller must call `done(key)` when finished with it."""
        while not self._queue:
            if self._shut_down:
                raise anyio.EndOfStream
            if self._ready.is_set():
                self._ready = anyio.Event()
            await self._ready.wait()
        key = self._queue.popleft()
        self._dirty.discard(key)
        self._processing.add(key)
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._ready.set()

    def shut_down(self) -> None:
        """Stop: waiting `get` calls end with `anyio.EndOfStream`, timers are cancelled."""
        self._shut_down = True
        for _, timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._ready.set()

    def _bucket_delay(self) -> float:
        """Take a token from the overall bucket; how long until that token exists."""
        now = self._clock.now()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._qps)
        self._refilled = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self._qps
