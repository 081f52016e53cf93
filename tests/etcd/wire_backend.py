"""The store conformance suite's `Backend` over etcd's gRPC API, with our `EtcdClient`.

Pointed at our endpoint it runs the store suite a third way, through the wire; the
same class pointed at a real etcd's client port gives the suite's etcd answers over
gRPC too. Store types go in and come out, and etcd's errors come back as the
`StoreError` subclasses the suite expects.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator, Iterator

import anyio
import grpc.aio

from kubeactors.actors import ActorSystem
from kubeactors.etcd import EtcdClient, EtcdServer
from kubeactors.etcd._proto import kv_pb2, rpc_pb2
from kubeactors.store import (
    CompactedError,
    Compare,
    CompareResult,
    CompareTarget,
    DeleteOp,
    DeleteResult,
    DuplicateKeyError,
    EmptyKeyError,
    Event,
    EventType,
    FutureRevisionError,
    InvalidArgumentError,
    KeyNotFoundError,
    KeyValue,
    LeaseExistsError,
    LeaseGrantResult,
    LeaseNotFoundError,
    LeaseProvidedError,
    LeaseTimeToLive,
    Op,
    PutOp,
    PutResult,
    RangeOp,
    RangeResult,
    RequestTooLargeError,
    Store,
    StoreError,
    StoreOptions,
    TooManyOpsError,
    TxnOp,
    TxnResult,
    ValueProvidedError,
    WatchCancelledError,
)

from ..store.backends import View

__all__ = ["WireBackend", "open_wire_view"]

pb = rpc_pb2

_ERRORS: dict[str, type[StoreError]] = {
    "required revision has been compacted": CompactedError,
    "required revision is a future revision": FutureRevisionError,
    "key is not provided": EmptyKeyError,
    "too many operations in txn request": TooManyOpsError,
    "duplicate key given in txn request": DuplicateKeyError,
    "request is too large": RequestTooLargeError,
    "requested lease not found": LeaseNotFoundError,
    "lease already exists": LeaseExistsError,
    "key not found": KeyNotFoundError,
    "value is provided": ValueProvidedError,
    "lease is provided": LeaseProvidedError,
}
_TARGETS = {
    CompareTarget.VERSION: (pb.Compare.VERSION, "version"),
    CompareTarget.CREATE: (pb.Compare.CREATE, "create_revision"),
    CompareTarget.MOD: (pb.Compare.MOD, "mod_revision"),
    CompareTarget.VALUE: (pb.Compare.VALUE, "value"),
    CompareTarget.LEASE: (pb.Compare.LEASE, "lease"),
}
_RESULTS = {
    CompareResult.EQUAL: pb.Compare.EQUAL,
    CompareResult.GREATER: pb.Compare.GREATER,
    CompareResult.LESS: pb.Compare.LESS,
    CompareResult.NOT_EQUAL: pb.Compare.NOT_EQUAL,
}


def store_error(error: grpc.aio.AioRpcError) -> StoreError:
    """The store's error for etcd's status `error`, by etcd's message."""
    message = str(error.details())
    kind: type[StoreError] = InvalidArgumentError
    if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
        kind = StoreError
    for fragment, candidate in _ERRORS.items():
        if fragment in message:
            kind = candidate
            break
    made = kind.__new__(kind)
    StoreError.__init__(made, message)
    return made


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except grpc.aio.AioRpcError as error:
        raise store_error(error) from None


def _kv(message: kv_pb2.KeyValue) -> KeyValue:
    return KeyValue(
        message.key,
        message.value,
        message.create_revision,
        message.mod_revision,
        message.version,
        message.lease,
    )


def _range_request(op: RangeOp) -> pb.RangeRequest:
    return pb.RangeRequest(
        key=op.key,
        range_end=op.range_end or b"",
        limit=op.limit,
        revision=op.revision,
        keys_only=op.keys_only,
        count_only=op.count_only,
    )


def _put_request(op: PutOp) -> pb.PutRequest:
    return pb.PutRequest(
        key=op.key,
        value=op.value,
        lease=op.lease,
        prev_kv=op.prev_kv,
        ignore_value=op.ignore_value,
        ignore_lease=op.ignore_lease,
    )


def _delete_request(op: DeleteOp) -> pb.DeleteRangeRequest:
    return pb.DeleteRangeRequest(key=op.key, range_end=op.range_end or b"", prev_kv=op.prev_kv)


def _compare(compare: Compare) -> pb.Compare:
    target, field = _TARGETS[compare.target]
    message = pb.Compare(
        key=compare.key,
        range_end=compare.range_end or b"",
        target=target,
        result=_RESULTS[compare.result],
    )
    setattr(message, field, compare.value)
    return message


def _request_op(op: Op) -> pb.RequestOp:
    match op:
        case RangeOp():
            return pb.RequestOp(request_range=_range_request(op))
        case PutOp():
            return pb.RequestOp(request_put=_put_request(op))
        case DeleteOp():
            return pb.RequestOp(request_delete_range=_delete_request(op))
        case TxnOp():
            return pb.RequestOp(request_txn=_txn_request(op))


def _txn_request(txn: TxnOp) -> pb.TxnRequest:
    return pb.TxnRequest(
        compare=[_compare(c) for c in txn.compares],
        success=[_request_op(op) for op in txn.success],
        failure=[_request_op(op) for op in txn.failure],
    )


def _range_result(response: pb.RangeResponse) -> RangeResult:
    return RangeResult(
        [_kv(kv) for kv in response.kvs], response.header.revision, response.count, response.more
    )


def _delete_result(response: pb.DeleteRangeResponse) -> DeleteResult:
    return DeleteResult(
        response.header.revision, response.deleted, [_kv(kv) for kv in response.prev_kvs]
    )


def _txn_result(response: pb.TxnResponse) -> TxnResult:
    results: list[RangeResult | PutResult | DeleteResult | TxnResult] = []
    for op in response.responses:
        match op.WhichOneof("response"):
            case "response_range":
                results.append(_range_result(op.response_range))
            case "response_put":
                put = op.response_put
                prev = _kv(put.prev_kv) if put.HasField("prev_kv") else None
                results.append(PutResult(put.header.revision, prev))
            case "response_delete_range":
                results.append(_delete_result(op.response_delete_range))
            case "response_txn":
                results.append(_txn_result(op.response_txn))
    return TxnResult(response.succeeded, results, response.header.revision)


def _event(message: kv_pb2.Event) -> Event:
    kind = EventType.DELETE if message.type == kv_pb2.Event.DELETE else EventType.PUT
    prev = _kv(message.prev_kv) if message.HasField("prev_kv") else None
    return Event(kind, _kv(message.kv), prev)


class WireBackend:
    """The suite's backend interface, spoken over etcd's gRPC API."""

    def __init__(self, client: EtcdClient, name: str) -> None:
        self.client = client
        self.name = name

    async def put(self, op: PutOp) -> PutResult:
        with _translated():
            response = await self.client.put(_put_request(op))
        prev = _kv(response.prev_kv) if response.HasField("prev_kv") else None
        return PutResult(response.header.revision, prev)

    async def range(self, op: RangeOp) -> RangeResult:
        with _translated():
            return _range_result(await self.client.range(_range_request(op)))

    async def delete_range(self, op: DeleteOp) -> DeleteResult:
        with _translated():
            return _delete_result(await self.client.delete_range(_delete_request(op)))

    async def txn(self, txn: TxnOp) -> TxnResult:
        with _translated():
            return _txn_result(await self.client.txn(_txn_request(txn)))

    async def compact(self, revision: int) -> None:
        with _translated():
            await self.client.compact(pb.CompactionRequest(revision=revision))

    async def revision(self) -> int:
        with _translated():
            return int((await self.client.status()).header.revision)

    async def lease_grant(self, ttl: int, lease_id: int) -> LeaseGrantResult:
        with _translated():
            response = await self.client.lease_grant(pb.LeaseGrantRequest(TTL=ttl, ID=lease_id))
        return LeaseGrantResult(response.ID, response.TTL, response.header.revision)

    async def lease_revoke(self, lease_id: int) -> int:
        with _translated():
            response = await self.client.lease_revoke(pb.LeaseRevokeRequest(ID=lease_id))
        return int(response.header.revision)

    async def lease_keep_alive(self, lease_id: int) -> int:
        with _translated():
            response = await self.client.lease_keep_alive_once(lease_id)
        if response.TTL <= 0:
            raise LeaseNotFoundError(lease_id)
        return int(response.TTL)

    async def lease_time_to_live(self, lease_id: int, keys: bool) -> LeaseTimeToLive:
        with _translated():
            response = await self.client.lease_time_to_live(
                pb.LeaseTimeToLiveRequest(ID=lease_id, keys=keys)
            )
        return LeaseTimeToLive(response.ID, response.TTL, response.grantedTTL, list(response.keys))

    async def watch(
        self, key: bytes, range_end: bytes | None, start_revision: int, prev_kv: bool, filters: str
    ) -> AsyncIterator[tuple[int, list[Event]]]:
        create = pb.WatchCreateRequest(
            key=key,
            range_end=range_end or b"",
            start_revision=start_revision,
            prev_kv=prev_kv,
            filters=[
                kind
                for name, kind in (
                    ("NOPUT", pb.WatchCreateRequest.NOPUT),
                    ("NODELETE", pb.WatchCreateRequest.NODELETE),
                )
                if name in filters
            ],
        )
        send, receive = anyio.create_memory_object_stream[pb.WatchRequest](1)
        await send.send(pb.WatchRequest(create_request=create))
        try:
            with _translated():
                async for response in self.client.watch(receive):
                    if response.canceled:
                        raise WatchCancelledError(
                            response.cancel_reason or "cancelled", response.compact_revision
                        )
                    yield response.header.revision, [_event(e) for e in response.events]
        finally:
            await send.aclose()
            await receive.aclose()


@contextlib.asynccontextmanager
async def open_wire_view() -> AsyncIterator[View]:
    """A fresh store served on a loopback port, seen by the suite through gRPC."""
    prefix = b"/t" + os.urandom(6).hex().encode() + b"/"
    lease_base = int.from_bytes(os.urandom(4), "big") << 16
    with tempfile.TemporaryDirectory() as tmp:
        async with ActorSystem(seed=0) as system:
            # As the suite's own store: a small in-memory history, so that watches
            # from the past read SQLite.
            options = StoreOptions(synchronous="OFF", history_window=8)
            store = Store.spawn(system.root, f"{tmp}/store.db", options=options)
            async with (
                EtcdServer(store, port=0) as server,
                EtcdClient(f"127.0.0.1:{server.port}") as client,
            ):
                backend = WireBackend(client, "kubeactors-grpc")
                view = View(backend, prefix, await backend.revision(), lease_base)
                async with anyio.create_task_group() as tasks:
                    view._tasks = tasks
                    yield view
                    tasks.cancel_scope.cancel()
