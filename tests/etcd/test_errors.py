"""etcd's errors over the wire: the same status code and message from our endpoint as
from a real etcd 3.4, checked against both with the same gRPC client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
import grpc.aio
import pytest

from kubeactors.etcd import EtcdClient
from kubeactors.etcd._proto import rpc_pb2

from ..store.etcd_gateway import EtcdServer as RealEtcd
from .harness import serving

pb = rpc_pb2


@asynccontextmanager
async def client_of(target: str, path: Path) -> AsyncIterator[EtcdClient]:
    """A client of our endpoint (`kubeactors`) or of a real etcd (`etcd`)."""
    if target == "etcd":
        with RealEtcd() as real:
            async with EtcdClient(f"127.0.0.1:{real.port}") as client:
                yield client
    else:
        async with serving(path) as endpoint, EtcdClient(endpoint.address) as client:
            yield client


async def failure(call: Awaitable[object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call
    return raised.value.code(), raised.value.details()


def put(key: bytes, value: bytes = b"v") -> pb.RequestOp:
    return pb.RequestOp(request_put=pb.PutRequest(key=key, value=value))


INVALID = grpc.StatusCode.INVALID_ARGUMENT
OUT_OF_RANGE = grpc.StatusCode.OUT_OF_RANGE

Case = Callable[[EtcdClient], Awaitable[object]]
CASES: dict[str, tuple[Case, grpc.StatusCode, str]] = {
    "put without a key": (
        lambda c: c.put(pb.PutRequest(key=b"", value=b"v")),
        INVALID,
        "etcdserver: key is not provided",
    ),
    "range without a key": (
        lambda c: c.range(pb.RangeRequest(key=b"")),
        INVALID,
        "etcdserver: key is not provided",
    ),
    "range from an empty key": (
        lambda c: c.range(pb.RangeRequest(key=b"", range_end=b"\0")),
        INVALID,
        "etcdserver: key is not provided",
    ),
    "delete without a key": (
        lambda c: c.delete_range(pb.DeleteRangeRequest(key=b"")),
        INVALID,
        "etcdserver: key is not provided",
    ),
    "duplicate key in txn": (
        lambda c: c.txn(pb.TxnRequest(success=[put(b"k"), put(b"k")])),
        INVALID,
        "etcdserver: duplicate key given in txn request",
    ),
    "put and delete of one key in txn": (
        lambda c: c.txn(
            pb.TxnRequest(
                success=[
                    put(b"k"),
                    pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(key=b"k")),
                ]
            )
        ),
        INVALID,
        "etcdserver: duplicate key given in txn request",
    ),
    "too many operations": (
        lambda c: c.txn(pb.TxnRequest(success=[put(b"k%d" % i) for i in range(129)])),
        INVALID,
        "etcdserver: too many operations in txn request",
    ),
    "request too large": (
        lambda c: c.put(pb.PutRequest(key=b"big", value=b"x" * (1_572_864 + 1))),
        INVALID,
        "etcdserver: request is too large",
    ),
    "unknown lease on put": (
        lambda c: c.put(pb.PutRequest(key=b"k", value=b"v", lease=0x1234)),
        grpc.StatusCode.NOT_FOUND,
        "etcdserver: requested lease not found",
    ),
    "ignore_value on a missing key": (
        lambda c: c.put(pb.PutRequest(key=b"missing", ignore_value=True)),
        INVALID,
        "etcdserver: key not found",
    ),
    "future revision": (
        lambda c: c.range(pb.RangeRequest(key=b"k", revision=1000)),
        OUT_OF_RANGE,
        "etcdserver: mvcc: required revision is a future revision",
    ),
    "lease TTL too large": (
        lambda c: c.lease_grant(pb.LeaseGrantRequest(TTL=9_000_000_001)),
        OUT_OF_RANGE,
        "etcdserver: too large lease TTL",
    ),
}


@pytest.mark.parametrize("target", ["kubeactors", "etcd"])
async def test_each_bad_request_gets_etcds_own_status(target: str, tmp_path: Path) -> None:
    async with client_of(target, tmp_path) as client:
        for name, (case, code, message) in CASES.items():
            assert await failure(case(client)) == (code, message), name


@pytest.mark.parametrize("target", ["kubeactors", "etcd"])
async def test_reads_below_a_compaction_are_refused_as_compacted(
    target: str, tmp_path: Path
) -> None:
    async with client_of(target, tmp_path) as client:
        for value in (b"1", b"2", b"3"):
            written = await client.put(pb.PutRequest(key=b"c", value=value))
        top = written.header.revision
        await client.compact(pb.CompactionRequest(revision=top - 1))
        compacted = (OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted")
        assert await failure(client.range(pb.RangeRequest(key=b"c", revision=top - 2))) == (
            compacted
        )
        assert await failure(client.compact(pb.CompactionRequest(revision=top - 1))) == (compacted)
        kept = await client.range(pb.RangeRequest(key=b"c", revision=top - 1))
        assert [kv.value for kv in kept.kvs] == [b"2"]


@pytest.mark.parametrize("target", ["kubeactors", "etcd"])
async def test_range_options_answer_as_etcd_does(target: str, tmp_path: Path) -> None:
    async with client_of(target, tmp_path) as client:
        for key, value in [(b"r/b", b"3"), (b"r/a", b"1"), (b"r/c", b"2"), (b"r/a", b"4")]:
            await client.put(pb.PutRequest(key=key, value=value))
        counted = await client.range(pb.RangeRequest(key=b"r/", range_end=b"r0", count_only=True))
        assert (counted.count, list(counted.kvs), counted.more) == (3, [], False)
        keys = await client.range(pb.RangeRequest(key=b"r/", range_end=b"r0", keys_only=True))
        assert [(kv.key, kv.value) for kv in keys.kvs] == [
            (b"r/a", b""),
            (b"r/b", b""),
            (b"r/c", b""),
        ]
        by_value = await client.range(
            pb.RangeRequest(
                key=b"r/",
                range_end=b"r0",
                sort_target=pb.RangeRequest.VALUE,
                sort_order=pb.RangeRequest.DESCEND,
                limit=2,
            )
        )
        assert [kv.value for kv in by_value.kvs] == [b"4", b"3"]
        assert (by_value.count, by_value.more) == (3, True)
        recent = await client.range(pb.RangeRequest(key=b"r/", range_end=b"r0", min_mod_revision=3))
        assert [kv.key for kv in recent.kvs] == [b"r/a", b"r/c"]
        everything = await client.range(pb.RangeRequest(key=b"\0", range_end=b"\0"))
        assert everything.count == 3
