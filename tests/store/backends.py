"""One interface over two stores (kubeactors' and a real etcd), for the conformance suite.

Both are seen through a `View`: keys under a prefix of their own and revisions
counted from the revision the view opened at, so that a shared etcd and a fresh
kubeactors store give comparable answers (etcd starts at revision 1, ours at 0, and
earlier tests leave their revisions behind in etcd).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from typing import Protocol

import anyio
import msgspec

from kubeactors.actors import ActorSystem
from kubeactors.store import (
    MEMORY,
    Compare,
    CompareTarget,
    DeleteOp,
    DeleteResult,
    Event,
    KeyValue,
    LeaseGrantResult,
    LeaseTimeToLive,
    Op,
    PutOp,
    PutResult,
    RangeOp,
    RangeResult,
    Store,
    StoreError,
    StoreOptions,
    TxnOp,
    TxnResult,
    WatchStream,
    prefix_end,
)

from .etcd_gateway import EtcdClient

__all__ = [
    "BACKENDS",
    "LOCAL_BACKENDS",
    "Backend",
    "EtcdBackend",
    "OurBackend",
    "View",
    "open_view",
]

BACKENDS = ["kubeactors", "memory", "etcd", "etcd-store"]
"""Our store; our store without a database (`MEMORY`); a real etcd (through its JSON
gateway); and our store interface backed by that real etcd (`Store.connect("etcd://...")`,
through gRPC)."""

LOCAL_BACKENDS = ("kubeactors", "memory")
"""The backends that need no etcd."""


class Backend(Protocol):
    name: str

    async def put(self, op: PutOp) -> PutResult: ...
    async def range(self, op: RangeOp) -> RangeResult: ...
    async def delete_range(self, op: DeleteOp) -> DeleteResult: ...
    async def txn(self, txn: TxnOp) -> TxnResult: ...
    async def compact(self, revision: int) -> None: ...
    async def revision(self) -> int: ...
    async def lease_grant(self, ttl: int, lease_id: int) -> LeaseGrantResult: ...
    async def lease_revoke(self, lease_id: int) -> int: ...
    async def lease_keep_alive(self, lease_id: int) -> int: ...
    async def lease_time_to_live(self, lease_id: int, keys: bool) -> LeaseTimeToLive: ...
    def watch(
        self, key: bytes, range_end: bytes | None, start_revision: int, prev_kv: bool, filters: str
    ) -> AsyncIterator[tuple[int, list[Event]]]: ...


class OurBackend:
    """A `Store`: the embedded one, or one connected to etcd (then named "etcd-store")."""

    def __init__(self, store: Store, name: str = "kubeactors") -> None:
        self.store = store
        self.name = name

    async def put(self, op: PutOp) -> PutResult:
        result = await self.store.put(
            op.key,
            op.value,
            lease=op.lease,
            ignore_value=op.ignore_value,
            ignore_lease=op.ignore_lease,
        )
        return PutResult(result.revision, result.prev_kv if op.prev_kv else None)

    async def range(self, op: RangeOp) -> RangeResult:
        return await self.store.range(
            op.key,
            op.range_end,
            limit=op.limit,
            revision=op.revision,
            keys_only=op.keys_only,
            count_only=op.count_only,
        )

    async def delete_range(self, op: DeleteOp) -> DeleteResult:
        return await self.store.delete_range(op.key, op.range_end, prev_kv=op.prev_kv)

    async def txn(self, txn: TxnOp) -> TxnResult:
        return await self.store.txn(txn.compares, txn.success, txn.failure)

    async def compact(self, revision: int) -> None:
        await self.store.compact(revision)

    async def revision(self) -> int:
        return (await self.store.status()).revision

    async def lease_grant(self, ttl: int, lease_id: int) -> LeaseGrantResult:
        return await self.store.lease_grant(ttl, lease_id=lease_id)

    async def lease_revoke(self, lease_id: int) -> int:
        return await self.store.lease_revoke(lease_id)

    async def lease_keep_alive(self, lease_id: int) -> int:
        return await self.store.lease_keep_alive(lease_id)

    async def lease_time_to_live(self, lease_id: int, keys: bool) -> LeaseTimeToLive:
        return await self.store.lease_time_to_live(lease_id, keys=keys)

    async def watch(
        self, key: bytes, range_end: bytes | None, start_revision: int, prev_kv: bool, filters: str
    ) -> AsyncIterator[tuple[int, list[Event]]]:
        stream: WatchStream = await self.store.watch(
            key,
            range_end,
            start_revision=start_revision,
            prev_kv=prev_kv,
            no_put="NOPUT" in filters,
            no_delete="NODELETE" in filters,
        )
        try:
            yield stream.revision, []
            async for batch in stream:
                yield stream.revision, batch
        finally:
            stream.close()


class EtcdBackend:
    name = "etcd"

    def __init__(self, client: EtcdClient) -> None:
        self.client = client

    async def put(self, op: PutOp) -> PutResult:
        return await self.client.put(op)

    async def range(self, op: RangeOp) -> RangeResult:
        return await self.client.range(op)

    async def delete_range(self, op: DeleteOp) -> DeleteResult:
        return await self.client.delete_range(op)

    async def txn(self, txn: TxnOp) -> TxnResult:
        return await self.client.txn(txn)

    async def compact(self, revision: int) -> None:
        await self.client.compact(revision)

    async def revision(self) -> int:
        return await self.client.revision()

    async def lease_grant(self, ttl: int, lease_id: int) -> LeaseGrantResult:
        return await self.client.lease_grant(ttl, lease_id)

    async def lease_revoke(self, lease_id: int) -> int:
        return await self.client.lease_revoke(lease_id)

    async def lease_keep_alive(self, lease_id: int) -> int:
        return await self.client.lease_keep_alive(lease_id)

    async def lease_time_to_live(self, lease_id: int, keys: bool) -> LeaseTimeToLive:
        return await self.client.lease_time_to_live(lease_id, keys)

    async def watch(
        self, key: bytes, range_end: bytes | None, start_revision: int, prev_kv: bool, filters: str
    ) -> AsyncIterator[tuple[int, list[Event]]]:
        import base64

        request: dict[str, object] = {"key": base64.b64encode(key).decode()}
        if range_end is not None:
            request["range_end"] = base64.b64encode(range_end).decode()
        if start_revision:
            request["start_revision"] = start_revision
        if prev_kv:
            request["prev_kv"] = True
        request["filters"] = [f for f in ("NOPUT", "NODELETE") if f in filters]
        async for item in self.client.watch(request):
            yield item


class Watcher:
    """A watch read in the background; `until(key)` returns the events before `key`."""

    def __init__(self, view: View, source: AsyncIterator[tuple[int, list[Event]]]) -> None:
        self._view = view
        self._source = source
        self.events: list[Event] = []
        self.error: BaseException | None = None
        self._changed = anyio.Event()
        self.ready = anyio.Event()

    async def run(self) -> None:
        try:
            async for _, batch in self._source:
                self.events.extend(self._view.event_out(e) for e in batch)
                self.ready.set()
                self._changed.set()
        except Exception as error:
            self.error = error
            self._changed.set()
        finally:
            self.ready.set()

    async def until(self, key: bytes) -> list[Event]:
        """The events seen before the first event on `key` (a sentinel the test writes)."""
        with anyio.fail_after(20):
            while True:
                for at, event in enumerate(self.events):
                    if event.kv.key == key:
                        return self.events[:at]
                if self.error is not None:
                    raise self.error
                self._changed = anyio.Event()
                await self._changed.wait()

    async def error_or_none(self) -> BaseException:
        """Wait until the watch fails (cancelled by the store) and return the error."""
        with anyio.fail_after(20):
            while self.error is None:
                self._changed = anyio.Event()
                await self._changed.wait()
            return self.error


class View:
    """A backend seen under `prefix`, with revisions relative to `base` and lease ids
    relative to `lease_base`."""

    def __init__(self, backend: Backend, prefix: bytes, base: int, lease_base: int) -> None:
        self.backend = backend
        self.name = backend.name
        self.prefix = prefix
        self.base = base
        self.lease_base = lease_base
        self._tasks: anyio.abc.TaskGroup | None = None
        self.granted: set[int] = set()

    # Translation in and out.

    def key_in(self, key: bytes) -> bytes:
        return self.prefix + key

    def end_in(self, end: bytes | None) -> bytes | None:
        if end is None:
            return None
        if end == b"\0":
            return prefix_end(self.prefix)
        return self.prefix + end

    def rev_in(self, revision: int) -> int:
        return revision + self.base if revision > 0 else revision

    def rev_out(self, revision: int) -> int:
        return revision - self.base if revision > 0 else revision

    def lease_in(self, lease: int) -> int:
        return lease + self.lease_base if lease > 0 else lease

    def lease_out(self, lease: int) -> int:
        return lease - self.lease_base if lease > 0 else lease

    def kv_out(self, kv: KeyValue | None) -> KeyValue | None:
        if kv is None:
            return None
        assert kv.key.startswith(self.prefix), kv
        return KeyValue(
            kv.key[len(self.prefix) :],
            kv.value,
            self.rev_out(kv.create_revision),
            self.rev_out(kv.mod_revision),
            kv.version,
            self.lease_out(kv.lease),
        )

    def kvs_out(self, kvs: list[KeyValue]) -> list[KeyValue]:
        return [kv for kv in map(self.kv_out, kvs) if kv is not None]

    def event_out(self, event: Event) -> Event:
        kv = self.kv_out(event.kv)
        assert kv is not None
        return Event(event.type, kv, self.kv_out(event.prev_kv))

    def _op_in(self, op: Op) -> Op:
        match op:
            case RangeOp():
                return msgspec.structs.replace(
                    op,
                    key=self.key_in(op.key),
                    range_end=self.end_in(op.range_end),
                    revision=self.rev_in(op.revision),
                )
            case PutOp():
                return msgspec.structs.replace(
                    op, key=self.key_in(op.key), lease=self.lease_in(op.lease)
                )
            case DeleteOp():
                return msgspec.structs.replace(
                    op, key=self.key_in(op.key), range_end=self.end_in(op.range_end)
                )
            case TxnOp():
                return self._txn_in(op)

    def _compare_in(self, compare: Compare) -> Compare:
        value = compare.value
        if isinstance(value, int):
            if compare.target in (CompareTarget.CREATE, CompareTarget.MOD):
                value = self.rev_in(value)
            elif compare.target is CompareTarget.LEASE:
                value = self.lease_in(value)
        return msgspec.structs.replace(
            compare,
            key=self.key_in(compare.key),
            range_end=self.end_in(compare.range_end),
            value=value,
        )

    def _txn_in(self, txn: TxnOp) -> TxnOp:
        return TxnOp(
            [self._compare_in(c) for c in txn.compares],
            [self._op_in(op) for op in txn.success],
            [self._op_in(op) for op in txn.failure],
        )

    def _range_out(self, result: RangeResult) -> RangeResult:
        return RangeResult(
            self.kvs_out(result.kvs), self.rev_out(result.revision), result.count, result.more
        )

    def _txn_out(self, result: TxnResult) -> TxnResult:
        responses: list[RangeResult | PutResult | DeleteResult | TxnResult] = []
        for response in result.responses:
            match response:
                case RangeResult():
                    responses.append(self._range_out(response))
                case PutResult():
                    responses.append(
                        PutResult(self.rev_out(response.revision), self.kv_out(response.prev_kv))
                    )
                case DeleteResult():
                    responses.append(
                        DeleteResult(
                            self.rev_out(response.revision),
                            response.deleted,
                            self.kvs_out(response.prev_kvs),
                        )
                    )
                case TxnResult():
                    responses.append(self._txn_out(response))
        return TxnResult(result.succeeded, responses, self.rev_out(result.revision))

    # The operations.

    async def put(self, key: bytes, value: bytes = b"", **options: object) -> PutResult:
        op = self._op_in(PutOp(key, value, **options))  # type: ignore[arg-type]
        assert isinstance(op, PutOp)
        result = await self.backend.put(op)
        return PutResult(self.rev_out(result.revision), self.kv_out(result.prev_kv))

    async def range(
        self, key: bytes, range_end: bytes | None = None, **options: object
    ) -> RangeResult:
        op = self._op_in(RangeOp(key, range_end, **options))  # type: ignore[arg-type]
        assert isinstance(op, RangeOp)
        return self._range_out(await self.backend.range(op))

    async def delete(
        self, key: bytes, range_end: bytes | None = None, *, prev_kv: bool = False
    ) -> DeleteResult:
        op = self._op_in(DeleteOp(key, range_end, prev_kv))
        assert isinstance(op, DeleteOp)
        result = await self.backend.delete_range(op)
        return DeleteResult(
            self.rev_out(result.revision), result.deleted, self.kvs_out(result.prev_kvs)
        )

    async def txn(
        self,
        compares: list[Compare] | None = None,
        success: list[Op] | None = None,
        failure: list[Op] | None = None,
    ) -> TxnResult:
        txn = self._txn_in(TxnOp(compares or [], success or [], failure or []))
        return self._txn_out(await self.backend.txn(txn))

    async def compact(self, revision: int) -> None:
        await self.backend.compact(self.rev_in(revision))

    async def revision(self) -> int:
        return self.rev_out(await self.backend.revision())

    async def lease_grant(self, ttl: int, lease_id: int) -> LeaseGrantResult:
        result = await self.backend.lease_grant(ttl, self.lease_in(lease_id))
        self.granted.add(result.id)
        return LeaseGrantResult(
            self.lease_out(result.id), result.ttl, self.rev_out(result.revision)
        )

    async def lease_revoke(self, lease_id: int) -> int:
        return self.rev_out(await self.backend.lease_revoke(self.lease_in(lease_id)))

    async def lease_keep_alive(self, lease_id: int) -> int:
        return await self.backend.lease_keep_alive(self.lease_in(lease_id))

    async def lease_time_to_live(self, lease_id: int, *, keys: bool = False) -> LeaseTimeToLive:
        result = await self.backend.lease_time_to_live(self.lease_in(lease_id), keys)
        return LeaseTimeToLive(
            self.lease_out(result.id),
            result.ttl,
            result.granted_ttl,
            [k[len(self.prefix) :] for k in result.keys],
        )

    async def watch(
        self,
        key: bytes,
        range_end: bytes | None = None,
        *,
        start_revision: int = 0,
        prev_kv: bool = False,
        filters: str = "",
    ) -> Watcher:
        """Start a watch read in the background; it is ready when this returns."""
        assert self._tasks is not None, "use the view inside open_view()"
        if not start_revision:
            # An explicit start makes the watch complete however late the server
            # registers it relative to the caller's next write.
            start_revision = await self.revision() + 1
        source = self.backend.watch(
            self.key_in(key), self.end_in(range_end), self.rev_in(start_revision), prev_kv, filters
        )
        watcher = Watcher(self, source)
        self._tasks.start_soon(watcher.run)
        with anyio.fail_after(20):
            await watcher.ready.wait()
        return watcher


@contextlib.asynccontextmanager
async def open_view(kind: str, etcd_url: str | None) -> AsyncIterator[View]:
    """A fresh view on `kind` ("kubeactors": a new store in a temp dir; "memory": a new
    store without a database; "etcd": the shared server at `etcd_url`; "etcd-store":
    a `Store` connected to that server)."""
    prefix = b"/t" + os.urandom(6).hex().encode() + b"/"
    lease_base = int.from_bytes(os.urandom(4), "big") << 16
    if kind in LOCAL_BACKENDS:
        with tempfile.TemporaryDirectory() as tmp:
            async with ActorSystem(seed=0) as system:
                if kind == "memory":
                    # The whole history fits the window: nothing is compacted but
                    # what the test compacts, as with the other backends.
                    path = MEMORY
                    options = StoreOptions(synchronous="OFF")
                else:
                    # A small in-memory history makes watches from the past read SQLite.
                    path = f"{tmp}/store.db"
                    options = StoreOptions(synchronous="OFF", history_window=8)
                store = Store.spawn(system.root, path, options=options)
                backend = OurBackend(store, kind)
                view = View(backend, prefix, await backend.revision(), lease_base)
                async with anyio.create_task_group() as tasks:
                    view._tasks = tasks
                    yield view
                    tasks.cancel_scope.cancel()
        return
    assert etcd_url is not None
    if kind == "etcd-store":
        async with (
            ActorSystem(seed=0) as system,
            _etcd_store_view(system, etcd_url, prefix, lease_base) as view,
        ):
            yield view
        return
    client = EtcdClient(etcd_url)
    try:
        etcd = EtcdBackend(client)
        view = View(etcd, prefix, await etcd.revision(), lease_base)
        async with anyio.create_task_group() as tasks:
            view._tasks = tasks
            try:
                yield view
            finally:
                tasks.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            # Leases left behind would expire during later tests and move the shared
            # etcd's revision under them.
            for lease_id in view.granted:
                with contextlib.suppress(StoreError):
                    await etcd.lease_revoke(lease_id)
            await client.aclose()


@contextlib.asynccontextmanager
async def _etcd_store_view(
    system: ActorSystem, etcd_url: str, prefix: bytes, lease_base: int
) -> AsyncIterator[View]:
    store = Store.connect(system.root, "etcd://" + etcd_url.removeprefix("http://"))
    backend = OurBackend(store, "etcd-store")
    view = View(backend, prefix, await backend.revision(), lease_base)
    try:
        async with anyio.create_task_group() as tasks:
            view._tasks = tasks
            try:
                yield view
            finally:
                tasks.cancel_scope.cancel()
    finally:
        with anyio.CancelScope(shield=True):
            for lease_id in view.granted:
                with contextlib.suppress(StoreError):
                    await store.lease_revoke(lease_id)
