"""`Store`: the typed, awaitable face of the store actor."""

from __future__ import annotations

from pathlib import Path

from ..actors import ActorRef, RestartPolicy, Supervisor
from ._actor import StoreActor
from ._keys import prefix_end
from ._messages import (
    Compact,
    Delete,
    DeleteRange,
    Get,
    LeaseGrant,
    LeaseKeepAlive,
    LeaseList,
    LeaseRevoke,
    LeaseTimeToLiveRequest,
    Put,
    Range,
    Status,
    StoreRequest,
    StoreStatus,
    Txn,
    Watch,
)
from ._ops import Compare, Op, TxnOp
from ._options import StoreOptions
from ._types import (
    DeleteResult,
    KeyValue,
    LeaseGrantResult,
    LeaseTimeToLive,
    RangeResult,
    TxnResult,
    WriteResult,
)
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
        options: StoreOptions | None = None,
    ) -> Store:
        """Start a store actor on the database at `path` under `supervisor`."""
        if options is None:
            options = StoreOptions(synchronous=synchronous)
        ref = supervisor.spawn(
            lambda: StoreActor(path, options=options),
            name=name,
            restart=RestartPolicy.PERMANENT,
        )
        return cls(ref)

    @classmethod
    def connect(
        cls,
        supervisor: Supervisor,
        url: str | Path,
        *,
        name: str = "store",
        options: StoreOptions | None = None,
    ) -> Store:
        """Start the store that `url` names, under `supervisor`.

        `etcd://host:port[,host:port...]`: a real etcd cluster (its members; needs
        the `etcd` extra), through `EtcdStoreActor`. Anything else is the path of
        the embedded store's database, as for `spawn` (`options` apply to it only).
        Both answer the same messages, so what runs above the store cannot tell.
        """
        text = str(url)
        if not text.startswith("etcd://"):
            return cls.spawn(supervisor, url, name=name, options=options)
        from ..etcd import EtcdStoreActor
        from ..etcd._endpoints import parse_endpoints

        endpoints = parse_endpoints(text.removeprefix("etcd://").rstrip("/"))
        ref = supervisor.spawn(
            lambda: EtcdStoreActor(endpoints),
            name=name,
            restart=RestartPolicy.PERMANENT,
            mailbox_size=EtcdStoreActor.mailbox_size,
        )
        return cls(ref)

    async def put(
        self,
        key: bytes,
        value: bytes,
        *,
        expect_mod_revision: int | None = None,
        lease: int = 0,
        ignore_value: bool = False,
        ignore_lease: bool = False,
    ) -> WriteResult:
        return await self.ref.ask(
            lambda reply: Put(
                key, value, reply, expect_mod_revision, lease, ignore_value, ignore_lease
            ),
            self._timeout,
        )

    async def delete(self, key: bytes, *, expect_mod_revision: int | None = None) -> WriteResult:
        return await self.ref.ask(
            lambda reply: Delete(key, reply, expect_mod_revision), self._timeout
        )

    async def delete_range(
        self, key: bytes, range_end: bytes | None = None, *, prev_kv: bool = False
    ) -> DeleteResult:
        return await self.ref.ask(
            lambda reply: DeleteRange(key, range_end, reply, prev_kv), self._timeout
        )

    async def get(self, key: bytes) -> KeyValue | None:
        return await self.ref.ask(lambda reply: Get(key, reply), self._timeout)

    async def range(
        self,
        key: bytes,
        range_end: bytes | None = None,
        *,
        limit: int = 0,
        revision: int = 0,
        keys_only: bool = False,
        count_only: bool = False,
    ) -> RangeResult:
        return await self.ref.ask(
            lambda reply: Range(key, range_end, reply, limit, revision, keys_only, count_only),
            self._timeout,
        )

    async def range_prefix(
        self, prefix: bytes, *, limit: int = 0, revision: int = 0
    ) -> RangeResult:
        return await self.range(prefix, prefix_end(prefix), limit=limit, revision=revision)

    async def txn(
        self,
        compares: list[Compare] | None = None,
        success: list[Op] | None = None,
        failure: list[Op] | None = None,
    ) -> TxnResult:
        request = TxnOp(compares or [], success or [], failure or [])
        return await self.ref.ask(lambda reply: Txn(request, reply), self._timeout)

    async def compact(self, revision: int) -> int:
        return await self.ref.ask(lambda reply: Compact(revision, reply), self._timeout)

    async def watch(
        self,
        key: bytes,
        range_end: bytes | None = None,
        *,
        start_revision: int = 0,
        prev_kv: bool = True,
        no_put: bool = False,
        no_delete: bool = False,
        progress_notify: bool = False,
        capacity: int = 100_000,
    ) -> WatchStream:
        return await self.ref.ask(
            lambda reply: Watch(
                key,
                range_end,
                start_revision,
                reply,
                capacity,
                prev_kv,
                no_put,
                no_delete,
                progress_notify,
            ),
            self._timeout,
        )

    async def watch_prefix(
        self, prefix: bytes, *, start_revision: int = 0, prev_kv: bool = True
    ) -> WatchStream:
        return await self.watch(
            prefix, prefix_end(prefix), start_revision=start_revision, prev_kv=prev_kv
        )

    async def lease_grant(self, ttl: int, *, lease_id: int = 0) -> LeaseGrantResult:
        return await self.ref.ask(lambda reply: LeaseGrant(ttl, reply, lease_id), self._timeout)

    async def lease_revoke(self, lease_id: int) -> int:
        return await self.ref.ask(lambda reply: LeaseRevoke(lease_id, reply), self._timeout)

    async def lease_keep_alive(self, lease_id: int) -> int:
        return await self.ref.ask(lambda reply: LeaseKeepAlive(lease_id, reply), self._timeout)

    async def lease_time_to_live(self, lease_id: int, *, keys: bool = False) -> LeaseTimeToLive:
        return await self.ref.ask(
            lambda reply: LeaseTimeToLiveRequest(lease_id, reply, keys), self._timeout
        )

    async def lease_list(self) -> list[int]:
        return await self.ref.ask(LeaseList, self._timeout)

    async def status(self) -> StoreStatus:
        return await self.ref.ask(Status, self._timeout)
