import heapq
from collections.abc import Callable
from datetime import UTC, datetime

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.client import BucketRateLimiter, ItemBackoff, QueueShutDown, WorkQueue


class StepClock:
    """A clock that moves only when told: `advance(seconds)` fires the timers due."""

    def __init__(self) -> None:
        self.time = 0.0
        self._timers: list[tuple[float, int, Callable[[], object], list[bool]]] = []
        self._count = 0

    def now(self) -> float:
        return self.time

    def wall(self) -> datetime:
        return datetime.fromtimestamp(self.time, UTC)

    async def sleep(self, seconds: float) -> None:
        await anyio.lowlevel.checkpoint()

    async def sleep_until(self, deadline: float) -> None:
        await anyio.lowlevel.checkpoint()

    def call_later(self, delay: float, callback: Callable[[], object]) -> "StepTimer":
        cancelled = [False]
        self._count += 1
        heapq.heappush(self._timers, (self.time + delay, self._count, callback, cancelled))
        return StepTimer(cancelled)

    def advance(self, seconds: float) -> None:
        self.time += seconds
        while self._timers and self._timers[0][0] <= self.time:
            _, _, callback, cancelled = heapq.heappop(self._timers)
            if not cancelled[0]:
                callback()


class StepTimer:
    def __init__(self, cancelled: list[bool]) -> None:
        self._cancelled = cancelled

    def cancel(self) -> None:
        self._cancelled[0] = True


async def test_adds_are_deduplicated_and_handed_out_in_order() -> None:
    queue: WorkQueue[str] = WorkQueue(StepClock())
    for item in ("a", "b", "a", "c", "b"):
        queue.add(item)
    assert len(queue) == 3
    assert [await queue.get() for _ in range(3)] == ["a", "b", "c"]


async def test_an_item_added_while_processing_comes_back_after_done() -> None:
    queue: WorkQueue[str] = WorkQueue(StepClock())
    queue.add("a")
    item = await queue.get()
    queue.add("a")
    queue.add("a")
    assert len(queue) == 0  # not handed out twice at once
    queue.done(item)
    assert len(queue) == 1
    again = await queue.get()
    queue.done(again)
    assert len(queue) == 0


async def test_get_waits_for_an_add() -> None:
    queue: WorkQueue[int] = WorkQueue(StepClock())
    got: list[int] = []
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: _take(queue, got))
        await anyio.wait_all_tasks_blocked()
        assert got == []
        queue.add(7)
    assert got == [7]


async def _take(queue: WorkQueue[int], got: list[int]) -> None:
    got.append(await queue.get())


async def test_add_after_waits_on_the_clock_and_the_earliest_wins() -> None:
    clock = StepClock()
    queue: WorkQueue[str] = WorkQueue(clock)
    queue.add_after("x", 10)
    queue.add_after("x", 3)
    queue.add_after("x", 20)
    clock.advance(2.9)
    assert len(queue) == 0
    clock.advance(0.1)
    assert len(queue) == 1
    clock.advance(100)
    assert len(queue) == 1  # the later adds were dropped, not queued twice


async def test_rate_limited_adds_back_off_per_item_until_forgotten() -> None:
    clock = StepClock()
    queue: WorkQueue[str] = WorkQueue(clock, ItemBackoff(base=1.0, cap=8.0))
    delays = []
    for _ in range(5):
        start = clock.now()
        queue.add_rate_limited("k")
        while len(queue) == 0:
            clock.advance(0.5)
        delays.append(clock.now() - start)
        queue.done(await queue.get())
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert queue.num_requeues("k") == 5
    queue.forget("k")
    assert queue.num_requeues("k") == 0


@given(st.integers(1, 50), st.floats(0.5, 100), st.integers(1, 20))
def test_token_bucket_lets_burst_through_then_paces(count: int, qps: float, burst: int) -> None:
    clock = StepClock()
    bucket: BucketRateLimiter[int] = BucketRateLimiter(clock, qps=qps, burst=burst)
    delays = [bucket.when(i) for i in range(count)]
    assert delays[: min(count, burst)] == [0.0] * min(count, burst)
    for index in range(burst, count):
        assert delays[index] == pytest.approx((index - burst + 1) / qps)


async def test_shut_down_drains_then_refuses() -> None:
    clock = StepClock()
    queue: WorkQueue[str] = WorkQueue(clock)
    queue.add("a")
    queue.add_after("later", 5)
    queue.shut_down()
    queue.add("b")
    clock.advance(10)
    assert await queue.get() == "a"
    with pytest.raises(QueueShutDown):
        await queue.get()
    with pytest.raises(ValueError, match="base"):
        ItemBackoff(base=0)
