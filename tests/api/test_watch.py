"""API watches of one kind share the work of a write: one decode, one converted batch
for every watch without selectors; each watch still gets its own list, and watches
with selectors or of other kinds are not confused with them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeactors.actors import Reply
from kubeactors.api import ApiWatch, ConfigMap, ObjectMeta, Pod, WatchEvent, kind_of
from kubeactors.api._messages import Watch
from kubeactors.api._watch import DecodeCache
from kubeactors.store import Event, EventType, KeyValue

from .harness import ADMIN, make_pod, running_api


async def _take(watch: Any, count: int) -> list[WatchEvent[Any]]:
    events: list[WatchEvent[Any]] = []
    with anyio.fail_after(5):
        async for batch in watch:
            events.extend(batch)
            if len(events) >= count:
                break
    return events


async def test_plain_watches_share_events_selector_watches_see_transitions(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as h:
        pod = await h.client.create(make_pod("a"))
        version = pod.metadata.resource_version
        plain = [await h.client.watch(Pod, resource_version=version) for _ in range(3)]
        selected = await h.client.watch(Pod, resource_version=version, label_selector="app=web")
        maps = await h.client.watch(ConfigMap, resource_version=version)

        labelled = await h.client.update(
            msgspec.structs.replace(
                pod, metadata=msgspec.structs.replace(pod.metadata, labels={"app": "web"})
            )
        )
        await h.client.create(ConfigMap(metadata=ObjectMeta(name="a"), data={"k": "v"}))
        await h.client.update(
            msgspec.structs.replace(
                labelled, metadata=msgspec.structs.replace(labelled.metadata, labels={})
            )
        )

        seen = [await _take(watch, 2) for watch in plain]
        assert [(e.type, e.object.metadata.labels) for e in seen[0]] == [
            ("MODIFIED", {"app": "web"}),
            ("MODIFIED", {}),
        ]
        assert seen[0] == seen[1] == seen[2]
        # The same frozen events, in lists of their own.
        assert all(a is b for a, b in zip(seen[0], seen[1], strict=True))
        await h.client.create(make_pod("b"))
        with anyio.fail_after(5):
            batches = [await watch.__anext__() for watch in plain]
        assert batches[0] == batches[1] == batches[2]
        assert batches[0] is not batches[1]  # a consumer may change its own list
        batches[0].clear()
        assert [e.object.metadata.name for e in batches[1]] == ["b"]

        assert [(e.type, e.object.metadata.name) for e in await _take(selected, 2)] == [
            ("ADDED", "a"),
            ("DELETED", "a"),
        ]
        assert [(e.type, type(e.object)) for e in await _take(maps, 1)] == [("ADDED", ConfigMap)]
        for watch in plain:
            watch.close()
        selected.close()
        maps.close()


async def test_a_selector_watch_is_not_woken_for_writes_its_selector_rejects(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as h:
        version = (await h.client.list(Pod)).resource_version
        watch = await h.client.watch(Pod, resource_version=version, label_selector="app=web")
        stream = watch._stream
        other = await h.client.create(make_pod("db", labels={"app": "db"}))  # type: ignore[arg-type]
        # The store decided in its commit path: nothing queued, complete past the write.
        assert stream.take() is None
        assert stream.revision == int(other.metadata.resource_version)
        await h.client.create(make_pod("web", labels={"app": "web"}))  # type: ignore[arg-type]
        events = await _take(watch, 1)
        assert [(e.type, e.object.metadata.name) for e in events] == [("ADDED", "web")]
        watch.close()


@st.composite
def _store_batches(draw: st.DrawFn) -> list[list[Event]]:
    """Puts and deletes of a few pods, labelled app=a, app=b or not, as store events
    with their previous versions, cut into batches."""
    pods = kind_of(Pod)
    current: dict[str, KeyValue] = {}
    events: list[Event] = []
    for revision in range(1, draw(st.integers(1, 25)) + 1):
        name = draw(st.sampled_from(["p", "q", "r"]))
        key = pods.key("default", name)
        previous = current.get(name)
        if previous is not None and draw(st.integers(0, 3)) == 0:
            events.append(Event(EventType.DELETE, KeyValue(key, b"", 0, revision, 0), previous))
            del current[name]
            continue
        app = draw(st.sampled_from(["a", "b", None]))
        labels = {} if app is None else {"app": app}
        value = pods.encode(make_pod(name, namespace="default", labels=labels))  # type: ignore[arg-type]
        created = previous.create_revision if previous else revision
        kv = KeyValue(key, value, created, revision, (previous.version if previous else 0) + 1)
        events.append(Event(EventType.PUT, kv, previous))
        current[name] = kv
    cuts = sorted(draw(st.sets(st.integers(1, len(events)), max_size=5)) | {len(events)})
    return [events[start:end] for start, end in zip([0, *cuts], cuts, strict=False)]


def _reference(events: list[Event], selected: Callable[[Pod], bool]) -> list[tuple[str, str, str]]:
    """The plain per-event rule: decode now and before, compare the selector on both."""
    pods = kind_of(Pod)
    out: list[tuple[str, str, str]] = []
    for event in events:
        prev = event.prev_kv
        if event.type is EventType.PUT:
            now = pods.decode(event.kv.value, event.kv.mod_revision)
            before = prev is not None and selected(pods.decode(prev.value, prev.mod_revision))
            if selected(now):
                out.append(
                    (
                        "MODIFIED" if before else "ADDED",
                        now.metadata.name,
                        str(event.kv.mod_revision),
                    )
                )
            elif before:
                out.append(("DELETED", now.metadata.name, str(event.kv.mod_revision)))
        elif prev is not None:
            gone = pods.decode(prev.value, event.kv.mod_revision)
            if selected(gone):
                out.append(("DELETED", gone.metadata.name, str(event.kv.mod_revision)))
    return out


@settings(max_examples=60, deadline=None)
@given(_store_batches())
def test_selector_watches_from_shared_changes_match_the_plain_rule(
    batches: list[list[Event]],
) -> None:
    cache = DecodeCache()
    pods = kind_of(Pod)

    def selected(pod: Pod) -> bool:
        return (pod.metadata.labels or {}).get("app") == "a"

    for events in batches:
        changes = cache.changes(pods, events)
        assert cache.changes(pods, events) is changes  # decoded once for all watches
        for _ in range(2):  # two watches with selectors, one batch
            got = ApiWatch._select(changes, selected)
            assert [
                (e.type, e.object.metadata.name, e.object.metadata.resource_version) for e in got
            ] == _reference(events, selected)
        plain = cache.converted(pods, events)
        assert plain == cache.converted(pods, events)
        assert [e.type for e in plain] == [
            "DELETED"
            if event.type is EventType.DELETE
            else ("ADDED" if event.prev_kv is None else "MODIFIED")
            for event in events
            if event.type is EventType.PUT or event.prev_kv is not None
        ]


def test_the_last_write_of_a_key_outlasts_writes_to_other_keys() -> None:
    cache = DecodeCache(size=2, keys=4)  # last writes in generations of two keys
    objects = {name: Pod(metadata=ObjectMeta(name=name)) for name in "abcd"}
    for revision, name in enumerate("abc", start=1):
        cache.remember(name.encode(), revision, objects[name])
    # c began a new generation; a is in the old one, and still its last write.
    assert cache.peek(b"a", 1) is objects["a"]
    assert cache.peek(b"a", 2) is None  # not the version asked for
    cache.remember(b"a", 4, objects["a"])  # a written again: young, with c
    cache.remember(b"d", 5, objects["d"])  # a new generation: b's goes
    assert cache.peek(b"b", 2) is None
    assert cache.peek(b"c", 3) is objects["c"]
    assert cache.peek(b"a", 1) is None  # a has moved on
    assert cache.peek(b"a", 4) is objects["a"]
    cache.forget(b"a")  # deleted: its last write is held no longer
    assert cache.peek(b"a", 4) is None
    assert cache.peek(b"c", 3) is objects["c"]


_last_write_ops = st.lists(st.tuples(st.booleans(), st.sampled_from(b"abcdefgh")), max_size=60)


@given(st.integers(min_value=1, max_value=8), _last_write_ops)
def test_last_writes_are_never_stale_and_the_latest_keys_are_kept(
    keys: int, ops: list[tuple[bool, int]]
) -> None:
    """Whatever the writes (`True`) and deletions (`False`) of keys: a key's last write
    is found only at its revision and only while not deleted since, and the keys most
    lately written (half of `keys`) are always found; at most `keys` are held (two for
    `keys` of one)."""
    cache = DecodeCache(keys=keys)
    model: dict[bytes, tuple[int, Pod]] = {}
    recent: list[bytes] = []  # keys by last write, the latest last
    for revision, (write, letter) in enumerate(ops, start=1):
        key = bytes([letter])
        if key in recent:
            recent.remove(key)
        if write:
            obj = Pod(metadata=ObjectMeta(name=key.decode()))
            cache.remember(key, revision, obj)
            model[key] = (revision, obj)
            recent.append(key)
        else:
            cache.forget(key)
            model.pop(key, None)
        held = 0
        for other in b"abcdefgh":
            name = bytes([other])
            for version in range(revision + 1):
                found = cache.peek(name, version)
                if found is not None:
                    assert model.get(name) == (version, found)
                    held += 1
        kept = recent[-max(1, keys // 2) :]
        assert all(cache.peek(name, model[name][0]) is model[name][1] for name in kept)
        assert held <= max(keys, 2)


async def test_on_close_calls_each_callback_once_and_late_ones_at_once(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        watch = await h.client.watch(Pod)
        calls: list[str] = []
        watch.on_close(lambda: calls.append("first"))
        watch.on_close(lambda: calls.append("second"))
        assert calls == []
        watch.close()
        watch.close()
        assert calls == ["first", "second"]
        watch.on_close(lambda: calls.append("late"))
        assert calls == ["first", "second", "late"]


async def test_a_watch_answered_after_its_asker_gave_up_is_closed(tmp_path: Path) -> None:
    """A client that stops waiting for its watch (cancelled, timed out) never gets it
    to close: the answer, gone to the dead letters, is closed there, or the store would
    keep queueing every event of its range for nobody."""
    async with running_api(tmp_path) as h:
        before = (await h.store.status()).watchers
        gave_up: asyncio.Future[ApiWatch[Any]] = asyncio.get_running_loop().create_future()
        gave_up.cancel()
        reply = Reply(gave_up, "api", h.system.dead_letters)
        watch = Watch(kind=Pod, namespace="", resource_version="", reply=reply, user=ADMIN)
        await h.client.api.tell(watch)
        with anyio.fail_after(5):
            while not h.system.dead_letters.count:
                await h.client.list(Pod)  # a round trip through the server and the store
        (letter,) = h.system.dead_letters.recent
        assert isinstance(letter.message, ApiWatch)
        assert letter.reason == "asker gave up"
        assert (await h.store.status()).watchers == before
        await h.client.create(make_pod("after"))  # nothing to queue it for
        assert (await h.store.status()).watchers == before
