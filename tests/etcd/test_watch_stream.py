"""The Watch stream over gRPC, the same script against our endpoint and a real etcd:
several watches on one stream, filters, prev_kv, cancel, progress, chosen IDs."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from kubeactors.etcd import EtcdClient
from kubeactors.etcd._proto import kv_pb2, rpc_pb2

from .test_errors import client_of

pb = rpc_pb2
PUT, DELETE = kv_pb2.Event.PUT, kv_pb2.Event.DELETE


def create(key: bytes, end: bytes = b"", **options: object) -> pb.WatchRequest:
    return pb.WatchRequest(
        create_request=pb.WatchCreateRequest(key=key, range_end=end, **options)  # type: ignore[arg-type]
    )


class Session:
    """One Watch stream: requests go in through `send`, responses come out of `next`."""

    def __init__(self, client: EtcdClient) -> None:
        self._send, receive = anyio.create_memory_object_stream[pb.WatchRequest](100)
        self._responses = aiter(client.watch(receive))
        self._receive = receive

    async def send(self, request: pb.WatchRequest) -> None:
        await self._send.send(request)

    async def next(self) -> pb.WatchResponse:
        with anyio.fail_after(20):
            return await anext(self._responses)

    async def close(self) -> None:
        await self._send.aclose()
        await self._receive.aclose()


@pytest.mark.parametrize("target", ["kubeactors", "etcd"])
async def test_one_stream_carries_several_watches_as_etcd_does(target: str, tmp_path: Path) -> None:
    async with client_of(target, tmp_path) as client:
        # A fresh etcd is at revision 1 and our store at 0: compare revisions from there.
        base = (await client.status()).header.revision
        session = Session(client)
        try:
            await session.send(create(b"w/", b"w0", prev_kv=True))
            first = await session.next()
            assert (first.created, first.canceled, first.watch_id) == (True, False, 0)
            assert first.header.revision == base
            await session.send(create(b"w/", b"w0", filters=[pb.WatchCreateRequest.NOPUT]))
            second = await session.next()
            assert (second.created, second.watch_id) == (True, 1)

            await client.put(pb.PutRequest(key=b"w/x", value=b"1"))
            put = await session.next()
            assert put.watch_id == 0
            assert [(e.type, e.kv.key, e.kv.value, e.kv.mod_revision) for e in put.events] == [
                (PUT, b"w/x", b"1", base + 1)
            ]
            assert not put.events[0].HasField("prev_kv")

            await client.delete_range(pb.DeleteRangeRequest(key=b"w/x"))
            deletes = {
                response.watch_id: response for response in [await session.next() for _ in range(2)]
            }
            assert sorted(deletes) == [0, 1]
            assert deletes[0].events[0].prev_kv.value == b"1"
            assert [(e.type, e.kv.key, e.kv.mod_revision) for e in deletes[1].events] == [
                (DELETE, b"w/x", base + 2)
            ]
            assert not deletes[1].events[0].HasField("prev_kv")

            await session.send(pb.WatchRequest(cancel_request=pb.WatchCancelRequest(watch_id=0)))
            cancelled = await session.next()
            assert (cancelled.watch_id, cancelled.canceled) == (0, True)
            await client.put(pb.PutRequest(key=b"w/y", value=b"2"))
            await client.delete_range(pb.DeleteRangeRequest(key=b"w/y"))
            after = await session.next()  # nothing from the cancelled watch, no put for #1
            assert after.watch_id == 1
            assert [(e.type, e.kv.key) for e in after.events] == [(DELETE, b"w/y")]

            await session.send(pb.WatchRequest(progress_request=pb.WatchProgressRequest()))
            progress = await session.next()
            assert (progress.watch_id, list(progress.events)) == (-1, [])
            assert progress.header.revision == base + 4

            await session.send(create(b"chosen", watch_id=7))
            chosen = await session.next()
            assert (chosen.watch_id, chosen.created) == (7, True)
            await session.send(create(b"again", watch_id=7))
            duplicate = await session.next()
            assert (duplicate.watch_id, duplicate.created, duplicate.canceled) == (-1, True, True)
            assert duplicate.cancel_reason == "mvcc: duplicate watch ID provided on the WatchStream"
            await session.send(create(b"b", b"a"))
            empty = await session.next()
            assert (empty.watch_id, empty.canceled) == (-1, True)
            assert empty.cancel_reason == "mvcc: watcher range is empty"
        finally:
            await session.close()


@pytest.mark.parametrize("target", ["kubeactors", "etcd"])
async def test_a_watch_from_a_compacted_revision_is_cancelled_with_the_compaction(
    target: str, tmp_path: Path
) -> None:
    async with client_of(target, tmp_path) as client:
        revisions = [
            (await client.put(pb.PutRequest(key=b"k", value=value))).header.revision
            for value in (b"1", b"2", b"3")
        ]
        await client.compact(pb.CompactionRequest(revision=revisions[1]))
        session = Session(client)
        try:
            await session.send(create(b"k", start_revision=revisions[0]))
            created = await session.next()
            assert created.created
            cancelled = await session.next()
            assert (cancelled.watch_id, cancelled.canceled) == (created.watch_id, True)
            assert cancelled.compact_revision == revisions[1]
            await session.send(create(b"k", start_revision=revisions[1]))
            assert (await session.next()).created
            replay = await session.next()
            assert [e.kv.value for e in replay.events] == [b"2", b"3"]
        finally:
            await session.close()
