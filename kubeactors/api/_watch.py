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


_CONVERTED_BATCHES = 64
"""Converted batches kept: enough for watchers that are a few writes apart."""


class _Converted(NamedTuple):
    events: list[Event]
    kind: ResourceKind[Any]
    batch: list[WatchEvent[Any]]


class DecodeCache:
    """Objects decoded from watch events, by key and revision, for one API server.

    Every watcher of a kind sees the same change; with this cache the first one
    decodes it and the others share that frozen object. Bounded: the oldest entries
    go first, which suits watchers that read at about the same pace.
    """

    def __init__(self, size: int = 16_384) -> None:
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        self._size = size
        self._items: OrderedDict[tuple[bytes, int], Any] = OrderedDict()
        # The batches lately converted for watches without selectors, by the
        # identity of the store's batch: the store hands every watch of a range the
        # same list, so the watchers after the first take the converted batch as it
        # is. Each entry holds its list, so that the identity stays unique.
        self._batches: dict[tuple[int, int], _Converted] = {}

    def peek(self, key: bytes, revision: int) -> Any:
        """The object stored at `key` as of `revision`, if this cache holds it."""
        return self._items.get((key, revision))

    def remember(self, key: bytes, revision: int, obj: Any) -> None:
        """Hold an object the server has just written, so an update from it needs no read."""
        if len(self._items) >= self._size:
            self._items.popitem(last=False)
        self._items[(key, revision)] = obj

    def converted(
        self,
        kind: ResourceKind[R],
        events: list[Event],
        convert: Callable[[Event], WatchEvent[R] | None],
    ) -> list[WatchEvent[R]]:
        """`events` converted by `convert`, once for every watch of `kind` that gets
        this very list (the store never changes a batch it handed out); each caller
        gets a list of its own."""
        entry = (id(events), id(kind))
        found = self._batches.get(entry)
        if found is not None and found.events is events and found.kind is kind:
            batch: list[WatchEvent[R]] = found.batch
        else:
            converted = [convert(event) for event in events]
            batch = [event for event in converted if event is not None]
            if len(self._batches) >= _CONVERTED_BATCHES:
                del self._batches[next(iter(self._batches))]
            self._batches[entry] = _Converted(events, kind, batch)
        return batch.copy()

    def decode(self, kind: ResourceKind[R], key: bytes, data: bytes, revision: int) -> R:
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

    def __aiter__(self) -> ApiWatch[R]:
        return self

    async def __anext__(self) -> list[WatchEvent[R]]:
        if self._initial:
            batch, self._initial = self._initial, []
            return batch
        stream = self._stream
        while True:
            try:
                events = stream.take()
            except WatchCancelledError as error:
                raise ApiError.expired(str(error)) from error
            if events is None:
                await stream.ready()
                continue
            if not events:
                if self._bookmarks:
                    return [self._bookmark(self._stream.revision)]
                continue
            if self._predicate is None:
                batch = self._cache.converted(self.kind, events, self._convert)
            else:
                converted = [self._convert(event) for event in events]
                batch = [event for event in converted if event is not None]
            if batch:
                return batch

    def _bookmark(self, revision: int) -> WatchEvent[R]:
        marker = self.kind.type(metadata=ObjectMeta(resource_version=str(revision)))
        return WatchEvent("BOOKMARK", marker)

    def _convert(self, event: Event) -> WatchEvent[R] | None:
        kind, kv, cache = self.kind, event.kv, self._cache
        if event.type is EventType.PUT:
            obj = cache.decode(kind, kv.key, kv.value, kv.mod_revision)
            if self._predicate is None:
                return WatchEvent("ADDED" if event.prev_kv is None else "MODIFIED", obj)
            now = self._predicate(obj)
            before = event.prev_kv is not None and self._predicate(
                cache.decode(kind, kv.key, event.prev_kv.value, event.prev_kv.mod_revision)
            )
            if now:
                return WatchEvent("MODIFIED" if before else "ADDED", obj)
            return WatchEvent("DELETED", obj) if before else None
        if event.prev_kv is None:
            return None
        # A deleted object carries the revision of its deletion, as in Kubernetes.
        deleted = cache.decode(kind, kv.key, event.prev_kv.value, kv.mod_revision)
        if self._predicate is not None and not self._predicate(deleted):
            return None
        return WatchEvent("DELETED", deleted)

    def close(self) -> None:
        self._stream.close()
