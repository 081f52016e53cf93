"""In-process watch streams and the hub that fans committed events out to them."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

from ._errors import StoreError
from ._keys import in_range
from ._types import Event, EventType
from ._wakeup import Waker, Wakeup

__all__ = ["WatchCancelledError", "WatchHub", "WatchStream", "observing_publishes"]

PublishObserver = Callable[[Sequence[Event], int], None]
_publish_observers: list[PublishObserver] = []


@contextmanager
def observing_publishes(observer: PublishObserver) -> Iterator[None]:
    """Call `observer(events, revision)` each time a hub publishes committed events,
    before any watch is offered them: the moment a write becomes visible, from which
    the benchmarks time its fan-out. (A seam of its own: this module is compiled, so
    patching `WatchHub.publish` would not reach the compiled store that calls it.)"""
    _publish_observers.append(observer)
    try:
        yield
    finally:
        _publish_observers.remove(observer)


logger = logging.getLogger(__name__)


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
    its range up to (like the header revision of etcd's WatchResponse). A batch may
    be the very list other watches of the same range get (one list per write, not
    one per watcher): read it, do not change it.

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
        # Queued batches and the revision each is complete to, side by side: no
        # tuple per batch for the garbage collector to track.
        self._batches: deque[list[Event]] = deque()
        self._revisions: deque[int] = deque()
        self._pending = 0
        self._wakeup: Wakeup | None = None
        self._closed = False
        self._error: WatchCancelledError | None = None
        self._held: list[tuple[list[Event], int]] | None = None
        self._quiet = True
        self._room: asyncio.Future[None] | None = None
        self._held_events = 0
        self.on_close: Callable[[], None] | None = None
        """Called once when the stream closes, however it closes: lets a stream fed
        from elsewhere (an etcd watch) stop its source."""
        self.gate: Callable[[list[Event]], bool] | None = None
        """Asked in the store's commit path whether a batch of live events in range
        matters to this watch's consumer; if not, the consumer is not woken for it
        (its revision still advances), as if the events were out of range. Lets a
        layer that filters further (the API's selectors) filter before the wake-up
        rather than after. It must be quick; if it raises, the batch is delivered."""

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

    def _admits(self, events: list[Event]) -> bool:
        gate = self.gate
        if gate is None:
            return True
        try:
            return gate(events)
        except Exception:
            # The consumer meets the same failure in its own task, where it belongs.
            logger.debug("watch gate failed; delivering the batch", exc_info=True)
            return True

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
        if not events:
            if self._closed:
                return
            if revision > self._queued:
                self._queued = revision
            if self.progress_notify:
                self._batches.append(events)
                self._revisions.append(self._queued)
                self._wake()
            return
        _push_each((self,), events, revision)

    def _advance(self, revision: int) -> None:
        """Nothing in range up to `revision`: the consumer is complete up to there."""
        self._queued = max(self._queued, revision)
        if self._batches:
            self._revisions[-1] = self._queued
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
        if events and batches and batches[-1] and not self._closed:
            matching = [event for event in events if self.wants(event)]
            if not self.prev_kv:
                matching = [Event(e.type, e.kv) for e in matching]
            self._queued = max(self._queued, revision)
            # A new list: a queued batch may be shared with other watches.
            batches[-1] = batches[-1] + matching
            self._revisions[-1] = self._queued
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
        wakeup = self._wakeup
        if wakeup is not None:
            wakeup.wake()

    # Reading.

    def __aiter__(self) -> WatchStream:
        return self

    async def __anext__(self) -> list[Event]:
        # `take()`'s steps, with the wait between them: a batch taken without a call,
        # as most are once the consumer is woken.
        while True:
            if self._batches:
                return self._pop()
            self._check_open()
            await (self._wakeup or self.ready())

    def take(self) -> list[Event] | None:
        """The next batch if one is queued, else None (then await `ready()`).

        Raises `WatchCancelledError` when the store ended the watch, and
        `StopAsyncIteration` once it is closed, as `__anext__` does.
        """
        if self._batches:
            return self._pop()
        self._check_open()
        return None

    def _check_open(self) -> None:
        """Raise what a read of an ended watch raises, if it has ended."""
        if self._error is not None:
            raise self._error
        if self._closed:
            raise StopAsyncIteration

    def _pop(self) -> list[Event]:
        batch = self._batches.popleft()
        revision = self._revisions.popleft()
        self._pending -= len(batch)
        if revision > self.revision:
            self.revision = revision
        room = self._room
        if room is not None and not room.done() and self._pending <= self.capacity // 2:
            room.set_result(None)
        return batch

    def ready(self) -> Wakeup:
        """An awaitable that completes when `take` may have something new.

        With `take`, for a consumer that does more between batches than
        `async for` allows; `__anext__` does both in one coroutine.
        """
        wakeup = self._wakeup
        if wakeup is None:
            wakeup = self._wakeup = Wakeup(self._hub.waker(asyncio.get_running_loop()))
        return wakeup

    def close(self) -> None:
        """Stop watching; events already queued are dropped."""
        self._batches.clear()
        self._revisions.clear()
        self._pending = 0
        self._cancel(None)


def _push_each(streams: Iterable[WatchStream], events: list[Event], revision: int) -> None:
    """Queue `events` (whole revisions, not none) complete up to `revision` on each of
    `streams`, and wake their consumers. A publish runs this once for all the watches
    of a range that a write reaches, so it is kept to the bare steps, with no call per
    watch: a call was about a fifth of a watch's share of a publish."""
    count = len(events)
    for stream in streams:
        if stream._closed:
            continue
        if revision > stream._queued:
            stream._queued = revision
        stream._quiet = False
        stream._batches.append(events)
        stream._revisions.append(stream._queued)
        stream._pending += count
        if stream._pending > stream.capacity:
            stream._cancel(WatchCancelledError(f"watcher fell behind by {stream._pending} events"))
            continue
        wakeup = stream._wakeup
        # `wakeup.wake()`, inline, for the same reason.
        if wakeup is not None and wakeup._step is not None and not wakeup._woken:
            wakeup._woken = True
            woken = wakeup._waker._woken
            if not woken:
                wakeup._loop.call_soon(wakeup._waker._run)
            woken.append(wakeup)


class _Range:
    """The open watches of one key range and filter set: each published event is tested
    once per range, not once per watch, and the watches share the list that matches."""

    __slots__ = ("key", "no_delete", "no_put", "prev_kv", "range_end", "streams")

    def __init__(self, stream: WatchStream) -> None:
        self.key = stream.key
        self.range_end = stream.range_end
        self.no_put = stream.no_put
        self.no_delete = stream.no_delete
        self.prev_kv = stream.prev_kv
        self.streams: dict[WatchStream, None] = {}

    def covers(self, key: bytes) -> bool:
        return in_range(key, self.key, self.range_end)

    def wants(self, event: Event) -> bool:
        """Whether this range's filters let `event` through (its key is in range)."""
        return not (self.no_delete if event.type is EventType.DELETE else self.no_put)


_Signature = tuple[bytes, bytes | None, bool, bool, bool]

_COVERING_KEYS = 65_536
"""Keys whose ranges the hub remembers (all are forgotten at once past this)."""
_NONE: list[Event] = []


def _range_of(stream: WatchStream) -> _Signature:
    return (stream.key, stream.range_end, stream.no_put, stream.no_delete, stream.prev_kv)


class WatchHub:
    """Every open watch of one store, grouped by key range and filters.

    Publishing tests each event once per distinct range; the watches of a range then
    share one list of matching events, so offering a write to thousands of watchers
    of the same range costs each of them an append and a wake-up, not a filter pass.
    """

    def __init__(self) -> None:
        self._waker: Waker | None = None
        self._streams: dict[WatchStream, _Signature] = {}
        self._ranges: dict[_Signature, _Range] = {}
        # The ranges each key written lately falls in: most writes rewrite a key
        # written before (a lease, a node), so an event is matched with one lookup
        # instead of a test per range. Forgotten whenever the ranges change.
        self._covering: dict[bytes, tuple[_Range, ...]] = {}

    def __len__(self) -> int:
        return len(self._streams)

    def waker(self, loop: asyncio.AbstractEventLoop) -> Waker:
        """The one `Waker` of this hub's watches: every consumer a publish wakes
        resumes from the same loop callback."""
        waker = self._waker
        if waker is None or waker.loop is not loop:
            waker = self._waker = Waker(loop)
        return waker

    def streams(self) -> list[WatchStream]:
        return list(self._streams)

    def add(self, stream: WatchStream) -> None:
        signature = _range_of(stream)
        # The signature as it was when added: the one to leave by, whatever happens
        # to the stream's attributes meanwhile.
        self._streams[stream] = signature
        group = self._ranges.get(signature)
        if group is None:
            group = self._ranges[signature] = _Range(stream)
            self._covering.clear()
        group.streams[stream] = None

    def remove(self, stream: WatchStream) -> None:
        signature = self._streams.pop(stream, None)
        if signature is not None:
            group = self._ranges[signature]
            del group.streams[stream]
            if not group.streams:
                del self._ranges[signature]
                self._covering.clear()

    def _select(self, events: Sequence[Event]) -> dict[_Range, list[Event]]:
        """The events each range's watches get (from any start revision), in order."""
        covering = self._covering
        selected: dict[_Range, list[Event]] = {}
        put = EventType.PUT
        for event in events:
            key = event.kv.key
            groups = covering.get(key)
            if groups is None:
                groups = tuple(g for g in self._ranges.values() if g.covers(key))
                if len(covering) >= _COVERING_KEYS:
                    covering.clear()
                covering[key] = groups
            for group in groups:
                # `group.wants(event)`, without a call per event and range
                if not (group.no_put if event.type is put else group.no_delete):
                    found = selected.get(group)
                    if found is None:
                        selected[group] = [event]
                    else:
                        found.append(event)
        return selected

    def publish(self, events: Sequence[Event], revision: int) -> None:
        """Offer committed `events` (whole revisions, up to `revision`) to every watch."""
        if _publish_observers:
            for observer in _publish_observers:
                observer(events, revision)
        selected = self._select(events)
        for group in list(self._ranges.values()):
            matching = selected.get(group, _NONE)
            if matching and not group.prev_kv:
                matching = [Event(event.type, event.kv) for event in matching]
            streams = list(group.streams)
            if not matching:
                for stream in streams:
                    if stream._held is None:
                        stream._advance(revision)
                continue
            first = matching[0].kv.mod_revision
            plain: list[WatchStream] = []
            for stream in streams:
                if stream.start_revision > first:
                    # A watch from a revision not yet reached: only what comes after it.
                    own = [e for e in matching if e.kv.mod_revision >= stream.start_revision]
                    if own:
                        stream._offer(own, revision)
                    elif stream._held is None:
                        stream._advance(revision)
                elif stream._held is not None:
                    stream._offer(matching, revision)
                elif stream.gate is None or stream._admits(matching):
                    plain.append(stream)  # the common case
                else:
                    stream._advance(revision)
            _push_each(plain, matching, revision)

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
