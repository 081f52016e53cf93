"""`ApiWatch`: a store watch seen as Kubernetes watch events of one kind."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, NamedTuple, TypeVar

from ..store import Event, EventType, WatchCancelledError, WatchStream
from ._kinds import ResourceKind
from ._meta import ApiObject, ObjectMeta, WatchEvent
from ._status import ApiError

__all__ = ["ApiWatch", "DecodeCache"]

R = TypeVar("R", bound=ApiObject)

_PUT = EventType.PUT


_SHARED_BATCHES = 128
"""Batches kept in their shared forms: enough for watchers that are a few writes apart."""

T = TypeVar("T")


class _Shared(NamedTuple):
    events: list[Event]
    kind: ResourceKind[Any]
    value: Any


class Change(NamedTuple, Generic[R]):
    """One store event decoded for watches with selectors: a put's object now and
    before (None if the key is new), or a deleted object (`put` False, `old` None)."""

    put: bool
    obj: R
    old: R | None


class DecodeCache:
    """Objects decoded from watch events, by key and revision, for one API server.

    Every watcher of a kind sees the same change; with this cache the first one
    decodes it and the others share that frozen object. Bounded: the oldest entries
    go first, which suits watchers that read at about the same pace.

    Apart from those, the last object the server wrote to each key, for at least the
    `keys // 2` keys most lately written and at most `keys` (two if `keys` is one): an
    update is made from the latest version, however many writes to other keys came
    since (a node posts its status once a minute, while thousands of leases are renewed
    in between), and the watchers of a write find it there.
    """

    def __init__(self, size: int = 16_384, keys: int = 131_072) -> None:
        if size <= 0 or keys <= 0:
            raise ValueError(f"size and keys must be positive, got {size} and {keys}")
        self._size = size
        self._items: OrderedDict[tuple[bytes, int], Any] = OrderedDict()
        # The last writes in two generations of plain dicts: a write goes to the young
        # one, which when full of `keys // 2` keys becomes the old one (the old one
        # goes). One store per write, where keeping an exact order of last writes cost
        # an OrderedDict's store and a move to its end (about 1,900 instructions a
        # write under callgrind, every Lease renewal). Read the young one first.
        self._generation = max(1, keys // 2)
        self._written: dict[bytes, tuple[int, Any]] = {}
        self._older: dict[bytes, tuple[int, Any]] = {}
        # Forms of the store's batches shared by every watch of a kind, by the
        # identity of the store's list: the store hands every watch of a range the
        # same list, so the watchers after the first take what the first made.
        # Each entry holds its list, so that the identity stays unique.
        self._batches: dict[tuple[int, int, bool], _Shared] = {}

    def peek(self, key: bytes, revision: int) -> Any:
        """The object stored at `key` as of `revision`, if this cache holds it."""
        # The generations read here and in `decode` without a helper: a helper's
        # (int, object) result is boxed into a new tuple per call by mypyc.
        written = self._written.get(key)
        if written is None:
            written = self._older.get(key)
        if written is not None and written[0] == revision:
            return written[1]
        return self._items.get((key, revision))

    def remember(self, key: bytes, revision: int, obj: Any) -> None:
        """Hold an object the server has just written, so an update from it needs no
        read, and its watchers need not decode it."""
        written = self._written
        if len(written) >= self._generation and key not in written:
            self._older = written
            self._written = written = {}
        written[key] = (revision, obj)

    def forget(self, key: bytes) -> None:
        """The object at `key` is gone: hold its last write no longer."""
        self._written.pop(key, None)
        self._older.pop(key, None)

    def _shared(
        self,
        kind: ResourceKind[R],
        events: list[Event],
        plain: bool,
        make: Callable[[DecodeCache, ResourceKind[R], list[Event]], T],
    ) -> T:
        entry = (id(events), id(kind), plain)
        found = self._batches.get(entry)
        if found is not None and found.events is events and found.kind is kind:
            value: T = found.value
            return value
        value = make(self, kind, events)
        if len(self._batches) >= _SHARED_BATCHES:
            del self._batches[next(iter(self._batches))]
        self._batches[entry] = _Shared(events, kind, value)
        return value

    def converted(self, kind: ResourceKind[R], events: list[Event]) -> list[WatchEvent[R]]:
        """`events` as the watch events of a watch without selectors, made once for
        every watch of `kind` that gets this very list (the store never changes a
        batch it handed out); each caller gets a list of its own."""
        # `_shared`, inline for the hit that all watchers after the first make.
        found = self._batches.get((id(events), id(kind), True))
        if found is not None and found.events is events and found.kind is kind:
            shared: list[WatchEvent[R]] = found.value
            return shared.copy()
        return self._shared(kind, events, True, _watch_events).copy()

    def changes(self, kind: ResourceKind[R], events: list[Event]) -> list[Change[R]]:
        """`events` decoded (objects now and before) once for every watch of `kind`
        with selectors that gets this very list; shared, not to be changed."""
        return self._shared(kind, events, False, _changes)

    def decode(self, kind: ResourceKind[R], key: bytes, data: bytes, revision: int) -> R:
        written = self._written.get(key)
        if written is None:
            written = self._older.get(key)
        if written is not None and written[0] == revision and type(written[1]) is kind.type:
            found: R = written[1]
            return found
        entry = (key, revision)
        obj: R | None = self._items.get(entry)
        if obj is not None and type(obj) is not kind.type:
            # Another version of a custom kind read the same object: decode it afresh.
            return kind.decode(data, revision)
        if obj is None:
            obj = kind.decode(data, revision)
            if len(self._items) >= self._size:
                self._items.popitem(last=False)
            self._items[entry] = obj
        return obj


class ApiWatch(Generic[R]):
    """Batches of `WatchEvent`s in revision order: `async for batch in watch`.

    Decoding happens in the consumer's task, not in the API server's, so a slow
    consumer costs only itself. A watch the store ends (its start was compacted, or
    its consumer fell behind) raises an `ApiError` 410 Expired: the consumer relists,
    as client-go does.

    With a `predicate` (the request's label and field selectors), an object that
    comes to match is ADDED, one that stops matching is DELETED, as in Kubernetes.
    With `bookmarks`, a quiet stretch yields a BOOKMARK carrying the revision the
    watch is complete to, so a client can resume from there.
    """

    def __init__(
        self,
        kind: ResourceKind[R],
        stream: WatchStream,
        initial: list[WatchEvent[R]],
        cache: DecodeCache | None = None,
        *,
        predicate: Callable[[R], bool] | None = None,
        bookmarks: bool = False,
    ) -> None:
        self.kind: ResourceKind[R] = kind
        self._cache = cache if cache is not None else DecodeCache()
        self._stream = stream
        self._initial: list[WatchEvent[R]] = initial
        self._predicate = predicate
        self._bookmarks = bookmarks
        if predicate is not None:
            # Selectors are tried before the consumer is woken: a watcher that one
            # write in a thousand concerns (a kubelet's spec.nodeName=) is woken once.
            stream.gate = self._matters

    def __aiter__(self) -> ApiWatch[R]:
        return self

    async def __anext__(self) -> list[WatchEvent[R]]:
        if self._initial:
            batch, self._initial = self._initial, []
            return batch
        stream = self._stream
        while True:
            try:
                # The stream's own `__anext__`: one coroutine that waits if it must,
                # rather than a call to see whether a batch is there, one for what to
                # wait on and one more to take the batch once woken.
                events = await stream.__anext__()
            except WatchCancelledError as error:
                raise ApiError.expired(str(error)) from error
            if not events:
                if self._bookmarks:
                    return [self._bookmark(self._stream.revision)]
                continue
            if self._predicate is None:
                batch = self._cache.converted(self.kind, events)
            else:
                batch = self._select(self._cache.changes(self.kind, events), self._predicate)
            if batch:
                return batch

    def _bookmark(self, revision: int) -> WatchEvent[R]:
        marker = self.kind.type(metadata=ObjectMeta(resource_version=str(revision)))
        return WatchEvent("BOOKMARK", marker)

    def _matters(self, events: list[Event]) -> bool:
        """Whether any of `events` gives this watch a watch event (see `_select`)."""
        predicate = self._predicate
        assert predicate is not None
        for put, obj, old in self._cache.changes(self.kind, events):
            if predicate(obj) or (put and old is not None and predicate(old)):
                return True
        return False

    @staticmethod
    def _select(changes: list[Change[R]], predicate: Callable[[R], bool]) -> list[WatchEvent[R]]:
        """The watch events of a watch with selectors: an object that comes to match
        is ADDED, one that stops matching DELETED."""
        batch: list[WatchEvent[R]] = []
        for put, obj, old in changes:
            if put:
                before = old is not None and predicate(old)
                if predicate(obj):
                    batch.append(WatchEvent("MODIFIED" if before else "ADDED", obj))
                elif before:
                    batch.append(WatchEvent("DELETED", obj))
            elif predicate(obj):
                batch.append(WatchEvent("DELETED", obj))
        return batch

    def close(self) -> None:
        self._stream.close()

    def on_close(self, callback: Callable[[], None]) -> None:
        """Call `callback` once when this watch ends, however it ends (closed by its
        consumer, or cancelled by the store)."""
        stream = self._stream
        if stream.closed:
            callback()
            return
        earlier = stream.on_close
        if earlier is None:
            stream.on_close = callback
            return

        def both() -> None:
            earlier()
            callback()

        stream.on_close = both


def _watch_events(
    cache: DecodeCache, kind: ResourceKind[R], events: list[Event]
) -> list[WatchEvent[R]]:
    batch: list[WatchEvent[R]] = []
    written = cache._written
    kind_type = kind.type
    for event in events:
        kv = event.kv
        if event.type is _PUT:
            # What `cache.decode` finds first, without a call: the object the server
            # wrote (a heartbeat's Lease or Node), most often in the young generation.
            last = written.get(kv.key)
            if last is not None and last[0] == kv.mod_revision and type(last[1]) is kind_type:
                obj = last[1]
            else:
                obj = cache.decode(kind, kv.key, kv.value, kv.mod_revision)
            batch.append(WatchEvent("ADDED" if event.prev_kv is None else "MODIFIED", obj))
        else:
            prev = event.prev_kv
            if prev is not None:
                # A deleted object carries the revision of its deletion, as in Kubernetes.
                batch.append(
                    WatchEvent("DELETED", cache.decode(kind, kv.key, prev.value, kv.mod_revision))
                )
    return batch


def _changes(cache: DecodeCache, kind: ResourceKind[R], events: list[Event]) -> list[Change[R]]:
    changes: list[Change[R]] = []
    for event in events:
        kv, prev = event.kv, event.prev_kv
        if event.type is EventType.PUT:
            obj = cache.decode(kind, kv.key, kv.value, kv.mod_revision)
            old = (
                None if prev is None else cache.decode(kind, kv.key, prev.value, prev.mod_revision)
            )
            changes.append(Change(True, obj, old))
        elif prev is not None:
            changes.append(
                Change(False, cache.decode(kind, kv.key, prev.value, kv.mod_revision), None)
            )
    return changes
