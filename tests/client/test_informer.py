from pathlib import Path

import anyio
import msgspec

from kubeactors.api import Pod
from kubeactors.client import Delta, Informer

from ..api.harness import make_pod, running_api


def _bind(pod: Pod, node: str) -> Pod:
    return msgspec.structs.replace(pod, spec=msgspec.structs.replace(pod.spec, node_name=node))


async def test_informer_lists_then_follows_with_handlers_and_index(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        before = await h.client.create(make_pod("before"))
        informer: Informer[Pod] = Informer(h.client, Pod)
        informer.add_index("node", lambda pod: [pod.spec.node_name])
        seen: list[tuple[str, str]] = []
        informer.add_handler(
            on_add=lambda pod: seen.append(("add", pod.metadata.name)),
            on_update=lambda old, new: seen.append(("update", new.metadata.name)),
            on_delete=lambda pod: seen.append(("delete", pod.metadata.name)),
        )
        batches: list[list[Delta[Pod]]] = []
        four_changes = anyio.Event()

        async def on_batch(deltas: list[Delta[Pod]]) -> None:
            batches.append(deltas)
            if sum(map(len, batches)) >= 4:
                four_changes.set()

        informer.add_batch_handler(on_batch)
        async with anyio.create_task_group() as tg:
            tg.start_soon(informer.run)
            await informer.wait_synced()
            assert seen == [("add", "before")]
            assert informer.get("default/before") == before
            after = await h.client.create(make_pod("after"))
            await h.client.update(_bind(after, "n1"))
            await h.client.delete(Pod, "before")
            with anyio.fail_after(5):
                await four_changes.wait()
            assert seen[1:] == [("add", "after"), ("update", "after"), ("delete", "before")]
            assert [p.metadata.name for p in informer.by_index("node", "n1")] == ["after"]
            assert informer.by_index("node", "") == []
            assert len(informer) == 1
            old_delta = next(d for batch in batches for d in batch if d.type == "MODIFIED")
            assert old_delta.old is not None
            assert old_delta.old.spec.node_name == ""
            tg.cancel_scope.cancel()


async def test_informer_relist_emits_the_difference(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(make_pod("keep"))
        await h.client.create(make_pod("gone"))
        informer: Informer[Pod] = Informer(h.client, Pod)
        async with anyio.create_task_group() as tg:
            tg.start_soon(informer.run)
            await informer.wait_synced()
            tg.cancel_scope.cancel()
        await h.client.delete(Pod, "gone")
        await h.client.create(make_pod("new"))
        deltas: list[tuple[str, str]] = []

        async def record(batch: list[Delta[Pod]]) -> None:
            deltas.extend((d.type, d.object.metadata.name) for d in batch)

        informer.add_batch_handler(record)
        informer.synced = anyio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(informer.run)
            await informer.wait_synced()
            tg.cancel_scope.cancel()
        assert sorted(deltas) == [("ADDED", "new"), ("DELETED", "gone")]
        assert sorted(p.metadata.name for p in informer.items()) == ["keep", "new"]
