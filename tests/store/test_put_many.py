"""`PutMany`: a batch of puts in one message, each one handled as if it came alone."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from kubeactors.actors import ActorSystem, CallbackReply
from kubeactors.store import (
    MEMORY,
    ConflictError,
    Put,
    PutMany,
    RequestTooLargeError,
    Store,
    StoreOptions,
    WriteResult,
)


@pytest.mark.parametrize("memory", [False, True], ids=["sqlite", "memory"])
async def test_each_put_of_a_batch_is_its_own_write_and_fails_alone(
    tmp_path: Path, memory: bool
) -> None:
    options = StoreOptions(synchronous="OFF", max_request_bytes=1024)
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, MEMORY if memory else tmp_path / "s.db", options=options)
        first = await store.put(b"k/a", b"0")
        stream = await store.watch(b"k/", b"k0", start_revision=first.revision + 1)
        answers: dict[bytes, WriteResult | BaseException] = {}
        all_in = anyio.Event()

        def reply(key: bytes) -> CallbackReply[WriteResult]:
            def keep(answer: WriteResult | BaseException) -> None:
                answers[key] = answer
                if len(answers) == 5:
                    all_in.set()

            return CallbackReply(keep, keep)

        puts = [
            Put(b"k/a", b"1", reply(b"k/a"), expect_mod_revision=first.revision),
            Put(b"k/b", b"1", reply(b"k/b"), expect_mod_revision=first.revision),  # absent
            Put(b"k/c", b"1", reply(b"k/c"), expect_mod_revision=0),
            Put(b"k/d", b"x" * 2048, reply(b"k/d")),  # too large
            Put(b"k/e", b"1", reply(b"k/e")),
        ]
        await store.ref.tell(PutMany(puts))
        with anyio.fail_after(10):
            await all_in.wait()
        assert isinstance(answers[b"k/b"], ConflictError)
        assert isinstance(answers[b"k/d"], RequestTooLargeError)
        written = [answers[key] for key in (b"k/a", b"k/c", b"k/e")]
        assert all(isinstance(answer, WriteResult) for answer in written)
        # One revision each, in the batch's order, and one watch event each.
        revisions = [answer.revision for answer in written if isinstance(answer, WriteResult)]
        assert revisions == [first.revision + 1, first.revision + 2, first.revision + 3]
        seen: list[tuple[bytes, int]] = []
        with anyio.fail_after(10):
            async for batch in stream:
                seen.extend((event.kv.key, event.kv.mod_revision) for event in batch)
                if len(seen) >= 3:
                    break
        assert seen == [(b"k/a", revisions[0]), (b"k/c", revisions[1]), (b"k/e", revisions[2])]
        assert (await store.get(b"k/b")) is None
        assert (await store.get(b"k/d")) is None
