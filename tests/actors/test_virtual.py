"""`VirtualClock`: idle time is skipped, busy time (threads, held work) stands still."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.actors import (
    DEFAULT_EPOCH,
    Actor,
    ActorSystem,
    AskTimeout,
    Reply,
    VirtualClock,
)
from kubeactors.store import Store, StoreOptions


class Beat(msgspec.Struct, frozen=True):
    pass


class Beats(msgspec.Struct, frozen=True):
    reply: Reply[list[float]]


class Heart(Actor[Beat | Beats]):
    """Beats every 10 s and remembers when each beat came."""

    def __init__(self) -> None:
        self.times: list[float] = []

    async def on_start(self) -> None:
        self.context.send_every(10.0, Beat())

    async def receive(self, message: Beat | Beats) -> None:
        match message:
            case Beat():
                self.times.append(self.context.clock.now())
            case Beats(reply=reply):
                reply.send(list(self.times))


class Silent(Actor[Beats]):
    async def receive(self, message: Beats) -> None:
        pass


async def test_a_virtual_hour_of_heartbeats_passes_without_waiting() -> None:
    # A real hour would exceed the test timeout by far: the hour is skipped.
    clock = VirtualClock()
    async with ActorSystem(clock=clock) as system:
        heart = system.spawn(Heart)
        await clock.sleep(3600.0)
        beats = await heart.ask(Beats)
        assert clock.now() == 3600.0
    assert beats == [10.0 * n for n in range(1, 361)]
    assert clock.jumps >= 360


async def test_ask_timeouts_fire_at_the_virtual_deadline() -> None:
    clock = VirtualClock(start=100.0)
    async with ActorSystem(clock=clock, ask_timeout=7.0) as system:
        silent = system.spawn(Silent)
        with pytest.raises(AskTimeout):
            await silent.ask(Beats, timeout=30.0)
        assert clock.now() == 130.0
        with pytest.raises(AskTimeout):
            await silent.ask(Beats)
        assert clock.now() == 137.0


async def test_timers_sleeps_and_anyio_deadlines_all_run_on_virtual_time() -> None:
    clock = VirtualClock()
    fired: list[tuple[str, float]] = []
    async with ActorSystem(clock=clock):
        clock.call_later(5.0, lambda: fired.append(("call_later", clock.now())))
        clock.call_later(-1.0, lambda: fired.append(("overdue", clock.now())))
        await clock.sleep_until(2.5)
        fired.append(("sleep_until", clock.now()))
        with anyio.move_on_after(4.0):
            await anyio.sleep(100.0)
        fired.append(("move_on_after", clock.now()))
        await clock.sleep_until(1.0)  # in the past: returns at once
        fired.append(("past", clock.now()))
    assert fired == [
        ("overdue", 0.0),
        ("sleep_until", 2.5),
        ("call_later", 5.0),
        ("move_on_after", 6.5),
        ("past", 6.5),
    ]


async def test_wall_time_is_the_epoch_plus_virtual_time() -> None:
    epoch = datetime(2030, 6, 1, 12, tzinfo=UTC)
    clock = VirtualClock(start=50.0, epoch=epoch)
    assert clock.wall() == epoch
    async with ActorSystem(clock=clock):
        await clock.sleep(86_400.0)
    assert clock.wall() == epoch + timedelta(days=1)
    assert VirtualClock().wall() == DEFAULT_EPOCH


async def test_time_stands_still_while_a_thread_works() -> None:
    clock = VirtualClock()
    fired: list[float] = []
    async with ActorSystem(clock=clock):
        clock.call_later(0.001, lambda: fired.append(clock.now()))

        def slow() -> float:
            time.sleep(0.05)
            return clock.now()

        seen_by_thread = await anyio.to_thread.run_sync(slow)
        assert seen_by_thread == 0.0
        assert clock.now() == 0.0
        assert fired == []
        await clock.sleep(1.0)
    assert fired == [0.001]


@pytest.mark.parametrize("wait_for_threads", [True, False])
async def test_time_stands_still_while_any_of_many_threads_works(wait_for_threads: bool) -> None:
    clock = VirtualClock(wait_for_threads=wait_for_threads)
    fired: list[float] = []
    seen: list[float] = []
    async with ActorSystem(clock=clock):
        clock.call_later(1e-6, lambda: fired.append(clock.now()))

        async def work(seconds: float) -> None:
            await anyio.to_thread.run_sync(time.sleep, seconds)
            seen.append(clock.now())

        async with anyio.create_task_group() as group:
            for index in range(12):
                group.start_soon(work, 0.002 * (index % 5))
        assert seen == [0.0] * 12
        assert fired == []
        await clock.sleep(1.0)
        assert fired == [1e-6]


async def test_time_stands_still_for_threads_even_when_results_are_not_held() -> None:
    clock = VirtualClock(wait_for_threads=False)
    fired: list[float] = []
    async with ActorSystem(clock=clock):
        clock.call_later(0.001, lambda: fired.append(clock.now()))
        await anyio.to_thread.run_sync(time.sleep, 0.05)
        assert fired == []
        assert clock.now() == 0.0


async def test_time_stands_still_while_an_executor_job_runs() -> None:
    clock = VirtualClock()
    fired: list[float] = []
    async with ActorSystem(clock=clock):
        loop = asyncio.get_running_loop()
        # A first job starts the pool's thread; afterwards it idles on its queue.
        await loop.run_in_executor(None, time.sleep, 0)
        clock.call_later(0.001, lambda: fired.append(clock.now()))
        await loop.run_in_executor(None, time.sleep, 0.05)
        assert fired == []
        await clock.sleep(10.0)
        # The idle pool thread does not hold time back.
        assert fired == [0.001]
        assert clock.now() == 10.0


async def test_time_stands_still_while_a_store_commit_is_in_flight(tmp_path: Path) -> None:
    clock = VirtualClock()
    async with ActorSystem(clock=clock) as system:
        store = Store.spawn(system.root, tmp_path / "store.db")
        await store.put(b"warm", b"up")
        start = clock.now()
        early: list[float] = []
        clock.call_later(1e-6, lambda: early.append(clock.now()))
        for index in range(20):
            result = await store.put(f"key/{index}".encode(), b"value")
            assert result.revision > 0
        assert clock.now() == start
        assert early == []
        assert (await store.get(b"key/19")) is not None


async def test_a_store_on_a_virtual_clock_commits_on_the_loop_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = VirtualClock()
    async with ActorSystem(clock=clock) as system:
        options = StoreOptions(synchronous="OFF", checkpoint_rows=10)
        store = Store.spawn(system.root, tmp_path / "store.db", options=options)
        await store.put(b"warm", b"up")

        def no_thread(*args: object, **kwargs: object) -> None:
            raise AssertionError("a commit went to a worker thread")

        monkeypatch.setattr(anyio.to_thread, "run_sync", no_thread)
        for index in range(30):  # past checkpoints too
            await store.put(f"key/{index}".encode(), b"value")
        assert (await store.get(b"key/29")) is not None


async def test_hold_keeps_time_still_for_work_the_clock_cannot_see() -> None:
    async def outside_work(clock: VirtualClock, hold: bool) -> list[str]:
        """A timer 5 s away races a reply from a thread the clock sees as idle."""
        order: list[str] = []
        loop = asyncio.get_running_loop()
        done = anyio.Event()
        clock.call_later(5.0, lambda: order.append("timer"))
        # A threading.Timer waits in a Condition: it looks idle to the clock.
        outside = threading.Timer(0.05, lambda: loop.call_soon_threadsafe(done.set))
        outside.start()
        if hold:
            with clock.hold():
                await done.wait()
        else:
            await done.wait()
        order.append("outside")
        outside.join()
        await clock.sleep(10.0)
        return order

    held = VirtualClock()
    async with ActorSystem(clock=held):
        assert await outside_work(held, hold=True) == ["outside", "timer"]
    unheld = VirtualClock()
    async with ActorSystem(clock=unheld):
        assert await outside_work(unheld, hold=False) == ["timer", "outside"]


async def test_detaching_restores_real_time_and_pending_timers() -> None:
    loop = asyncio.get_running_loop()
    fired: list[str] = []
    real_timer = loop.call_later(0.05, lambda: fired.append("real"))
    clock = VirtualClock(start=1_000_000.0)
    async with ActorSystem(clock=clock):
        assert loop.time() == 1_000_000.0
        # The timer set before attaching kept its delay, in virtual time now.
        assert 1_000_000.0 < real_timer.when() <= 1_000_000.05
        clock.call_later(3600.0, lambda: fired.append("virtual"))
    assert abs(loop.time() - time.monotonic()) < 1.0
    await asyncio.sleep(0.1)
    assert fired == ["real"]


async def test_a_clock_needs_a_loop_and_an_aware_epoch() -> None:
    clock = VirtualClock()
    with pytest.raises(RuntimeError, match="not attached"):
        clock.call_later(1.0, lambda: None)
    with pytest.raises(RuntimeError, match="not attached"):
        await clock.sleep(1.0)
    with pytest.raises(ValueError, match="timezone-aware"):
        VirtualClock(epoch=datetime(2026, 1, 1))
    with clock.attach(), pytest.raises(RuntimeError, match="already runs"):
        VirtualClock().attach().__enter__()


async def test_one_clock_serves_nested_systems() -> None:
    clock = VirtualClock()
    async with ActorSystem(clock=clock):
        async with ActorSystem(clock=clock):
            await clock.sleep(5.0)
        still_attached = clock.attached
        await clock.sleep(5.0)
    assert (still_attached, clock.attached) == (True, False)
    assert clock.now() == 10.0


@given(st.lists(st.sampled_from([1.0, 2.0, 3.0]), min_size=2, max_size=60))
def test_timers_due_at_one_instant_fire_in_the_order_they_were_set(delays: list[float]) -> None:
    """Whatever timers the loop held before (which shape asyncio's timer heap), ties
    are broken by the order the timers were set."""
    fired: list[int] = []

    async def main() -> None:
        clock = VirtualClock()
        with clock.attach():
            loop = asyncio.get_running_loop()
            # Timers set and cancelled first leave the heap in some shape of their own.
            for delay in reversed(delays):
                loop.call_later(delay / 2, lambda: None).cancel()
            for index, delay in enumerate(delays):
                loop.call_later(delay, fired.append, index)
            await clock.sleep(10.0)

    asyncio.run(main())
    expected = sorted(range(len(delays)), key=lambda index: (delays[index], index))
    assert fired == expected
