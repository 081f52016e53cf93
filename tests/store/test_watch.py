"""Conformance of Watch: start revisions, prev_kv, filters, txns, compaction."""

from __future__ import annotations

import pytest

from kubeactors.store import (
    DeleteOp,
    Event,
    EventType,
    KeyValue,
    PutOp,
    WatchCancelledError,
)

from .conftest import ViewFactory

PUT, DELETE = EventType.PUT, EventType.DELETE


def summary(events: list[Event]) -> list[tuple[str, bytes, int]]:
    return [(e.type.value, e.kv.key, e.kv.mod_revision) for e in events]


async def test_live_events_with_prev_kv(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        await view.put(b"a", b"0")
        watcher = await view.watch(b"a", b"b", prev_kv=True)
        await view.put(b"a", b"1")
        await view.put(b"other", b"x")
        await view.delete(b"a")
        await view.put(b"a/sentinel")
        events = await watcher.until(b"a/sentinel")
        assert events == [
            Event(PUT, KeyValue(b"a", b"1", 1, 2, 2), KeyValue(b"a", b"0", 1, 1, 1)),
            Event(DELETE, KeyValue(b"a", b"", 0, 4, 0), KeyValue(b"a", b"1", 1, 2, 2)),
        ]


async def test_watch_from_the_past_then_live_without_gap(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        for i in range(5):
            await view.put(b"k%d" % (i % 2), b"%d" % i)
        watcher = await view.watch(b"k", b"l", start_revision=2)
        await view.put(b"k1", b"live")
        await view.put(b"k9")
        events = await watcher.until(b"k9")
        assert summary(events) == [
            ("PUT", b"k1", 2),
            ("PUT", b"k0", 3),
            ("PUT", b"k1", 4),
            ("PUT", b"k0", 5),
            ("PUT", b"k1", 6),
        ]
        assert events[0].prev_kv is None


async def test_txn_events_share_a_revision(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        await view.put(b"c", b"x")
        watcher = await view.watch(b"a", b"\0")
        await view.txn([], [PutOp(b"a"), PutOp(b"b"), DeleteOp(b"c")], [])
        await view.put(b"z")
        events = await watcher.until(b"z")
        assert summary(events) == [("PUT", b"a", 2), ("PUT", b"b", 2), ("DELETE", b"c", 2)]


@pytest.mark.parametrize(("filters", "kinds"), [("NOPUT", ["DELETE"]), ("NODELETE", ["PUT"])])
async def test_filters(open_backend: ViewFactory, filters: str, kinds: list[str]) -> None:
    async with open_backend() as view:
        watcher = await view.watch(b"a", b"\0", filters=filters)
        await view.put(b"a")
        await view.delete(b"a")
        # The sentinel passes either filter: it is put, then deleted.
        await view.put(b"z")
        await view.delete(b"z")
        assert [e.type.value for e in await watcher.until(b"z")] == kinds


async def test_compacted_start_is_cancelled_with_the_compact_revision(
    open_backend: ViewFactory,
) -> None:
    async with open_backend() as view:
        for i in range(4):
            await view.put(b"a", b"%d" % i)
        await view.compact(3)
        watcher = await view.watch(b"a", start_revision=2)
        error = await watcher.error_or_none()
        assert isinstance(error, WatchCancelledError)
        assert view.rev_out(error.compact_revision) == 3
        ok = await view.watch(b"a", b"\0", start_revision=3)
        await view.put(b"b")
        assert summary(await ok.until(b"b")) == [("PUT", b"a", 3), ("PUT", b"a", 4)]
