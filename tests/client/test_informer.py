from pathlib import Path
from typing import Any, cast

import anyio
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.actors import Clock
from kubeactors.api import ApiError, Node, ObjectList, ObjectMeta, Pod, Status, WatchEvent
from kubeactors.client import ApiClient, Client, Delta, Informer, InformerFactory

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


async def test_resync_hands_every_object_to_the_handlers_again(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(make_pod("a"))
        await h.client.create(make_pod("b"))
        informer: Informer[Pod] = Informer(h.client, Pod)
        updates: list[tuple[str, bool]] = []
        informer.add_handler(
            on_update=lambda old, new: updates.append((new.metadata.name, old is new))
        )
        async with anyio.create_task_group() as tg:
            tg.start_soon(informer.run)
            await informer.wait_synced()
            await informer.resync()
            tg.cancel_scope.cancel()
        assert sorted(updates) == [("a", True), ("b", True)]
    with pytest.raises(ValueError, match="clock"):
        Informer(h.client, Pod, resync_period=5.0)


async def test_a_factory_shares_one_informer_per_kind(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(make_pod("a"))
        factory = InformerFactory(h.client)
        pods = factory.informer(Pod)
        assert factory.informer(Pod) is pods
        assert factory.informer(Pod, "other") is not pods
        async with anyio.create_task_group() as tg:
            tg.start_soon(factory.run)
            await pods.wait_synced()
            assert [p.metadata.name for p in pods.items()] == ["a"]
            nodes = factory.informer(Node)
            factory.start_new()
            await nodes.wait_synced()
            assert len(nodes) == 0
            tg.cancel_scope.cancel()


async def test_bookmarks_are_not_changes(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        informer: Informer[Pod] = Informer(h.client, Pod)
        seen: list[str] = []
        informer.add_handler(on_add=lambda pod: seen.append(pod.metadata.name))
        bookmark = WatchEvent("BOOKMARK", Pod(metadata=ObjectMeta(resource_version="99")))
        await informer._apply_events([bookmark])
        assert seen == []
        assert len(informer) == 0


class _Flaky:
    """A client whose lists fail with each of `failures` in turn, then work."""

    def __init__(self, client: Client, failures: list[Exception]) -> None:
        self.client = client
        self.failures = failures
        self.lists = 0

    async def list(self, kind: type[Pod], namespace: str = "") -> ObjectList[Pod]:
        self.lists += 1
        if self.failures:
            raise self.failures.pop(0)
        return await self.client.list(kind, namespace)

    async def watch(self, kind: type[Pod], namespace: str, version: str) -> Any:
        return await self.client.watch(kind, namespace, version)


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionRefusedError("the API server is away"),
        ApiError(Status(code=503, reason="ServiceUnavailable")),
        ApiError(Status(code=429, reason="TooManyRequests")),
    ],
)
async def test_an_unreachable_or_overloaded_server_is_retried_with_backoff(
    tmp_path: Path, failure: Exception
) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(make_pod("there"))
        flaky = _Flaky(h.client, [failure, failure])
        clock = FakeSleeps()
        informer: Informer[Pod] = Informer(cast(ApiClient, flaky), Pod, clock=cast(Clock, clock))
        async with anyio.create_task_group() as tg:
            tg.start_soon(informer.run)
            with anyio.fail_after(5):
                await informer.wait_synced()
            tg.cancel_scope.cancel()
        assert [p.metadata.name for p in informer.items()] == ["there"]
        assert flaky.lists == 3
        assert clock.slept == [0.8, 1.6]


async def test_a_refusal_is_not_retried(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        forbidden = ApiError(Status(code=403, reason="Forbidden", message="no"))
        flaky = _Flaky(h.client, [forbidden])
        informer: Informer[Pod] = Informer(cast(ApiClient, flaky), Pod)
        with pytest.raises(ExceptionGroup) as caught:
            await informer.run()
        assert caught.group_contains(ApiError, match="no")
        assert flaky.lists == 1


class FakeSleeps:
    """A clock that only records how long it was asked to sleep."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


_event = st.tuples(
    st.sampled_from(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]),
    st.sampled_from(["", "ns"]),
    st.sampled_from(["a", "b", "c"]),
)


@given(st.lists(st.lists(_event, max_size=6), max_size=6))
def test_watch_batches_change_the_cache_and_reach_handlers_in_order(
    batches: list[list[tuple[str, str, str]]],
) -> None:
    """Every watch event of every batch reaches the cache and the handlers as a plain
    model of the informer has it: an update of a key not cached is an add, a delete
    carries what it replaced, a bookmark is no change; the handlers get a batch in
    order, after the cache took in the whole batch."""
    informer: Informer[Pod] = Informer(cast(ApiClient, None), Pod)
    calls: list[tuple[Any, ...]] = []
    informer.add_handler(
        on_add=lambda pod: calls.append(("add", pod, len(informer))),
        on_update=lambda old, new: calls.append(("update", old, new, len(informer))),
        on_delete=lambda pod: calls.append(("delete", pod, len(informer))),
    )
    model: dict[str, Pod] = {}
    expected: list[tuple[Any, ...]] = []
    version = 0
    for batch in batches:
        events: list[WatchEvent[Pod]] = []
        wanted: list[tuple[Any, ...]] = []
        for kind, namespace, name in batch:
            version += 1
            meta = ObjectMeta(name=name, namespace=namespace, resource_version=str(version))
            pod = Pod(metadata=meta)
            events.append(WatchEvent(kind, pod))  # type: ignore[arg-type]
            key = f"{namespace}/{name}" if namespace else name
            if kind == "DELETED":
                model.pop(key, None)
                wanted.append(("delete", pod))
            elif kind != "BOOKMARK":
                previous = model.get(key)
                model[key] = pod
                wanted.append(("add", pod) if previous is None else ("update", previous, pod))
        expected.extend((*call, len(model)) for call in wanted)
        informer._call_handlers(informer._take_in(events))
        assert informer.cache == model
    assert calls == expected
