"""The store without a database (`MEMORY`): what only it does, compacting the history
that leaves its window. (It answers everything else as the SQLite store does: the
conformance suite and the model comparison run on it too.)"""

from __future__ import annotations

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeactors.actors import ActorSystem, CallbackReply
from kubeactors.store import (
    MEMORY,
    CompactedError,
    Put,
    PutMany,
    Store,
    StoreOptions,
    WatchCancelledError,
    WriteResult,
)


async def test_history_leaving_the_window_is_compacted() -> None:
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, MEMORY, options=StoreOptions(history_window=4))
        for index in range(10):  # revisions 1-10: a, b, a, b, ...
            await store.put(b"ab"[index % 2 : index % 2 + 1], str(index).encode())
        status = await store.status()
        # The window holds revisions 7-10 (four events): 7 is the oldest readable.
        assert (status.revision, status.compact_revision) == (10, 7)
        with pytest.raises(CompactedError):
            await store.range(b"a", b"c", revision=6)
        at_seven = await store.range(b"a", b"c", revision=7)
        assert [(kv.key, kv.value, kv.mod_revision) for kv in at_seven.kvs] == [
            (b"a", b"6", 7),
            (b"b", b"5", 6),
        ]
        stale = await store.watch(b"a", b"c", start_revision=6)
        with pytest.raises(WatchCancelledError) as cancelled:
            await anext(aiter(stale))
        assert cancelled.value.compact_revision == 7
        recent = await store.watch(b"a", b"c", start_revision=7)
        batch = await anext(aiter(recent))
        assert [(e.kv.value, e.kv.mod_revision) for e in batch] == [
            (b"6", 7),
            (b"7", 8),
            (b"8", 9),
            (b"9", 10),
        ]
        recent.close()


async def test_a_restarted_memory_store_starts_empty() -> None:
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, MEMORY)
        await store.put(b"a", b"1")
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, MEMORY)
        assert (await store.status()).revision == 0
        assert await store.get(b"a") is None


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=6), st.integers(1, 8))
async def test_a_window_trimmed_many_revisions_at_a_time_is_compacted_as_one_by_one(
    batches: list[int], window: int
) -> None:
    """Puts committed together leave the window together: what stays readable and the
    compaction revision are those of trimming one revision at a time."""
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, MEMORY, options=StoreOptions(history_window=window))
        revision = 0
        for count in batches:
            done = anyio.Event()
            answered: list[WriteResult | BaseException] = []

            def keep(
                answer: WriteResult | BaseException,
                count: int = count,
                answered: list[WriteResult | BaseException] = answered,
                done: anyio.Event = done,
            ) -> None:
                answered.append(answer)
                if len(answered) == count:
                    done.set()

            puts = [
                Put(b"k", str(revision + n).encode(), CallbackReply(keep, keep))
                for n in range(count)
            ]
            await store.ref.tell(PutMany(puts))
            with anyio.fail_after(10):
                await done.wait()
            revision += count
        # One event per revision: the newest `window` revisions stay (at least one).
        oldest = max(revision - window + 1, 1)
        status = await store.status()
        assert status.revision == revision
        assert status.compact_revision == (oldest if oldest > 1 else 0)
        if oldest > 1:
            with pytest.raises(CompactedError):
                await store.range(b"k", revision=oldest - 1)
        at_oldest = await store.range(b"k", revision=oldest)
        assert [kv.mod_revision for kv in at_oldest.kvs] == [oldest]
