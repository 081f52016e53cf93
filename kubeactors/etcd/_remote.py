"""`EtcdStoreActor`: the store interface served by a real etcd cluster.

It takes the same `StoreRequest` messages as the embedded `StoreActor` and answers
through the same replies, so everything above the store runs unchanged on etcd.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TypeVar

import anyio

from ..actors import Actor, Reply
from ..store import (
    Compact,
    ConflictError,
    Delete,
    DeleteRange,
    Get,
    InvalidArgumentError,
    KeyValue,
    LeaseGrant,
    LeaseGrantResult,
    LeaseKeepAlive,
    LeaseList,
    LeaseNotFoundError,
    LeaseRevoke,
    LeaseTimeToLive,
    LeaseTimeToLiveRequest,
    Put,
    PutMany,
    Range,
    RangeOp,
    Status,
    StoreError,
    StoreRequest,
    StoreStatus,
    Txn,
    TxnOp,
    Watch,
    WatchHub,
    WatchStream,
    WriteResult,
)
from ._endpoints import Endpoints
from ._proto import rpc_pb2
from ._relay import WatchGroup, relay_watch
from ._requests import (
    delete_result,
    kv_from_pb,
    range_request,
    range_result,
    txn_request,
    txn_result,
)

__all__ = ["EtcdStoreActor"]

logger = logging.getLogger(__name__)

pb = rpc_pb2
T = TypeVar("T")


class EtcdStoreActor(Actor[StoreRequest]):
    """Translates store requests into etcd v3 calls on `endpoints` (`host:port`).

    `receive` never waits for etcd: each request becomes a task that makes the call
    (with failover and retries, see `Endpoints`) and completes the request's reply,
    up to `max_in_flight` at a time; past that the mailbox fills, and senders wait.
    Watches are etcd watches relayed into the store's `WatchStream`s.

    Unlike the embedded store, requests in flight together may commit in any order
    (as with any etcd client); a caller that needs an order waits for each reply.
    Leases and their expiry, compaction and progress are etcd's own.
    """

    mailbox_size = 4096

    def __init__(
        self,
        endpoints: Sequence[str],
        *,
        timeout: float = 10.0,
        retry_for: float = 20.0,
        max_in_flight: int = 1024,
    ) -> None:
        if not endpoints:
            raise ValueError("an etcd store needs at least one endpoint")
        if max_in_flight <= 0:
            raise ValueError(f"max_in_flight must be positive, got {max_in_flight}")
        self._addresses = list(endpoints)
        self._timeout = timeout
        self._retry_for = retry_for
        self._slots = anyio.Semaphore(max_in_flight)
        self._hub = WatchHub()
        self._groups: dict[tuple[bytes, bytes | None, bool, bool, bool], WatchGroup] = {}
        self._endpoints: Endpoints | None = None

    async def on_start(self) -> None:
        self._endpoints = Endpoints(
            self._addresses,
            self.context.clock,
            timeout=self._timeout,
            retry_for=self._retry_for,
        )
        logger.info("store on etcd at %s", ", ".join(self._addresses))

    async def on_stop(self) -> None:
        self._hub.close_all()
        if self._endpoints is not None:
            with anyio.CancelScope(shield=True):
                await self._endpoints.close()
            self._endpoints = None

    async def receive(self, message: StoreRequest) -> None:
        match message:
            case Put():
                await self._start(message.reply, lambda: self._put(message))
            case PutMany():
                for put in message.puts:
                    await self._start(put.reply, partial(self._put, put))
            case Delete():
                await self._start(message.reply, lambda: self._delete(message))
            case Get(key=key):
                await self._start(message.reply, lambda: self._get(key))
            case Range():
                await self._start(message.reply, lambda: self._range(message))
            case DeleteRange():
                await self._start(message.reply, lambda: self._delete_range(message))
            case Txn():
                await self._start(message.reply, lambda: self._txn(message))
            case Watch():
                self._watch(message)
            case Compact(revision=revision):
                await self._start(message.reply, lambda: self._compact(revision))
            case LeaseGrant():
                await self._start(message.reply, lambda: self._lease_grant(message))
            case LeaseRevoke(id=lease_id):
                await self._start(message.reply, lambda: self._lease_revoke(lease_id))
            case LeaseKeepAlive(id=lease_id):
                await self._start(message.reply, lambda: self._lease_keep_alive(lease_id))
            case LeaseTimeToLiveRequest():
                await self._start(message.reply, lambda: self._lease_time_to_live(message))
            case LeaseList():
                await self._start(message.reply, self._lease_list)
            case Status():
                await self._start(message.reply, self._status)
            case _:
                pass  # the embedded store's timer ticks: etcd keeps its own time

    async def _start(self, reply: Reply[T], work: Callable[[], Awaitable[T]]) -> None:
        """Run `work` in the background and answer `reply` with its outcome."""
        await self._slots.acquire()

        async def run() -> None:
            # A reply is answered exactly once here; whether it then reads as done is
            # its own affair (a forwarder may take an error over and answer later).
            try:
                result = await work()
            except StoreError as error:
                reply.fail(error)
            except Exception as error:  # answered, not crashed: one request failed
                logger.exception("etcd request failed")
                reply.fail(StoreError(f"etcd request failed: {error!r}"))
            except BaseException:
                reply.fail(StoreError("store stopped before etcd answered"))
                raise
            else:
                reply.send(result)
            finally:
                self._slots.release()

        self.context.start_soon(run)

    def _call(
        self, method: Callable[[Any], Awaitable[T]], *, idempotent: bool, requested: int = 0
    ) -> Awaitable[T]:
        endpoints = self._endpoints
        assert endpoints is not None
        return endpoints.call(method, idempotent=idempotent, requested=requested)

    # Writes: sent once (never retried once a member may have applied them).

    async def _put(self, request: Put) -> WriteResult:
        put = pb.PutRequest(
            key=request.key,
            value=request.value,
            lease=request.lease,
            prev_kv=True,
            ignore_value=request.ignore_value,
            ignore_lease=request.ignore_lease,
        )
        expected = request.expect_mod_revision
        if expected is None:
            response = await self._call(lambda c: c.put(put), idempotent=False)
            revision = response.header.revision
            prev = kv_from_pb(response.prev_kv) if response.HasField("prev_kv") else None
        else:
            txn = await self._conditional(request.key, expected, pb.RequestOp(request_put=put))
            revision = txn.header.revision
            written = txn.responses[0].response_put
            prev = kv_from_pb(written.prev_kv) if written.HasField("prev_kv") else None
        return WriteResult(revision, prev, _written(request, revision, prev))

    async def _delete(self, request: Delete) -> WriteResult:
        delete = pb.DeleteRangeRequest(key=request.key, prev_kv=True)
        expected = request.expect_mod_revision
        if expected is None:
            response = await self._call(lambda c: c.delete_range(delete), idempotent=False)
        else:
            txn = await self._conditional(
                request.key, expected, pb.RequestOp(request_delete_range=delete)
            )
            response = txn.responses[0].response_delete_range
            response.header.revision = txn.header.revision
        prev = kv_from_pb(response.prev_kvs[0]) if response.prev_kvs else None
        return WriteResult(response.header.revision, prev, None)

    async def _conditional(self, key: bytes, expected: int, op: pb.RequestOp) -> pb.TxnResponse:
        """`op` if `key`'s mod_revision is `expected` (0: absent), else `ConflictError`."""
        txn = pb.TxnRequest(
            compare=[
                pb.Compare(
                    key=key,
                    target=pb.Compare.MOD,
                    result=pb.Compare.EQUAL,
                    mod_revision=expected,
                )
            ],
            success=[op],
            failure=[pb.RequestOp(request_range=pb.RangeRequest(key=key, keys_only=True))],
        )
        response: pb.TxnResponse = await self._call(lambda c: c.txn(txn), idempotent=False)
        if not response.succeeded:
            found = response.responses[0].response_range.kvs
            raise ConflictError(key, expected, found[0].mod_revision if found else 0)
        return response

    async def _delete_range(self, request: DeleteRange) -> Any:
        delete = pb.DeleteRangeRequest(
            key=request.key or (b"\0" if request.range_end is not None else b""),
            range_end=request.range_end or b"",
            prev_kv=request.prev_kv,
        )
        return delete_result(await self._call(lambda c: c.delete_range(delete), idempotent=False))

    async def _txn(self, request: Txn) -> Any:
        txn = txn_request(request.txn)
        read_only = _read_only(request.txn.success) and _read_only(request.txn.failure)
        return txn_result(await self._call(lambda c: c.txn(txn), idempotent=read_only))

    async def _compact(self, revision: int) -> int:
        compaction = pb.CompactionRequest(revision=revision)
        await self._call(lambda c: c.compact(compaction), idempotent=True, requested=revision)
        return revision

    # Reads: linearizable, retried on another member.

    async def _get(self, key: bytes) -> KeyValue | None:
        ranged = pb.RangeRequest(key=key)
        response = await self._call(lambda c: c.range(ranged), idempotent=True)
        return kv_from_pb(response.kvs[0]) if response.kvs else None

    async def _range(self, request: Range) -> Any:
        ranged = range_request(
            RangeOp(
                request.key,
                request.range_end,
                request.limit,
                request.revision,
                request.keys_only,
                request.count_only,
            )
        )
        response = await self._call(
            lambda c: c.range(ranged), idempotent=True, requested=request.revision
        )
        return range_result(response)

    async def _status(self) -> StoreStatus:
        everything = pb.RangeRequest(key=b"\0", range_end=b"\0", count_only=True)
        counted = await self._call(lambda c: c.range(everything), idempotent=True)
        leases = await self._call(lambda c: c.lease_leases(), idempotent=True)
        # etcd does not report its compaction point; 0 says "unknown" here.
        return StoreStatus(
            counted.header.revision, 0, counted.count, len(self._hub), len(leases.leases)
        )

    # Leases: etcd's, with etcd's clock.

    async def _lease_grant(self, request: LeaseGrant) -> LeaseGrantResult:
        grant = pb.LeaseGrantRequest(TTL=request.ttl, ID=request.id)
        response = await self._call(lambda c: c.lease_grant(grant), idempotent=False)
        return LeaseGrantResult(response.ID, response.TTL, response.header.revision)

    async def _lease_revoke(self, lease_id: int) -> int:
        revoke = pb.LeaseRevokeRequest(ID=lease_id)
        response = await self._call(lambda c: c.lease_revoke(revoke), idempotent=True)
        return int(response.header.revision)

    async def _lease_keep_alive(self, lease_id: int) -> int:
        response = await self._call(lambda c: c.lease_keep_alive_once(lease_id), idempotent=True)
        if response.TTL <= 0:
            raise LeaseNotFoundError(lease_id)
        return int(response.TTL)

    async def _lease_time_to_live(self, request: LeaseTimeToLiveRequest) -> LeaseTimeToLive:
        asked = pb.LeaseTimeToLiveRequest(ID=request.id, keys=request.keys)
        response = await self._call(lambda c: c.lease_time_to_live(asked), idempotent=True)
        return LeaseTimeToLive(response.ID, response.TTL, response.grantedTTL, list(response.keys))

    async def _lease_list(self) -> list[int]:
        response = await self._call(lambda c: c.lease_leases(), idempotent=True)
        return sorted(lease.ID for lease in response.leases)

    # Watches.

    def _watch(self, request: Watch) -> None:
        endpoints = self._endpoints
        assert endpoints is not None
        if request.start_revision < 0:
            request.reply.fail(
                InvalidArgumentError(
                    f"start_revision must not be negative, got {request.start_revision}"
                )
            )
            return
        stream = WatchStream(
            self._hub,
            request.key,
            request.range_end,
            request.capacity,
            start_revision=request.start_revision,
            prev_kv=request.prev_kv,
            no_put=request.no_put,
            no_delete=request.no_delete,
            progress_notify=request.progress_notify,
        )
        stream.feed([], max(request.start_revision - 1, 0))
        self._hub.add(stream)
        # Watches from a given revision with the same range and options share one
        # etcd watch; "from now" and progress-notifying ones get their own.
        shared = (
            request.key,
            request.range_end,
            request.prev_kv,
            request.no_put,
            request.no_delete,
        )
        group = self._groups.get(shared)
        if (
            group is not None
            and not request.progress_notify
            and group.can_join(request.start_revision)
        ):
            self._join(group, stream, request.reply, None)
            return
        group = WatchGroup(request.start_revision)
        if request.start_revision and not request.progress_notify:
            self._groups[shared] = group
        scope = anyio.CancelScope()
        self._join(group, stream, request.reply, scope)
        clock = self.context.clock
        groups = self._groups

        async def run() -> None:
            with scope:
                try:
                    await relay_watch(endpoints, request, group, clock)
                finally:
                    group.end(StoreError("store stopped"))
                    if groups.get(shared) is group:
                        del groups[shared]

        self.context.start_soon(run)

    def _join(
        self,
        group: WatchGroup,
        stream: WatchStream,
        reply: Reply[WatchStream],
        scope: anyio.CancelScope | None,
    ) -> None:
        group.join(stream, reply)
        if scope is not None:
            group.scope = scope

        def leave() -> None:
            group.leave(stream)
            if group.closed and group.scope is not None:
                group.scope.cancel()

        stream.on_close = leave


def _read_only(ops: Sequence[object]) -> bool:
    return all(
        isinstance(op, RangeOp)
        or (isinstance(op, TxnOp) and _read_only(op.success) and _read_only(op.failure))
        for op in ops
    )


def _written(request: Put, revision: int, prev: KeyValue | None) -> KeyValue:
    """The key-value a put wrote, from what etcd answers (its revision and prev_kv)."""
    value = prev.value if request.ignore_value and prev is not None else request.value
    lease = prev.lease if request.ignore_lease and prev is not None else request.lease
    if prev is None:
        return KeyValue(request.key, value, revision, revision, 1, lease)
    return KeyValue(request.key, value, prev.create_revision, revision, prev.version + 1, lease)
