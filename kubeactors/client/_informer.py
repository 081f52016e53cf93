"""`Informer`: list then watch one kind into a local cache, with handlers and indexes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import anyio
import httpx

from ..actors import Clock
from ..api import ApiError, ApiObject, ObjectList, WatchEvent, WatchEventType, object_key
from ._protocol import ApiClient, EventStream
from ._types import BatchHandler, Delta, Indexer

__all__ = ["Informer", "InformerFactory"]

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=ApiObject)

# A change as the informer's own code passes it around: the fields of the `Delta` a
# batch handler gets (type, object, old). A tuple, not a Delta: this module is compiled,
# and reads a tuple's items directly where a Delta's attributes (a msgspec Struct's)
# cost a generic attribute look-up each; Deltas are made only for batch handlers.
_Change = tuple[WatchEventType, R, R | None]

# client-go's reflector backs off 800 ms doubling to 30 s between failed list-watches.
_FIRST_BACKOFF = 0.8
_MAX_BACKOFF = 30.0


def _transient(error: BaseException) -> bool:
    """Whether a failed list or watch is worth retrying: the server unreachable, timing
    out, overloaded (429) or failing (5xx); not a refusal such as 403 or 404."""
    if isinstance(error, ApiError):
        return error.code == 429 or error.code >= 500
    return isinstance(error, OSError | TimeoutError | httpx.TransportError)


class Informer(Generic[R]):
    """Keeps a cache of every object of one kind in step with the API server.

    `run()` lists, then watches from the list's revision, and relists (emitting the
    difference as changes) when the watch expires (410: compacted or fell behind). Handlers
    run in the informer's task after the cache is updated, so a handler always sees
    a cache at least as new as the change it is told of. Sync handlers must be
    quick; an async batch handler gets each batch whole (one hop per batch).
    """

    def __init__(
        self,
        client: ApiClient,
        kind: type[R],
        *,
        namespace: str = "",
        resync_period: float | None = None,
        clock: Clock | None = None,
    ) -> None:
        if resync_period is not None and (resync_period <= 0 or clock is None):
            raise ValueError("resync_period must be positive and needs a clock")
        self.client = client
        self.resync_period = resync_period
        self._clock = clock
        # Taken only to keep a watch batch and a resync or relist from handing their
        # changes to batch handlers at the same time; uncontended, it costs no trip
        # through the event loop (anyio's default lock yields on every acquire).
        self._lock = anyio.Lock(fast_acquire=True)
        self.kind = kind
        self.namespace = namespace
        self.resource_version = ""
        self.synced = anyio.Event()
        self._items: dict[str, R] = {}
        self._indexers: dict[str, Indexer[R]] = {}
        # Keys per indexed value in insertion order (a dict, not a set: a set of strings
        # iterates in an order that changes per process, and runs must replay).
        self._indices: dict[str, dict[str, dict[str, None]]] = {}
        self._handlers: list[
            tuple[
                Callable[[R], None] | None,
                Callable[[R, R], None] | None,
                Callable[[R], None] | None,
            ]
        ] = []
        self._batch_handlers: list[BatchHandler[R]] = []

    # -- configuration -----------------------------------------------------------

    def add_index(self, name: str, indexer: Indexer[R]) -> None:
        """Index the cache by `indexer`; query with `by_index(name, value)`."""
        self._indexers[name] = indexer
        index: dict[str, dict[str, None]] = {}
        for key, obj in self._items.items():
            for value in indexer(obj):
                index.setdefault(value, {})[key] = None
        self._indices[name] = index

    def add_handler(
        self,
        on_add: Callable[[R], None] | None = None,
        on_update: Callable[[R, R], None] | None = None,
        on_delete: Callable[[R], None] | None = None,
    ) -> None:
        """Call `on_add(obj)`, `on_update(old, new)`, `on_delete(obj)` for each change."""
        self._handlers.append((on_add, on_update, on_delete))

    def add_batch_handler(self, handler: BatchHandler[R]) -> None:
        self._batch_handlers.append(handler)

    # -- the cache ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> R | None:
        """The cached object at "namespace/name" (or "name" for cluster-scoped kinds)."""
        return self._items.get(key)

    def items(self) -> list[R]:
        return list(self._items.values())

    @property
    def cache(self) -> Mapping[str, R]:
        """The cache itself by key, read only (it changes as the watch goes on): for a
        loop that looks up many objects without a call to `get` each."""
        return self._items

    def by_index(self, name: str, value: str) -> list[R]:
        keys = self._indices[name].get(value, ())
        return [self._items[key] for key in keys]

    async def wait_synced(self) -> None:
        """Wait until the first list has been taken in and handed to the handlers."""
        await self.synced.wait()

    # -- running -----------------------------------------------------------------

    async def run(self) -> None:
        """List and watch until cancelled (and resync every `resync_period`, if set)."""
        async with anyio.create_task_group() as group:
            if self.resync_period is not None:
                group.start_soon(self._resync_forever)
            await self._list_and_watch()

    async def _resync_forever(self) -> None:
        clock, period = self._clock, self.resync_period
        assert clock is not None
        assert period is not None
        await self.synced.wait()
        while True:
            await clock.sleep(period)
            await self.resync()

    async def resync(self) -> None:
        """Hand every cached object to the handlers again as an update of itself, as
        client-go's resync does: controllers use it to repair what they missed."""
        async with self._lock:
            changes: list[_Change[R]] = [("MODIFIED", obj, obj) for obj in self._items.values()]
            await self._dispatch(changes)

    async def _list_and_watch(self) -> None:
        backoff = _FIRST_BACKOFF
        while True:
            try:
                watch = await self._relist()
            except Exception as error:
                if not _transient(error):
                    raise
                # The API server is away or overloaded: keep the cache and try again,
                # as client-go's reflector does, instead of failing the component.
                logger.warning(
                    "%s informer: list failed (%s); retrying in %.1f s",
                    self.kind.__name__,
                    error,
                    backoff,
                )
                await self._sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
                continue
            backoff = _FIRST_BACKOFF
            try:
                async for batch in watch:
                    if self._batch_handlers or self._lock.locked():
                        async with self._lock:
                            await self._apply_events(batch)
                    else:
                        # Nothing below awaits, so no other dispatch can come between.
                        self._call_handlers(self._take_in(batch))
            except ApiError as error:
                if error.code != 410 and not _transient(error):
                    raise
                logger.warning("%s informer relists: %s", self.kind.__name__, error)
            except (OSError, httpx.TransportError) as error:
                logger.warning("%s informer's watch broke (%s): relists", self.kind.__name__, error)
            finally:
                watch.close()

    async def _sleep(self, seconds: float) -> None:
        if self._clock is not None:
            await self._clock.sleep(seconds)
        else:
            # The loop's time: virtual too when a VirtualClock runs the loop.
            await anyio.sleep(seconds)

    async def _relist(self) -> EventStream[R]:
        listed: ObjectList[R] = await self.client.list(self.kind, self.namespace)
        fresh = {object_key(obj): obj for obj in listed.items}
        changes: list[_Change[R]] = []
        for key, old in list(self._items.items()):
            if key not in fresh:
                self._remove(key, old)
                changes.append(("DELETED", old, None))
        for key, obj in fresh.items():
            previous = self._items.get(key)
            if previous is None:
                self._store(key, obj, None)
                changes.append(("ADDED", obj, None))
            elif previous.metadata.resource_version != obj.metadata.resource_version:
                self._store(key, obj, previous)
                changes.append(("MODIFIED", obj, previous))
        self.resource_version = listed.resource_version
        async with self._lock:
            await self._dispatch(changes)
        self.synced.set()
        return await self.client.watch(self.kind, self.namespace, listed.resource_version)

    async def _apply_events(self, events: Sequence[WatchEvent[R]]) -> None:
        await self._dispatch(self._take_in(events))

    def _take_in(self, events: Sequence[WatchEvent[R]]) -> list[_Change[R]]:
        """Update the cache and indexes from watch events; the changes made."""
        # `changes.append`, not a local bound to it: mypyc makes the first a direct
        # list append, the second a call through the bound method.
        changes: list[_Change[R]] = []
        items = self._items
        # Without indexes (most informers), storing is one assignment: no call per event.
        indexed = bool(self._indexers)
        last: R | None = None
        for event in events:
            kind = event.type
            # An update first: nearly every event a steady cluster sends is one.
            if kind != "MODIFIED" and kind != "ADDED" and kind != "DELETED":
                continue  # a bookmark or an error: no object to take in
            obj = last = event.object
            meta = obj.metadata
            key = f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name  # object_key
            previous = items.get(key)
            if kind == "DELETED":
                if previous is not None:
                    self._remove(key, previous)
                changes.append(("DELETED", obj, previous))
                continue
            if indexed:
                self._store(key, obj, previous)
            else:
                items[key] = obj
            changes.append(
                ("ADDED", obj, None) if previous is None else ("MODIFIED", obj, previous)
            )
        if last is not None:
            self.resource_version = last.metadata.resource_version
        return changes

    def _store(self, key: str, obj: R, previous: R | None) -> None:
        self._items[key] = obj
        for name, indexer in self._indexers.items():
            index = self._indices[name]
            if previous is not None:
                for value in indexer(previous):
                    _discard(index, value, key)
            for value in indexer(obj):
                index.setdefault(value, {})[key] = None

    def _remove(self, key: str, previous: R) -> None:
        del self._items[key]
        for name, indexer in self._indexers.items():
            for value in indexer(previous):
                _discard(self._indices[name], value, key)

    async def _dispatch(self, changes: list[_Change[R]]) -> None:
        if not changes:
            return
        self._call_handlers(changes)
        if self._batch_handlers:
            deltas = [Delta(kind, obj, old) for kind, obj, old in changes]
            for handler in self._batch_handlers:
                await handler(deltas)

    def _call_handlers(self, changes: list[_Change[R]]) -> None:
        for on_add, on_update, on_delete in self._handlers:
            for kind, obj, old in changes:
                if kind == "MODIFIED":
                    if on_update is not None and old is not None:
                        on_update(old, obj)
                elif kind == "ADDED":
                    if on_add is not None:
                        on_add(obj)
                elif on_delete is not None:
                    on_delete(obj)


def _discard(index: dict[str, dict[str, None]], value: str, key: str) -> None:
    keys = index.get(value)
    if keys is not None:
        keys.pop(key, None)
        if not keys:
            del index[value]


class InformerFactory:
    """One shared informer per kind (and namespace): many consumers, one list and one
    watch, as client-go's SharedInformerFactory."""

    def __init__(
        self, client: ApiClient, *, resync_period: float | None = None, clock: Clock | None = None
    ) -> None:
        self.client = client
        self._resync_period = resync_period
        self._clock = clock
        self._informers: dict[tuple[type[ApiObject], str], Informer[Any]] = {}
        self._started: set[tuple[type[ApiObject], str]] = set()
        self._changed: anyio.Event | None = None

    def informer(self, kind: type[R], namespace: str = "") -> Informer[R]:
        """The shared informer of `kind`, made on first use."""
        key = (kind, namespace)
        found = self._informers.get(key)
        if found is None:
            found = Informer(
                self.client,
                kind,
                namespace=namespace,
                resync_period=self._resync_period,
                clock=self._clock,
            )
            self._informers[key] = found
        informer: Informer[R] = found
        return informer

    async def run(self) -> None:
        """Run every informer asked for so far (and any asked for later) until cancelled."""
        async with anyio.create_task_group() as group:
            while True:
                for key, informer in list(self._informers.items()):
                    if key not in self._started:
                        self._started.add(key)
                        group.start_soon(informer.run)
                self._changed = anyio.Event()
                await self._changed.wait()

    def start_new(self) -> None:
        """Start informers asked for since `run` began."""
        if self._changed is not None:
            self._changed.set()

    async def wait_synced(self) -> None:
        for informer in list(self._informers.values()):
            await informer.wait_synced()
