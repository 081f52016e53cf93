"""The store without a database (`MEMORY`): what only it does, compacting the history
that leaves its window. (It answers everything else as the SQLite store does: the
conformance suite and the model comparison run on it too.)"""

from __future__ import annotations

import pytest

from kubeactors.actors import ActorSystem
from kubeactors.store import MEMORY, CompactedError, Store, StoreOptions, WatchCancelledError


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
