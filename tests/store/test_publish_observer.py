"""`observing_publishes`: the moment each write becomes visible, before any watch has it."""

from __future__ import annotations

from collections.abc import Sequence

import anyio

from kubeactors.actors import ActorSystem
from kubeactors.store import MEMORY, Event, Store
from kubeactors.store._watch import observing_publishes


async def test_each_publish_is_observed_before_its_watchers_get_it_and_not_after() -> None:
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, MEMORY)
        watch = await store.watch_prefix(b"k/")
        observed: list[tuple[list[int], int]] = []
        received: list[int] = []

        def observe(events: Sequence[Event], revision: int) -> None:
            # Nothing of this write has reached the watcher yet.
            assert revision not in received
            observed.append(([event.kv.mod_revision for event in events], revision))

        with observing_publishes(observe):
            first = (await store.put(b"k/a", b"1")).revision
            second = (await store.put(b"k/b", b"2")).revision
            with anyio.fail_after(5):
                async for batch in watch:
                    received.extend(event.kv.mod_revision for event in batch)
                    if second in received:
                        break
        await store.put(b"k/c", b"3")
        watch.close()
        assert received == [first, second]
        assert observed == [([first], first), ([second], second)]
