"""`sinceSeconds`/`sinceTime` at the kubelet: which log lines a request gets."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kubeactors.node import FollowLogs, ReadLogs
from kubeactors.node._logs import follow_since, lines_since, since_stamp
from kubeactors.node.runtime._base import format_log_time

from ..api.harness import FIXED_TIME, running_api
from ._nodes import Nodes, bound_pod, wait_for_pod

EPOCH = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _stamped(offsets: list[float]) -> list[str]:
    return [f"{format_log_time(EPOCH + offset)} line {i}" for i, offset in enumerate(offsets)]


@given(
    offsets=st.lists(st.floats(0, 10_000, allow_nan=False), max_size=30).map(sorted),
    since=st.floats(-10, 10_010, allow_nan=False),
    tail=st.none() | st.integers(0, 40),
)
def test_lines_since_keeps_the_lines_written_at_or_after_it(
    offsets: list[float], since: float, tail: int | None
) -> None:
    lines = _stamped(offsets)
    kept = lines_since(lines, format_log_time(EPOCH + since), tail=tail, timestamps=False)
    # Stamps have microseconds, so compare at that precision, as the stamps do.
    expected = [
        f"line {i}"
        for i, offset in enumerate(offsets)
        if round((EPOCH + offset) * 1e6) >= round((EPOCH + since) * 1e6)
    ]
    if tail is not None:
        expected = expected[-tail:] if tail else []
    assert kept == expected


def test_since_seconds_counts_back_from_now_and_since_time_wins() -> None:
    assert since_stamp(EPOCH, None, None) is None
    assert since_stamp(EPOCH + 90, 90, None) == format_log_time(EPOCH)
    assert since_stamp(EPOCH, None, EPOCH + 5) == format_log_time(EPOCH + 5)


async def test_a_followed_log_is_filtered_then_cut_to_its_tail() -> None:
    closed: list[bool] = []

    async def batches() -> AsyncIterator[list[str]]:
        try:
            yield _stamped([0, 10, 20, 30])
            yield _stamped([5, 40])  # a late batch: filtered, never cut to the tail
        finally:
            closed.append(True)

    followed = follow_since(batches(), format_log_time(EPOCH + 10), tail=2, timestamps=False)
    assert [lines async for lines in followed] == [["line 2", "line 3"], ["line 1"]]
    assert closed == [True]


async def test_the_kubelet_reads_only_lines_since_the_time_asked(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        nodes = Nodes(h)
        kubelet = nodes.start(0)
        await h.client.create(bound_pod("web"))
        await wait_for_pod(h, "web", lambda p: p.status.phase == "Running")
        moment = FIXED_TIME.timestamp()  # the test nodes' wall clock stands still here

        async def read(
            since_seconds: int | None = None,
            since_time: float | None = None,
            timestamps: bool = False,
        ) -> list[str]:
            lines: list[str] = await kubelet.ask(
                lambda reply: ReadLogs(
                    namespace="default",
                    pod="web",
                    since_seconds=since_seconds,
                    since_time=since_time,
                    timestamps=timestamps,
                    reply=reply,
                )
            )
            return lines

        everything = await read()
        assert everything == ["simulated container app started"]
        assert await read(since_time=moment) == everything
        assert await read(since_time=moment + 1) == []
        assert await read(since_seconds=60) == everything
        stamped = await read(since_time=moment, timestamps=True)
        assert stamped == [f"{format_log_time(moment)} simulated container app started"]
        followed: AsyncIterator[list[str]] = await kubelet.ask(
            lambda reply: FollowLogs(
                namespace="default", pod="web", since_time=moment + 1, reply=reply
            )
        )
        assert isinstance(followed, AsyncGenerator)
        assert await anext(followed) == []
        await followed.aclose()
