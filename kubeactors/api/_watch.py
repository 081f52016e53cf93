"""`ApiWatch`: a store watch seen as Kubernetes watch events of one kind."""

from __future__ import annotations

from typing import Generic, TypeVar

from ..store import Event, EventType, WatchStream
from ._kinds import ResourceKind
from ._meta import WatchEvent
from ._node import Node
from ._pod import Pod

__all__ = ["ApiWatch"]

R = TypeVar("R", bound=Pod | Node)


class ApiWatch(Generic[R]):
    """Batches of `WatchEvent`s in revision order: `async for batch in watch`.

    Decoding happens in the consumer's task, not in the API server's, so a slow
    consumer costs only itself. A watch the store cancels (its consumer fell behind)
    raises `WatchCancelledError`: the consumer relists, as client-go does on 410.
    """

    def __init__(
        self, kind: ResourceKind[R], stream: WatchStream, initial: list[WatchEvent[R]]
    ) -> None:
        self.kind: ResourceKind[R] = kind
        self._stream = stream
        self._initial: list[WatchEvent[R]] = initial

    def __aiter__(self) -> ApiWatch[R]:
        return self

    async def __anext__(self) -> list[WatchEvent[R]]:
        if self._initial:
            batch, self._initial = self._initial, []
            return batch
        while True:
            events = await self._stream.__anext__()
            converted = [self._convert(event) for event in events]
            batch = [event for event in converted if event is not None]
            if batch:
                return batch

    def _convert(self, event: Event) -> WatchEvent[R] | None:
        kind = self.kind
        if event.type is EventType.PUT:
            obj = kind.decode(event.kv.value, event.kv.mod_revision)
            return WatchEvent("ADDED" if event.prev_kv is None else "MODIFIED", obj)
        if event.prev_kv is None:
            return None
        # A deleted object carries the revision of its deletion, as in Kubernetes.
        return WatchEvent("DELETED", kind.decode(event.prev_kv.value, event.kv.mod_revision))

    def close(self) -> None:
        self._stream.close()
