"""In-process watch streams and the hub that fans committed events out to them."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence

from ._errors import StoreError
from ._keys import in_range
from ._types import Event, EventType

__all__ = ["WatchCancelledError", "WatchHub", "WatchStream"]


class WatchCancelledError(StoreError):
    """The store ended a watch: it fell too far behind, or its start was compacted
    (then `compact_revision` says from where a new watch may start, as in etcd)."""

    code = "watch_cancelled"

    def __init__(self, reason: str, compact_revision: int = 0) -> None:
        self.reason = reason
        self.compact_revision = compact_revision
        super().__init__(f"watch cancelled: {reason}")


class WatchStream:
    """The events of one watch, as batches in revision order: `async for batch in stream`.

    A batch holds whole revisions. An empty batch is a progress notification (asked
    for with `progress_notify`): no event in the range up to `revision`. After each
    batch is taken, `revision` is the store revision the consumer has every event of
    its range up to (like the header revision of etcd's WatchResponse).

    Events are pushed from the store's commit path without awaiting the consumer.
    A consumer that lets more than `capacity` events pile up is cancelled (its next
    read raises `WatchCancelledError`) so that it can neither grow memory without
    bound nor stall the writers.
    """

    def __init__(
        self,
        hub: WatchHub,
        key: bytes,
        range_end: bytes | None,
        capacity: int,
        *,
        start_revision: int = 0,
        prev_kv: bool = True,
        no_put: bool = False,
        no_delete: bool = False,
        progress_notify: bool = False,
    ) -> None:
        self.key = key
        self.range_end = range_end
        self.capacity = capacity
        self.start_revision = start_revision
        self.prev_kv = prev_kv
        self.no_put = no_put
        self.no_delete = no_delete
        self.progress_notify = progress_notify
        self.revision = 0
        self._queued = 0
        self._hub = hub
        self._batches: deque[tuple[list[Event], int]] = deque()
        self._pending = 0
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._error: WatchCancelledError | None = None
        self._held: list[tuple[list[Event], int]] | None = None
        self._quiet = True
        self._room: asyncio.Future[None] | None = None
        self._held_events = 0
        self.on_close: Callable[[], None] | None = None
        """Called once when the stream closes, however it closes: lets a stream fed
        from elsewhere (an etcd watch) stop its source."""

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def catching_up(self) -> bool:
        return self._held is not None

    def wants(self, event: Event) -> bool:
        if event.kv.mod_revision < self.start_revision:
            return False
        if event.type is EventType.PUT:
            if self.no_put:
                return False
        elif self.no_delete:
            return False
        return in_range(event.kv.key, self.key, self.range_end)

    def _hold(self) -> None:
        """Keep live events aside while older ones are read from the database."""
        self._held = []
        self._held_events = 0

    def _release(self) -> None:
        held, self._held = self._held or [], None
        for batch, revision in held:
            fresh = [event for event in batch if event.kv.mod_revision > self._queued]
            if fresh:
                self._push(fresh, revision)

    def _offer(self, events: list[Event], revision: int) -> None:
        if self._held is not None:
            self._held.append((events, revision))
            self._held_events += len(events)
            if self._held_events > self.capacity:
                self._cancel(
                    WatchCancelledError(
                        f"watcher fell behind by {self._held_events} live events while catching up"
                    )
                )
            return
        self._push(events, revision)

    def _push(self, events: list[Event], revision: int) -> None:
        if self._closed:
            return
        self._queued = max(self._queued, revision)
        if not events:
            if self.progress_notify:
                self._batches.append((events, self._queued))
                self._wake()
            return
        self._quiet = False
        self._batches.append((events, self._queued))
        self._pending += len(events)
        if self._pending > self.capacity:
            self._cancel(WatchCancelledError(f"watcher fell behind by {self._pending} events"))
            return
        self._wake()

    def _advance(self, revision: int) -> None:
        """Nothing in range up to `revision`: the consumer is complete up to there."""
        self._queued = max(self._queued, revision)
        if self._batches:
            events, _ = self._batches[-1]
            self._batches[-1] = (events, self._queued)
        else:
            self.revision = self._queued

    async def _wait_for_room(self) -> bool:
        """Wait until the consumer has taken at least half of what is queued (catch-up
        reads no faster than the consumer takes, instead of overflowing it); False
        when the stream closed meanwhile."""
        while not self._closed and self._pending > self.capacity // 2:
            self._room = asyncio.get_running_loop().create_future()
            try:
                await self._room
            finally:
                self._room = None
        return not self._closed

    def _cancel(self, error: WatchCancelledError | None) -> None:
        if self._closed:
            return
        self._closed = True
        self._error = error
        self._hub.remove(self)
        self._wake()
        room = self._room
        if room is not None and not room.done():
            room.set_result(None)
        on_close, self.on_close = self.on_close, None
        if on_close is not None:
            on_close()

    # Feeding from outside the hub (a stream whose events come from an etcd watch).

    def feed(self, events: list[Event], revision: int) -> None:
        """Queue `events` (whole revisions, in order) complete up to `revision`; events
        outside the stream's range or filters are dropped, prev_kv as asked.

        Events fed while the consumer has not yet taken the previous batch join that
        batch: a source that delivers one revision at a time (etcd) still reaches a
        busy consumer in batches.
        """
        batches = self._batches
        if events and batches and batches[-1][0] and not self._closed:
            matching = [event for event in events if self.wants(event)]
            if not self.prev_kv:
                matching = [Event(e.type, e.kv) for e in matching]
            self._queued = max(self._queued, revision)
            pending, _ = batches[-1]
            pending.extend(matching)  # a list made for this stream alone (see deliver)
            batches[-1] = (pending, self._queued)
            self._pending += len(matching)
            if self._pending > self.capacity:
                self._cancel(WatchCancelledError(f"watcher fell behind by {self._pending} events"))
            return
        WatchHub.deliver(self, events, revision)

    def notify_progress(self, revision: int) -> None:
        """Nothing more in range up to `revision`: an empty batch if progress was asked."""
        self._push([], revision)

    def end(self, error: WatchCancelledError) -> None:
        """Cancel the stream: the consumer's next read raises `error`."""
        self._cancel(error)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> WatchStream:
        return self

    async def __anext__(self) -> list[Event]:
        while True:
            if self._batches:
                batch, revision = self._batches.popleft()
                self._pending -= len(batch)
                self.revision = max(self.revision, revision)
                room = self._room
                if room is not None and not room.done() and self._pending <= self.capacity // 2:
                    room.set_result(None)
                return batch
            if self._error is not None:
                raise self._error
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
        self._streams: dict[WatchStream, None] = {}

    def __len__(self) -> int:
        return len(self._streams)

    def streams(self) -> list[WatchStream]:
        return list(self._streams)

    def add(self, stream: WatchStream) -> None:
        self._streams[stream] = None

    def remove(self, stream: WatchStream) -> None:
        self._streams.pop(stream, None)

    def publish(self, events: Sequence[Event], revision: int) -> None:
        """Offer committed `events` (whole revisions, up to `revision`) to every watch."""
        stripped: dict[int, Event] | None = None
        for stream in list(self._streams):
            matching = [event for event in events if stream.wants(event)]
            if not matching:
                if not stream.catching_up:
                    stream._advance(revision)
                continue
            if not stream.prev_kv:
                if stripped is None:
                    stripped = {id(e): Event(e.type, e.kv) for e in events}
                matching = [stripped[id(e)] for e in matching]
            stream._offer(matching, revision)

    @staticmethod
    def deliver(stream: WatchStream, events: list[Event], revision: int) -> None:
        """Push events read for one stream (catch-up), ahead of any it holds."""
        matching = [event for event in events if stream.wants(event)]
        if not stream.prev_kv:
            matching = [Event(e.type, e.kv) for e in matching]
        if matching:
            stream._push(matching, revision)
        else:
            stream._advance(revision)

    def progress(self, revision: int) -> None:
        """Tell every quiet watch asking for progress that it is complete to `revision`."""
        for stream in list(self._streams):
            if stream.progress_notify and not stream.catching_up:
                if stream._quiet:
                    stream._push([], revision)
                stream._quiet = True

    def close_all(self) -> None:
        for stream in list(self._streams):
            stream._cancel(WatchCancelledError("store stopped"))
