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
from kubeactors.etcd._errors import to_store_error
from kubeactors.etcd._proto import rpc_pb2
from kubeactors.etcd._requests import (
    compare_request,
    delete_result,
    event_from_pb,
    kv_from_pb,
    put_request,
    range_result,
)
from kubeactors.store import (
    DeleteOp,
    DeleteResult,
    Event,
    LeaseGrantResult,
    LeaseNotFoundError,
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
    WatchCancelledError,
)

from ..store.backends import View

__all__ = ["WireBackend", "open_wire_view"]

pb = rpc_pb2


def store_error(error: grpc.aio.AioRpcError) -> StoreError:
    """The store's error for etcd's status `error`, by etcd's message."""
    return to_store_error(error.code(), str(error.details()))


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    except grpc.aio.AioRpcError as error:
        raise store_error(error) from None


# Requests keep their keys as the suite wrote them (the library maps an empty key with
# a range end to b"\0"), so the server's own refusal is what the suite checks; and a
# txn's results keep each response's own revision rather than the txn's.
def _range_request(op: RangeOp) -> pb.RangeRequest:
    return pb.RangeRequest(
        key=op.key,
        range_end=op.range_end or b"",
        limit=op.limit,
        revision=op.revision,
        keys_only=op.keys_only,
        count_only=op.count_only,
    )


def _delete_request(op: DeleteOp) -> pb.DeleteRangeRequest:
    return pb.DeleteRangeRequest(key=op.key, range_end=op.range_end or b"", prev_kv=op.prev_kv)


def _request_op(op: Op) -> pb.RequestOp:
    match op:
        case RangeOp():
            return pb.RequestOp(request_range=_range_request(op))
        case PutOp():
            return pb.RequestOp(request_put=put_request(op))
        case DeleteOp():
            return pb.RequestOp(request_delete_range=_delete_request(op))
        case TxnOp():
            return pb.RequestOp(request_txn=_txn_request(op))


def _txn_request(txn: TxnOp) -> pb.TxnRequest:
    return pb.TxnRequest(
        compare=[compare_request(c) for c in txn.compares],
        success=[_request_op(op) for op in txn.success],
        failure=[_request_op(op) for op in txn.failure],
    )


def _txn_result(response: pb.TxnResponse) -> TxnResult:
    results: list[RangeResult | PutResult | DeleteResult | TxnResult] = []
    for op in response.responses:
        match op.WhichOneof("response"):
            case "response_range":
                results.append(range_result(op.response_range))
            case "response_put":
                put = op.response_put
                prev = kv_from_pb(put.prev_kv) if put.HasField("prev_kv") else None
                results.append(PutResult(put.header.revision, prev))
            case "response_delete_range":
                results.append(delete_result(op.response_delete_range))
            case "response_txn":
                results.append(_txn_result(op.response_txn))
    return TxnResult(response.succeeded, results, response.header.revision)


class WireBackend:
    """The suite's backend interface, spoken over etcd's gRPC API."""

    def __init__(self, client: EtcdClient, name: str) -> None:
        self.client = client
        self.name = name

    async def put(self, op: PutOp) -> PutResult:
        with _translated():
            response = await self.client.put(put_request(op))
        prev = kv_from_pb(response.prev_kv) if response.HasField("prev_kv") else None
        return PutResult(response.header.revision, prev)

    async def range(self, op: RangeOp) -> RangeResult:
        with _translated():
            return range_result(await self.client.range(_range_request(op)))

    async def delete_range(self, op: DeleteOp) -> DeleteResult:
        with _translated():
            return delete_result(await self.client.delete_range(_delete_request(op)))

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
                    yield response.header.revision, [event_from_pb(e) for e in response.events]
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
