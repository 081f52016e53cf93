import anyio
import anyio.lowlevel
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.actors import SystemClock
from kubeactors.controllers import WorkQueue


class ManualClock(SystemClock):
    def __init__(self) -> None:
        self.time = 0.0

    def now(self) -> float:
        return self.time


async def test_a_key_is_queued_once_and_requeued_if_added_while_in_hand() -> None:
    queue: WorkQueue[str] = WorkQueue(SystemClock())
    queue.add("a")
    queue.add("b")
    queue.add("a")
    assert len(queue) == 2
    first = await queue.get()
    assert first == "a"
    queue.add("a")  # changed while a worker holds it
    assert len(queue) == 1
    assert await queue.get() == "b"
    queue.done("a")
    assert await queue.get() == "a"
    queue.done("a")
    queue.done("b")
    assert len(queue) == 0


async def test_rate_limited_adds_back_off_exponentially_then_forget_resets() -> None:
    queue: WorkQueue[str] = WorkQueue(SystemClock(), base_delay=0.01, max_delay=1.0)
    for expected in (1, 2, 3):
        queue.add_rate_limited("a")
        assert queue.requeues("a") == expected
    queue.forget("a")
    assert queue.requeues("a") == 0
    with anyio.fail_after(5):
        assert await queue.get() == "a"


def test_bucket_paces_rate_limited_adds_beyond_the_burst() -> None:
    clock = ManualClock()
    queue: WorkQueue[str] = WorkQueue(clock, qps=10.0, burst=2)
    delays = [queue._bucket_delay() for _ in range(4)]
    assert delays[:2] == [0.0, 0.0]
    assert delays[2] == pytest.approx(0.1)
    assert delays[3] == pytest.approx(0.2)
    clock.time = 10.0
    assert queue._bucket_delay() == 0.0


async def test_shut_down_ends_waiting_workers() -> None:
    queue: WorkQueue[str] = WorkQueue(SystemClock())
    ended = anyio.Event()

    async def worker() -> None:
        with pytest.raises(anyio.EndOfStream):
            await queue.get()
        ended.set()

    async with anyio.create_task_group() as group:
        group.start_soon(worker)
        await anyio.lowlevel.checkpoint()
        queue.shut_down()
        with anyio.fail_after(5):
            await ended.wait()


@given(st.lists(st.sampled_from("abcde"), max_size=30))
def test_queue_holds_each_key_at_most_once(keys: list[str]) -> None:
    queue: WorkQueue[str] = WorkQueue(SystemClock())
    for key in keys:
        queue.add(key)
    assert len(queue) == len(set(keys))


def test_bad_settings_are_named() -> None:
    with pytest.raises(ValueError, match="qps"):
        WorkQueue(SystemClock(), qps=0)
