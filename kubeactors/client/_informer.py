"""`Informer`: list then watch one kind into a local cache, with handlers and indexes."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Generic, TypeVar

import anyio
import msgspec

from ..api import ApiError, ApiObject, ApiWatch, ObjectList, WatchEvent, WatchEventType, object_key
from ._client import Client

__all__ = ["BatchHandler", "Delta", "Indexer", "Informer"]

logger = logging.getLogger(__name__)

R = TypeVar("R", bound=ApiObject)

Indexer = Callable[[R], Iterable[str]]
"""The index values of an object (for pods by node: `[pod.spec.nodeName]`)."""

BatchHandler = Callable[[list["Delta[R]"]], Awaitable[None]]
"""Called with each batch of changes, after the cache has taken them in."""


class Delta(msgspec.Struct, Generic[R], frozen=True):
    """One change to the cache: the object now, and for an update the one it replaced."""

    type: WatchEventType
    object: R
    old: R | None = None


class Informer(Generic[R]):
    """Keeps a cache of every object of one kind in step with the API server.

    `run()` lists, then watches from the list's revision, and relists (emitting the
    difference as changes) when the watch expires (410: compacted or fell behind). Handlers
    run in the informer's task after the cache is updated, so a handler always sees
    a cache at least as new as the change it is told of. Sync handlers must be
    quick; an async batch handler gets each batch whole (one hop per batch).
    """

    def __init__(self, client: Client, kind: type[R], *, namespace: str = "") -> None:
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.resource_version = ""
        self.synced = anyio.Event()
        self._items: dict[str, R] = {}
        self._indexers: dict[str, Indexer[R]] = {}
        self._indices: dict[str, dict[str, set[str]]] = {}
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
        index: dict[str, set[str]] = {}
        for key, obj in self._items.items():
            for value in indexer(obj):
                index.setdefault(value, set()).add(key)
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

    def by_index(self, name: str, value: str) -> list[R]:
        keys = self._indices[name].get(value, ())
        return [self._items[key] for key in keys]

    async def wait_synced(self) -> None:
        """Wait until the first list has been taken in and handed to the handlers."""
        await self.synced.wait()

    # -- running -----------------------------------------------------------------

    async def run(self) -> None:
        """List and watch until cancelled."""
        while True:
            watch = await self._relist()
            try:
                async for batch in watch:
                    await self._apply_events(batch)
            except ApiError as error:
                if error.code != 410:
                    raise
                logger.warning("%s informer relists: %s", self.kind.__name__, error)
            finally:
                watch.close()

    async def _relist(self) -> ApiWatch[R]:
        listed: ObjectList[R] = await self.client.list(self.kind, self.namespace)
        fresh = {object_key(obj): obj for obj in listed.items}
        deltas: list[Delta[R]] = []
        for key, old in list(self._items.items()):
            if key not in fresh:
                self._remove(key, old)
                deltas.append(Delta("DELETED", old))
        for key, obj in fresh.items():
            previous = self._items.get(key)
            if previous is None:
                self._store(key, obj, None)
                deltas.append(Delta("ADDED", obj))
            elif previous.metadata.resource_version != obj.metadata.resource_version:
                self._store(key, obj, previous)
                deltas.append(Delta("MODIFIED", obj, previous))
        self.resource_version = listed.resource_version
        await self._dispatch(deltas)
        self.synced.set()
        return await self.client.watch(self.kind, self.namespace, listed.resource_version)

    async def _apply_events(self, events: Sequence[WatchEvent[R]]) -> None:
        deltas: list[Delta[R]] = []
        for event in events:
            obj = event.object
            key = object_key(obj)
            previous = self._items.get(key)
            if event.type == "DELETED":
                if previous is not None:
                    self._remove(key, previous)
                deltas.append(Delta("DELETED", obj, previous))
            else:
                self._store(key, obj, previous)
                if previous is None:
                    deltas.append(Delta("ADDED", obj))
                else:
                    deltas.append(Delta("MODIFIED", obj, previous))
            self.resource_version = obj.metadata.resource_version
        await self._dispatch(deltas)

    def _store(self, key: str, obj: R, previous: R | None) -> None:
        self._items[key] = obj
        for name, indexer in self._indexers.items():
            index = self._indices[name]
            if previous is not None:
                for value in indexer(previous):
                    _discard(index, value, key)
            for value in indexer(obj):
                index.setdefault(value, set()).add(key)

    def _remove(self, key: str, previous: R) -> None:
        del self._items[key]
        for name, indexer in self._indexers.items():
            for value in indexer(previous):
                _discard(self._indices[name], value, key)

    async def _dispatch(self, deltas: list[Delta[R]]) -> None:
        if not deltas:
            return
        for on_add, on_update, on_delete in self._handlers:
            for delta in deltas:
                if delta.type == "ADDED":
                    if on_add is not None:
                        on_add(delta.object)
                elif delta.type == "MODIFIED":
                    if on_update is not None and delta.old is not None:
                        on_update(delta.old, delta.object)
                elif on_delete is not None:
                    on_delete(delta.object)
        for handler in self._batch_handlers:
            await handler(deltas)


def _discard(index: dict[str, set[str]], value: str, key: str) -> None:
    keys = index.get(value)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del index[value]
