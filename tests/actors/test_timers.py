"""Timers: `send_later` and `send_every` run on the injected clock and end with the incarnation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import msgspec
import pytest

from kubeactors.actors import Actor, ActorSystem, SystemClock, TimerHandle

from ._actors import Boom, Get
from ._fakes import FakeClock, settle


class Tick(msgspec.Struct, frozen=True):
    label: str


class Ticker(Actor[Tick | Get | Boom]):
    """Schedules timers in `on_start` and records every tick with the time it came."""

    def __init__(self, ticks: list[tuple[str, float]], every: float, later: float) -> None:
        self.ticks = ticks
        self.every = every
        self.later = later
        self.periodic: TimerHandle | None = None

    async def on_start(self) -> None:
        self.periodic = self.context.send_every(self.every, Tick("every"))
        self.context.send_later(self.later, Tick("later"))

    async def receive(self, message: Tick | Get | Boom) -> None:
        match message:
            case Tick(label="stop"):
                assert self.periodic is not None
                self.periodic.cancel()
            case Tick(label=label):
                self.ticks.append((label, self.context.clock.now()))
            case Get(reply=reply):
                reply.send(len(self.ticks))
            case Boom():
                raise RuntimeError("boom")


async def test_send_later_and_send_every_follow_the_clock(clock: FakeClock) -> None:
    ticks: list[tuple[str, float]] = []
    start = clock.now()
    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(lambda: Ticker(ticks, every=1.0, later=2.5))
        await settle()
        await clock.advance(0.9)
        assert ticks == []
        await clock.advance(3.1)
        assert [(label, t - start) for label, t in ticks] == [
            ("every", 1.0),
            ("every", 2.0),
            ("later", 2.5),
            ("every", 3.0),
            ("every", 4.0),
        ]
        await ref.tell(Tick("stop"))
        await settle()
        await clock.advance(5.0)
        assert len(ticks) == 5


async def test_timers_end_with_the_incarnation(clock: FakeClock) -> None:
    ticks: list[tuple[str, float]] = []
    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(lambda: Ticker(ticks, every=1.0, later=100.0))
        await settle()
        await ref.tell(Boom())
        await settle()
        assert ref.stats.restarts == 1
        await clock.advance(3.0)
        # Only the new incarnation's periodic timer runs: one tick per second.
        assert [label for label, _ in ticks] == ["every"] * 3
        await ref.stop()
        await clock.advance(200.0)
        assert len(ticks) == 3
        assert clock.pending == 0


async def test_send_every_needs_a_positive_interval(clock: FakeClock) -> None:
    async with ActorSystem(clock=clock) as system:
        errors: list[Exception] = []

        class Bad(Actor[Tick]):
            async def on_start(self) -> None:
                try:
                    self.context.send_every(0, Tick("x"))
                except ValueError as error:
                    errors.append(error)

        system.spawn(Bad)
        await settle()
    assert [str(e) for e in errors] == ["interval must be positive, got 0"]


async def test_a_timer_message_waits_for_room_rather_than_being_dropped(clock: FakeClock) -> None:
    gate = anyio.Event()
    seen: list[Tick] = []

    class Slow(Actor[Tick]):
        async def on_start(self) -> None:
            for label in "abc":
                self.context.send_later(1.0, Tick(label))

        async def receive(self, message: Tick) -> None:
            await gate.wait()
            seen.append(message)

    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(Slow, mailbox_size=1)
        await settle()
        # "a" blocks the actor, "b" fills the mailbox, "c" must wait for room.
        await clock.advance(1.0)
        assert ref.stats.depth == 1
        gate.set()
        await settle()
        assert seen == [Tick("a"), Tick("b"), Tick("c")]
        assert system.dead_letters.count == 0


async def test_system_clock_keeps_time_and_fires_callbacks() -> None:
    clock = SystemClock()
    fired: list[float] = []
    start = clock.now()
    clock.call_later(0.001, lambda: fired.append(clock.now()))
    cancelled = clock.call_later(0.001, lambda: fired.append(-1.0))
    cancelled.cancel()
    await clock.sleep(0.01)
    await clock.sleep_until(clock.now() - 1.0)  # a deadline in the past returns at once
    assert len(fired) == 1
    assert fired[0] >= start
    assert clock.now() >= start + 0.01


@pytest.mark.parametrize("delay", [-1.0, 0.0])
async def test_system_clock_runs_overdue_callbacks_soon(delay: float) -> None:
    clock = SystemClock()
    fired: list[bool] = []
    clock.call_later(delay, lambda: fired.append(True))
    await clock.sleep(0)
    await settle(2)
    assert fired == [True]


async def test_fired_and_cancelled_timers_are_forgotten(clock: FakeClock) -> None:
    contexts: list[int] = []

    class PerMessage(Actor[Tick]):
        """Sets a timer for every message, as a retrying actor does."""

        async def receive(self, message: Tick) -> None:
            if message.label == "work":
                self.context.send_later(1.0, Tick("done"))
                self.context.send_later(5.0, Tick("cancelled")).cancel()
            contexts.append(self.context.pending_timers)

    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(PerMessage, mailbox_size=1000)
        for _ in range(500):
            ref.try_tell(Tick("work"))
        await settle()
        assert contexts[-1] == 500
        await clock.advance(1.0)
        # Each "done" message sees one fewer pending timer than the one before.
        assert contexts[-1] == 0
        assert clock.pending == 0


async def test_clock_wall_time_is_utc_and_follows_the_clock(clock: FakeClock) -> None:
    before = clock.wall()
    await clock.advance(90.0)
    assert (clock.wall() - before).total_seconds() == 90.0
    wall = SystemClock().wall()
    assert wall.utcoffset() == timedelta(0)
    assert abs((wall - datetime.now(UTC)).total_seconds()) < 60
