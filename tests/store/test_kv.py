"""Conformance of Put, Range and DeleteRange: the same checks on our store and on etcd."""

from __future__ import annotations

import pytest

from kubeactors.store import (
    CompactedError,
    EmptyKeyError,
    FutureRevisionError,
    KeyNotFoundError,
    KeyValue,
    LeaseNotFoundError,
    LeaseProvidedError,
    PutOp,
    RangeOp,
    RangeResult,
    RequestTooLargeError,
    ValueProvidedError,
)

from .conftest import ViewFactory


async def test_revision_fields_follow_puts_and_deletes(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        first = await view.put(b"a", b"1")
        assert first.revision == 1
        second = await view.put(b"a", b"2", prev_kv=True)
        assert second.revision == 2
        assert second.prev_kv == KeyValue(b"a", b"1", 1, 1, 1)
        found = await view.range(b"a")
        assert found.kvs == [KeyValue(b"a", b"2", 1, 2, 2)]
        assert found.revision == 2
        deleted = await view.delete(b"a", prev_kv=True)
        assert (deleted.revision, deleted.deleted) == (3, 1)
        assert deleted.prev_kvs == [KeyValue(b"a", b"2", 1, 2, 2)]
        recreated = await view.put(b"a", b"3")
        assert (await view.range(b"a")).kvs == [KeyValue(b"a", b"3", 4, 4, 1)]
        assert recreated.revision == 4


async def test_deleting_nothing_takes_no_revision(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        await view.put(b"a", b"1")
        missing = await view.delete(b"b")
        assert (missing.revision, missing.deleted) == (1, 0)
        assert await view.revision() == 1


def keys(result: RangeResult) -> list[bytes]:
    return [kv.key for kv in result.kvs]


async def test_range_conventions(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        for key in (b"a", b"ab", b"abc", b"b", b"c"):
            await view.put(key, key.upper())
        assert keys(await view.range(b"a", b"b")) == [b"a", b"ab", b"abc"]
        assert keys(await view.range(b"ab", b"\0")) == [b"ab", b"abc", b"b", b"c"]
        assert keys(await view.range(b"zz")) == []
        limited = await view.range(b"a", b"\0", limit=2)
        assert (keys(limited), limited.count, limited.more) == ([b"a", b"ab"], 5, True)
        exact = await view.range(b"a", b"\0", limit=5)
        assert (exact.count, exact.more) == (5, False)
        only_keys = await view.range(b"a", b"b", keys_only=True)
        assert [kv.value for kv in only_keys.kvs] == [b"", b"", b""]
        assert [kv.version for kv in only_keys.kvs] == [1, 1, 1]
        counted = await view.range(b"a", b"\0", count_only=True)
        assert (counted.kvs, counted.count) == ([], 5)


async def test_historical_reads(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        await view.put(b"a", b"1")
        await view.put(b"b", b"1")
        await view.put(b"a", b"2")
        await view.delete(b"b")
        at_two = await view.range(b"a", b"\0", revision=2)
        assert at_two.kvs == [KeyValue(b"a", b"1", 1, 1, 1), KeyValue(b"b", b"1", 2, 2, 1)]
        assert at_two.revision == 4
        assert (await view.range(b"a", b"\0", revision=3, count_only=True)).count == 2
        assert [kv.key for kv in (await view.range(b"a", b"\0", revision=4)).kvs] == [b"a"]
        with pytest.raises(FutureRevisionError):
            await view.range(b"a", revision=5)
        await view.compact(3)
        with pytest.raises(CompactedError):
            await view.range(b"a", revision=2)
        after = await view.range(b"a", b"\0", revision=3)
        assert after.kvs == [KeyValue(b"a", b"2", 1, 3, 2), KeyValue(b"b", b"1", 2, 2, 1)]
        with pytest.raises(CompactedError):
            await view.compact(3)
        with pytest.raises(FutureRevisionError):
            await view.compact(9)


async def test_ignore_value_and_ignore_lease(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        with pytest.raises(KeyNotFoundError):
            await view.put(b"a", ignore_value=True)
        lease = await view.lease_grant(100, 1)
        await view.put(b"a", b"1", lease=lease.id)
        await view.put(b"a", b"", ignore_value=True, lease=lease.id)
        assert (await view.range(b"a")).kvs == [KeyValue(b"a", b"1", 1, 2, 2, 1)]
        await view.put(b"a", b"2", ignore_lease=True)
        assert (await view.range(b"a")).kvs == [KeyValue(b"a", b"2", 1, 3, 3, 1)]
        await view.put(b"a", b"3")
        assert (await view.range(b"a")).kvs[0].lease == 0
        with pytest.raises(ValueProvidedError):
            await view.put(b"a", b"x", ignore_value=True)
        with pytest.raises(LeaseProvidedError):
            await view.put(b"a", b"x", lease=1, ignore_lease=True)
        with pytest.raises(LeaseNotFoundError):
            await view.put(b"a", b"x", lease=99)
        assert await view.revision() == 4


async def test_bad_input_is_refused_and_changes_nothing(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        await view.put(b"a", b"1")
        with pytest.raises(RequestTooLargeError):
            await view.put(b"big", b"x" * 1_600_000)
        assert (await view.range(b"big")).kvs == []
        assert await view.revision() == 1


async def test_empty_keys_are_refused(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        backend = view.backend
        with pytest.raises(EmptyKeyError):
            await backend.put(PutOp(b"", b"x"))
        with pytest.raises(EmptyKeyError):
            await backend.range(RangeOp(b""))
