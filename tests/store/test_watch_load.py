"""Watch under load: many writers, many watchers, each sees exactly its committed sequence."""

from __future__ import annotations

import random
from pathlib import Path

import anyio

from kubeactors.actors import ActorSystem
from kubeactors.store import (
    DeleteOp,
    EventType,
    PutOp,
    Store,
    StoreOptions,
    WatchStream,
    in_range,
    prefix_end,
)

Change = tuple[int, bytes, bytes]  # (revision, key, value; b"" for a delete)


async def test_every_watcher_sees_exactly_the_committed_sequence(tmp_path: Path) -> None:
    rng = random.Random(7)
    ranges: list[tuple[bytes, bytes | None]] = [
        (b"/a/", prefix_end(b"/a/")),
        (b"/b/", prefix_end(b"/b/")),
        (b"/", prefix_end(b"/")),
        (b"/a/1", None),
        (b"/a/5", b"/b/3"),
        (b"\0", b"\0"),
    ]
    # A small in-memory window: late watchers catch up from SQLite while writes go on.
    options = StoreOptions(synchronous="NORMAL", history_window=64, catch_up_chunk=50)
    committed: list[Change] = []
    async with ActorSystem(seed=1) as system:
        store = Store.spawn(system.root, tmp_path / "load.db", options=options)
        streams: list[tuple[WatchStream, bytes, bytes | None, int]] = []
        for start, end in ranges * 4:
            streams.append((await store.watch(start, end, prev_kv=False), start, end, 1))

        async def writer(n: int) -> None:
            for i in range(150):
                key = f"/{rng.choice('ab')}/{rng.randrange(10)}".encode()
                value = f"{n}.{i}".encode()
                if i % 10 == 9:
                    result = await store.txn([], [PutOp(key + b"/x", value), DeleteOp(key + b"/y")])
                    committed.append((result.revision, key + b"/x", value))
                elif i % 13 == 12:
                    deleted = await store.delete(key)
                    if deleted.prev_kv is not None:
                        committed.append((deleted.revision, key, b""))
                else:
                    put = await store.put(key, value)
                    committed.append((put.revision, key, value))

        async def late_watchers() -> None:
            for start, end in ranges:
                await anyio.sleep(0.01)
                status = await store.status()
                first = max(1, status.revision - 200)
                stream = await store.watch(start, end, start_revision=first, prev_kv=False)
                streams.append((stream, start, end, first))

        async with anyio.create_task_group() as tasks:
            for n in range(8):
                tasks.start_soon(writer, n)
            tasks.start_soon(late_watchers)
        # One revision with a key in every watched range ends every stream.
        sentinel = await store.txn([], [PutOp(b"/a/1", b"end"), PutOp(b"/b/0", b"end")])
        end_keys = {b"/a/1", b"/b/0"}

        for stream, start, end, first in streams:
            seen: list[Change] = []
            with anyio.fail_after(30):
                async for batch in stream:
                    seen.extend(
                        (
                            e.kv.mod_revision,
                            e.kv.key,
                            e.kv.value if e.type is EventType.PUT else b"",
                        )
                        for e in batch
                    )
                    if batch[-1].kv.mod_revision >= sentinel.revision:
                        break
            stream.close()
            finale = [(sentinel.revision, key, b"end") for key in sorted(end_keys)]
            expected = [
                change
                for change in sorted([*committed, *finale])
                if change[0] >= first and in_range(change[1], start, end)
            ]
            assert seen == expected, f"watch on {start!r}..{end!r} from {first}"
