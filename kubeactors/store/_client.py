"""`Store`: the typed, awaitable face of the store actor."""

from __future__ import annotations

from pathlib import Path

from ..actors import ActorRef, RestartPolicy, Supervisor
from ._actor import StoreActor
from ._keys import prefix_end
from ._messages import Delete, Get, Put, Range, StoreRequest, Watch
from ._types import KeyValue, RangeResult, WriteResult
from ._watch import WatchStream

__all__ = ["Store"]


class Store:
    """Methods that ask the store actor and return its answers."""

    def __init__(self, ref: ActorRef[StoreRequest], *, timeout: float | None = None) -> None:
        self.ref = ref
        self._timeout = timeout

    @classmethod
    def spawn(
        cls,
        supervisor: Supervisor,
        path: str | Path,
        *,
        name: str = "store",
        synchronous: str = "FULL",
    ) -> Store:
        """Start a store actor on the database at `path` under `supervisor`."""
        ref = supervisor.spawn(
            lambda: StoreActor(path, synchronous=synchronous),
            name=name,
            restart=RestartPolicy.PERMANENT,
        )
        return cls(ref)

    async def put(
        self, key: bytes, value: bytes, *, expect_mod_revision: int | None = None
    ) -> WriteResult:
        return await self.ref.ask(
            lambda reply: Put(key, value, reply, expect_mod_revision), self._timeout
        )

    async def delete(self, key: bytes, *, expect_mod_revision: int | None = None) -> WriteResult:
        return await self.ref.ask(
            lambda reply: Delete(key, reply, expect_mod_revision), self._timeout
        )

    async def get(self, key: bytes) -> KeyValue | None:
        return await self.ref.ask(lambda reply: Get(key, reply), self._timeout)

    async def range(
        self, key: bytes, range_end: bytes | None = None, *, limit: int = 0
    ) -> RangeResult:
        return await self.ref.ask(lambda reply: Range(key, range_end, reply, limit), self._timeout)

    async def range_prefix(self, prefix: bytes, *, limit: int = 0) -> RangeResult:
        return await self.range(prefix, prefix_end(prefix), limit=limit)

    async def watch(
        self, key: bytes, range_end: bytes | None = None, *, start_revision: int = 0
    ) -> WatchStream:
        return await self.ref.ask(
            lambda reply: Watch(key, range_end, start_revision, reply), self._timeout
        )

    async def watch_prefix(self, prefix: bytes, *, start_revision: int = 0) -> WatchStream:
        return await self.watch(prefix, prefix_end(prefix), start_revision=start_revision)
