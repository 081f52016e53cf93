"""The hub's dispatch, watches grouped by range: each watch gets exactly the events of
its range and filters from its start revision, in revision order, whatever the mix of
watches sharing a range and however the writes are grouped into publishes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeactors.store import (
    Event,
    EventType,
    KeyValue,
    WatchCancelledError,
    WatchHub,
    WatchStream,
    in_range,
)

KEYS = [b"/a/1", b"/a/2", b"/a/3", b"/b/1", b"/b/2", b"/c"]
RANGES: list[tuple[bytes, bytes | None]] = [
    (b"/a/", b"/a0"),
    (b"/b/", b"/b0"),
    (b"/a/2", None),
    (b"/c", None),
    (b"/a/2", b"/b/2"),
    (b"/", b"\0"),
]


@dataclass(frozen=True)
class Spec:
    key: bytes
    end: bytes | None
    start: int
    prev_kv: bool
    no_put: bool
    no_delete: bool
    opened_after: int  # publishes done before this watch opens
    closed_after: int | None  # publishes done before it is closed, if it is


@st.composite
def spec(draw: st.DrawFn, publishes: int) -> Spec:
    key, end = draw(st.sampled_from(RANGES))
    prev_kv, no_put, no_delete = draw(st.tuples(st.booleans(), st.booleans(), st.booleans()))
    opened = draw(st.integers(0, publishes))
    closed = draw(st.none() | st.integers(opened, publishes))
    return Spec(key, end, draw(st.integers(0, 12)), prev_kv, no_put, no_delete, opened, closed)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[list[list[Event]]], list[Spec]]:
    """Publishes (each a list of revisions, each a list of events) and watch specs."""
    revision = 0
    versions: dict[bytes, KeyValue] = {}
    publishes: list[list[list[Event]]] = []
    for _ in range(draw(st.integers(1, 8))):
        group: list[list[Event]] = []
        for _ in range(draw(st.integers(1, 3))):
            revision += 1
            events: list[Event] = []
            for key in draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=3, unique=True)):
                previous = versions.get(key)
                if previous is not None and draw(st.booleans()):
                    events.append(
                        Event(EventType.DELETE, KeyValue(key, b"", 0, revision, 0), previous)
                    )
                    del versions[key]
                else:
                    created = previous.create_revision if previous else revision
                    version = previous.version + 1 if previous else 1
                    kv = KeyValue(key, b"%d" % revision, created, revision, version)
                    events.append(Event(EventType.PUT, kv, previous))
                    versions[key] = kv
            group.append(events)
        publishes.append(group)
    specs = draw(st.lists(spec(len(publishes)), min_size=1, max_size=30))
    return publishes, specs


def _expected(spec: Spec, opened_at: int, published: list[Event]) -> list[Event]:
    start = max(spec.start, opened_at + 1)
    return [
        event if spec.prev_kv else Event(event.type, event.kv)
        for event in published
        if event.kv.mod_revision >= start
        and in_range(event.kv.key, spec.key, spec.end)
        and not (spec.no_put if event.type is EventType.PUT else spec.no_delete)
    ]


def _drain(stream: WatchStream) -> list[Event]:
    taken: list[Event] = []
    while (batch := stream.take()) is not None:
        revisions = [event.kv.mod_revision for event in batch]
        assert revisions == sorted(revisions)
        taken.extend(batch)
    return taken


@settings(max_examples=150, deadline=None)
@given(scenario())
def test_each_watch_gets_exactly_its_range_in_order(
    case: tuple[list[list[list[Event]]], list[Spec]],
) -> None:
    publishes, specs = case
    hub = WatchHub()
    streams: dict[int, WatchStream] = {}
    opened_at: dict[int, int] = {}
    received: dict[int, list[Event]] = {n: [] for n in range(len(specs))}
    published: list[Event] = []
    revision = 0
    for done in range(len(publishes) + 1):
        for n, watch in enumerate(specs):
            if watch.opened_after == done:
                # As the store opens a live watch: from the next revision at the earliest.
                stream = WatchStream(
                    hub,
                    watch.key,
                    watch.end,
                    10_000,
                    start_revision=max(watch.start, revision + 1),
                    prev_kv=watch.prev_kv,
                    no_put=watch.no_put,
                    no_delete=watch.no_delete,
                )
                stream.revision = stream._queued = revision
                hub.add(stream)
                streams[n], opened_at[n] = stream, revision
        for n, watch in enumerate(specs):
            if watch.closed_after == done and n in streams:
                received[n].extend(_drain(streams[n]))
                streams[n].close()
        if done == len(publishes):
            break
        events = [event for revision_events in publishes[done] for event in revision_events]
        revision = events[-1].kv.mod_revision
        hub.publish(events, revision)
        published.extend(events)
        if done % 2:  # some watchers read as they go, others only at the end
            for n, stream in streams.items():
                if not stream.closed:
                    received[n].extend(_drain(stream))
    for n, watch in enumerate(specs):
        stream = streams[n]
        if not stream.closed:
            received[n].extend(_drain(stream))
            assert stream.revision == revision, "complete up to the last publish"
            assert len(hub) > 0
        seen_publishes = (
            publishes if watch.closed_after is None else publishes[: watch.closed_after]
        )
        cut = sum(len(events) for group in seen_publishes for events in group)
        assert received[n] == _expected(watch, opened_at[n], published[:cut]), f"watch {n}: {watch}"
    open_streams = [s for s in streams.values() if not s.closed]
    assert len(hub) == len(open_streams)


def test_watches_of_one_range_share_a_batch_and_never_see_it_change() -> None:
    hub = WatchHub()
    plain = [WatchStream(hub, b"/a/", b"/a0", 100) for _ in range(3)]
    stripped = WatchStream(hub, b"/a/", b"/a0", 100, prev_kv=False)
    for stream in [*plain, stripped]:
        hub.add(stream)
    previous = KeyValue(b"/a/1", b"old", 1, 1, 1)
    event = Event(EventType.PUT, KeyValue(b"/a/1", b"new", 1, 2, 2), previous)
    hub.publish([event], 2)
    batches = [stream.take() for stream in plain]
    assert batches[0] is batches[1] is batches[2]
    assert batches[0] == [event]
    assert stripped.take() == [Event(EventType.PUT, event.kv)]
    # A stream fed more while its batch waits gets a new list, not the shared one.
    hub.publish([Event(EventType.PUT, KeyValue(b"/a/2", b"x", 3, 3, 1))], 3)
    plain[0].feed([Event(EventType.PUT, KeyValue(b"/a/3", b"y", 4, 4, 1))], 4)
    assert [e.kv.key for e in plain[0].take() or []] == [b"/a/2", b"/a/3"]
    assert [e.kv.key for e in plain[1].take() or []] == [b"/a/2"]


def test_a_closed_watch_leaves_its_range() -> None:
    hub = WatchHub()
    first = WatchStream(hub, b"/a/", b"/a0", 100)
    second = WatchStream(hub, b"/a/", b"/a0", 100)
    hub.add(first)
    hub.add(second)
    first.close()
    assert len(hub) == 1
    hub.publish([Event(EventType.PUT, KeyValue(b"/a/1", b"v", 1, 1, 1))], 1)
    with pytest.raises(StopAsyncIteration):
        first.take()
    assert second.take() is not None
    second.close()
    assert len(hub) == 0


def test_a_gate_keeps_batches_from_its_watch_and_a_failing_gate_lets_them_through() -> None:
    hub = WatchHub()
    gated = WatchStream(hub, b"/a/", b"/a0", 100)
    failing = WatchStream(hub, b"/a/", b"/a0", 100)
    plain = WatchStream(hub, b"/a/", b"/a0", 100)
    asked: list[list[bytes]] = []

    def only_ones(events: list[Event]) -> bool:
        asked.append([event.kv.key for event in events])
        return any(event.kv.key.endswith(b"1") for event in events)

    def broken(events: list[Event]) -> bool:
        raise ValueError("cannot tell")

    gated.gate, failing.gate = only_ones, broken
    for stream in (gated, failing, plain):
        hub.add(stream)
    hub.publish([Event(EventType.PUT, KeyValue(b"/a/2", b"v", 1, 1, 1))], 1)
    assert gated.take() is None  # nothing queued, and so nothing to wake it for
    assert gated.revision == 1  # but complete up to the write all the same
    hub.publish(
        [
            Event(EventType.PUT, KeyValue(b"/a/3", b"v", 2, 2, 1)),
            Event(EventType.PUT, KeyValue(b"/a/1", b"v", 2, 2, 1)),
            Event(EventType.PUT, KeyValue(b"/b/1", b"v", 2, 2, 1)),  # out of range
        ],
        2,
    )
    assert [e.kv.key for e in gated.take() or []] == [b"/a/3", b"/a/1"]
    assert asked == [[b"/a/2"], [b"/a/3", b"/a/1"]]
    assert [len(failing.take() or []), len(failing.take() or [])] == [1, 2]
    assert [len(plain.take() or []), len(plain.take() or [])] == [1, 2]


async def test_one_publish_cancels_only_the_watch_it_overflows_and_wakes_the_rest() -> None:
    """The watches of a range are queued in one loop: one that falls behind in the
    middle of it is cancelled alone (its consumer takes what was queued, then the
    error), and those after it still get the batch and are woken, each once, in the
    order they were added."""
    hub = WatchHub()
    small = WatchStream(hub, b"/a/", b"/a0", 2)
    streams = [WatchStream(hub, b"/a/", b"/a0", 100) for _ in range(2)]
    streams.insert(1, small)
    for stream in streams:
        hub.add(stream)
    woken: list[int] = []

    async def follow(index: int, stream: WatchStream) -> None:
        async for _ in stream:
            woken.append(index)

    tasks = [asyncio.ensure_future(follow(i, stream)) for i, stream in enumerate(streams)]
    await asyncio.sleep(0)
    events = [Event(EventType.PUT, KeyValue(b"/a/%d" % i, b"v", 1, 1, 1)) for i in range(3)]
    hub.publish(events, 1)
    await asyncio.sleep(0)
    assert woken == [0, 1, 2]
    assert len(hub) == 2
    with pytest.raises(WatchCancelledError, match="fell behind by 3 events"):
        await tasks[1]
    hub.publish([Event(EventType.PUT, KeyValue(b"/a/9", b"v", 2, 2, 1))], 2)
    await asyncio.sleep(0)
    assert woken == [0, 1, 2, 0, 2]
    for task in tasks:
        task.cancel()
