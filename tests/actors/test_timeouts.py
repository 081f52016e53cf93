"""The ask deadline queue: every pending ask expires exactly at its deadline, no sooner."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from unittest import mock

from hypothesis import given
from hypothesis import strategies as st

from kubeactors.actors import AskTimeout, AskTimeouts
from kubeactors.actors import _timeouts as timeouts_module

from ._fakes import FakeClock

# One ask: (created at second s, timeout, answered after a + 0.5 seconds or never).
# Deadlines fall on whole seconds and answers on half seconds, so they never tie.
asks = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=6),
        st.sampled_from([1.0, 2.0, 4.0]),
        st.none() | st.integers(min_value=0, max_value=5),
    ),
    max_size=40,
)


@given(asks=asks, sweep_at=st.sampled_from([2, 4, 1024]))
async def test_each_ask_expires_at_its_deadline_unless_answered_first(
    asks: list[tuple[int, float, int | None]], sweep_at: int
) -> None:
    clock = FakeClock(start=0.0)
    loop = asyncio.get_running_loop()
    with mock.patch.object(timeouts_module, "_SWEEP_AT", sweep_at):
        deadlines = AskTimeouts(clock)
        futures: list[asyncio.Future[int]] = [loop.create_future() for _ in asks]
        finished_at: dict[int, float] = {}

        def note_finish(index: int) -> Callable[[asyncio.Future[int]], object]:
            return lambda _: finished_at.setdefault(index, clock.now())

        for index, future in enumerate(futures):
            future.add_done_callback(note_finish(index))
        events: list[tuple[float, int, str]] = []
        for index, (created, _, answer) in enumerate(asks):
            events.append((float(created), index, "ask"))
            if answer is not None:
                events.append((created + answer + 0.5, index, "answer"))
        for at, index, kind in sorted(events):
            await clock.advance(at - clock.now())
            if kind == "ask":
                deadlines.add(futures[index], "target", index, asks[index][1])
            elif not futures[index].done():
                futures[index].set_result(index)
                await asyncio.sleep(0)  # its done callback reads the time now
        await clock.advance(10.0)
        await asyncio.sleep(0)  # let the done callbacks run

    for index, (created, timeout, answer) in enumerate(asks):
        future = futures[index]
        if answer is not None and answer + 0.5 < timeout:
            assert future.result() == index
            assert finished_at[index] == created + answer + 0.5
        else:
            error = future.exception()
            assert isinstance(error, AskTimeout)
            assert (error.target, error.message, error.timeout) == ("target", index, timeout)
            assert finished_at[index] == created + timeout
    assert len(deadlines) == 0
    assert deadlines.distinct_timeouts == 0
    assert clock.pending == 0
