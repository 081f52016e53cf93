"""Behaviour of our store beyond what the etcd comparison can show: recovery,
compaction in steps, slow watchers, progress notifications, input checks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from kubeactors.actors import ActorSystem
from kubeactors.store import (
    CompactedError,
    EmptyKeyError,
    EventType,
    InvalidArgumentError,
    KeyValue,
    Store,
    StoreOptions,
    WatchCancelledError,
)


async def _wait_compacted(store: Store, revision: int) -> None:
    """Poll until the background compaction has physically reached `revision`."""
    for _ in range(1000):
        if (await store.status()).compacted_through >= revision:
            return
        await anyio.sleep(0.01)
    raise AssertionError(f"compaction did not reach {revision}")


async def test_restart_keeps_revision_index_compaction_and_leases(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, db)
        lease = await store.lease_grant(300)
        await store.put(b"a", b"1")
        await store.put(b"b", b"1", lease=lease.id)
        await store.put(b"a", b"2")
        await store.put(b"gone", b"x")
        await store.delete(b"gone")
        await store.compact(5)
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, db)
        status = await store.status()
        assert (status.revision, status.compact_revision, status.keys) == (5, 5, 2)
        assert await store.get(b"a") == KeyValue(b"a", b"2", 1, 3, 2)
        with pytest.raises(CompactedError):
            await store.range(b"a", revision=4)
        assert await store.lease_list() == [lease.id]
        info = await store.lease_time_to_live(lease.id, keys=True)
        assert (info.granted_ttl, info.keys) == (300, [b"b"])
        assert await store.lease_revoke(lease.id) == 6
        assert await store.get(b"b") is None


async def test_revision_never_goes_back_when_compaction_drops_the_newest_rows(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.db"
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, db)
        await store.put(b"a", b"1")
        await store.delete(b"a")
        await store.compact(2)
        await _wait_compacted(store, 2)
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, db)
        assert (await store.status()).revision == 2
        assert (await store.put(b"a", b"again")).revision == 3


async def test_compaction_runs_in_steps_between_writes(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    options = StoreOptions(synchronous="OFF", compaction_step=10)
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, db, options=options)
        for i in range(300):
            await store.put(b"k%d" % (i % 7), b"%d" % i)
        await store.compact(250)
        # Writes keep being accepted while the history is removed in small steps.
        for i in range(50):
            await store.put(b"during", b"%d" % i)
        await _wait_compacted(store, 250)
        at_250 = await store.range(b"k", b"l", revision=250)
        last_writes = {b"k%d" % (i % 7): b"%d" % i for i in range(250)}  # revision i+1
        assert {kv.key: kv.value for kv in at_250.kvs} == last_writes
        with pytest.raises(CompactedError):
            await store.range(b"k", b"l", revision=249)
    with sqlite3.connect(db) as connection:
        rows_at_or_below = connection.execute(
            "SELECT count(*) FROM kv WHERE revision <= 250"
        ).fetchone()[0]
    assert rows_at_or_below == 7  # one surviving version per key


async def test_auto_compaction_keeps_history_bounded(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    options = StoreOptions(synchronous="OFF", auto_compact_keep=50, compaction_step=20)
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, db, options=options)
        for i in range(400):
            await store.put(b"k%d" % (i % 3), b"%d" % i)
        status = await store.status()
        assert 50 <= status.revision - status.compact_revision < 100
        await _wait_compacted(store, status.compact_revision)
        assert len((await store.range(b"k", b"l", revision=status.compact_revision)).kvs) == 3
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT count(*) FROM kv").fetchone()[0]
    assert rows < 110


async def test_a_watcher_that_falls_behind_is_cancelled(tmp_path: Path) -> None:
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, tmp_path / "s.db", options=StoreOptions(synchronous="OFF"))
        stream = await store.watch(b"k", capacity=5)
        for i in range(10):
            await store.put(b"k", b"%d" % i)
        with pytest.raises(WatchCancelledError, match="fell behind"):
            async for _ in stream:
                pass
        assert (await store.status()).watchers == 0


async def test_catch_up_waits_for_a_slow_consumer_instead_of_cancelling(
    tmp_path: Path,
) -> None:
    options = StoreOptions(synchronous="OFF", history_window=10)
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, tmp_path / "s.db", options=options)
        for i in range(300):
            await store.put(b"k%d" % (i % 5), b"%d" % i)
        stream = await store.watch(b"k", b"l", start_revision=1, capacity=20)
        seen: list[int] = []
        with anyio.fail_after(20):
            async for batch in stream:
                seen.extend(event.kv.mod_revision for event in batch)
                await anyio.sleep(0.002)  # a consumer slower than the database
                if seen[-1] == 300:
                    break
        assert seen == list(range(1, 301))
        first_prev = (await store.watch(b"k0", start_revision=6, capacity=20)).__anext__()
        batch = await first_prev
        assert batch[0].prev_kv is not None
        assert batch[0].prev_kv.value == b"0"


async def test_progress_notifications_carry_the_revision(tmp_path: Path) -> None:
    options = StoreOptions(synchronous="OFF", progress_interval=0.02)
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, tmp_path / "s.db", options=options)
        stream = await store.watch(b"watched", progress_notify=True)
        await store.put(b"elsewhere", b"x")
        with anyio.fail_after(10):
            async for batch in stream:
                if not batch and stream.revision == 1:
                    break
        stream.close()


async def test_watch_from_a_future_revision_starts_there(tmp_path: Path) -> None:
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, tmp_path / "s.db", options=StoreOptions(synchronous="OFF"))
        stream = await store.watch(b"k", start_revision=3)
        for i in range(4):
            await store.put(b"k", b"%d" % i)
        with anyio.fail_after(10):
            batch = await stream.__anext__()
        assert [(e.type, e.kv.mod_revision) for e in batch] == [(EventType.PUT, 3)]


async def test_bad_input_names_the_field(tmp_path: Path) -> None:
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, tmp_path / "s.db", options=StoreOptions(synchronous="OFF"))
        with pytest.raises(InvalidArgumentError, match="limit"):
            await store.range(b"a", b"z", limit=-1)
        with pytest.raises(InvalidArgumentError, match="ttl"):
            await store.lease_grant(10**12)
        with pytest.raises(EmptyKeyError):
            await store.put(b"", b"x")
        with pytest.raises(ValueError, match="synchronous"):
            StoreOptions(synchronous="SOMETIMES")
        assert (await store.status()).revision == 0
