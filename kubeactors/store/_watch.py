"""In-process watch streams and the hub that fans committed events out to them."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

from ._keys import in_range
from ._types import Event, StoreError

__all__ = ["WatchCancelledError", "WatchHub", "WatchStream"]


class WatchCancelledError(StoreError):
    """The store ended a watch: it fell too far behind, or its start was compacted."""

    def __init__(self, reason: str, compact_revision: int = 0) -> None:
        self.reason = reason
        self.compact_revision = compact_revision
        super().__init__(f"watch cancelled: {reason}")


class WatchStream:
    """The events of one watch, as batches in revision order: `async for batch in stream`.

    Events are pushed from the store's commit path without awaiting the consumer.
    A consumer that lets more than `capacity` events pile up is cancelled (its next
    read raises `WatchCancelledError`) so that it can neither grow memory without
    bound nor stall the writers.
    """

    def __init__(self, hub: WatchHub, key: bytes, range_end: bytes | None, capacity: int) -> None:
        self.key = key
        self.range_end = range_end
        self.capacity = capacity
        self._hub = hub
        self._batches: deque[list[Event]] = deque()
        self._pending = 0
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._error: WatchCancelledError | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    def _push(self, events: list[Event]) -> None:
        if self._closed:
            return
        self._batches.append(events)
        self._pending += len(events)
        if self._pending > self.capacity:
            self._cancel(WatchCancelledError(f"watcher fell behind by {self._pending} events"))
            return
        self._wake()

    def _cancel(self, error: WatchCancelledError | None) -> None:
        if self._closed:
            return
        self._closed = True
        self._error = error
        self._hub.remove(self)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> WatchStream:
        return self

    async def __anext__(self) -> list[Event]:
        while True:
            if self._error is not None:
                raise self._error
            if self._batches:
                batch = self._batches.popleft()
                self._pending -= len(batch)
                return batch
            if self._closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def close(self) -> None:
        """Stop watching; events already queued are dropped."""
        self._batches.clear()
        self._pending = 0
        self._cancel(None)


class WatchHub:
    """Every open watch of one store; publishing filters each batch by the watch's range."""

    def __init__(self) -> None:
        self._streams: list[WatchStream] = []

    def __len__(self) -> int:
        return len(self._streams)

    def add(self, stream: WatchStream, backlog: Sequence[Event]) -> None:
        self._streams.append(stream)
        if backlog:
            self.publish_to(stream, backlog)

    def remove(self, stream: WatchStream) -> None:
        if stream in self._streams:
            self._streams.remove(stream)

    def publish(self, events: Sequence[Event]) -> None:
        for stream in list(self._streams):
            self.publish_to(stream, events)

    @staticmethod
    def publish_to(stream: WatchStream, events: Sequence[Event]) -> None:
        key, end = stream.key, stream.range_end
        matching = [event for event in events if in_range(event.kv.key, key, end)]
        if matching:
            stream._push(matching)

    def close_all(self) -> None:
        for stream in list(self._streams):
            stream._cancel(WatchCancelledError("store stopped"))
