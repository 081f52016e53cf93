"""`ActorSystem`: clean shutdown on every exit path, counters, spawning rules."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from kubeactors.actors import Actor, ActorStats, ActorSystem, Strategy

from ._actors import Boom, Get, Incr, Item, Recorder, Tally, Wait
from ._fakes import FakeClock, settle


class Busy(Actor[Incr | Get]):
    """An actor with background work, a timer and a watch: things shutdown must end."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    async def on_start(self) -> None:
        self.context.start_soon(anyio.sleep_forever, name="busy-background")
        self.context.send_every(0.001, Incr())

    async def receive(self, message: Incr | Get) -> None:
        if isinstance(message, Get):
            message.reply.send(0)

    async def on_stop(self) -> None:
        self.events.append("stopped")


async def _populate(system: ActorSystem, events: list[str]) -> None:
    system.spawn(lambda: Busy(events), name="busy")
    group = system.spawn_supervisor("group", strategy=Strategy.ONE_FOR_ALL)
    group.spawn(lambda: Busy(events), name="nested")
    group.spawn(lambda: Tally("t", events))
    await settle()


class Failure(Exception):
    pass


async def test_normal_exit_leaves_no_task_behind() -> None:
    before = asyncio.all_tasks()
    events: list[str] = []
    async with ActorSystem() as system:
        await _populate(system, events)
        assert len(asyncio.all_tasks()) > len(before)
    assert asyncio.all_tasks() == before
    assert events.count("stopped") == 2


async def test_cancellation_leaves_no_task_behind() -> None:
    before = asyncio.all_tasks()
    events: list[str] = []
    with anyio.CancelScope() as scope:
        async with ActorSystem() as system:
            await _populate(system, events)
            scope.cancel()
            await anyio.sleep_forever()
    assert scope.cancelled_caught
    assert asyncio.all_tasks() == before
    assert events.count("stopped") == 2


async def test_an_error_in_the_block_propagates_as_itself_and_leaves_no_task() -> None:
    before = asyncio.all_tasks()
    events: list[str] = []
    with pytest.raises(Failure):  # noqa: PT012
        async with ActorSystem() as system:
            await _populate(system, events)
            raise Failure
    assert asyncio.all_tasks() == before
    assert events.count("stopped") == 2


async def test_actors_are_unreachable_after_shutdown() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Tally)
        await ref.tell(Incr())
        assert await ref.ask(Get) == 1
    assert not ref.alive
    await ref.tell(Incr())
    assert system.dead_letters.count == 1


async def test_stats_count_handled_depth_busy_time_and_restarts() -> None:
    log: list[object] = []
    gate = anyio.Event()
    async with ActorSystem() as system:
        ref = system.spawn(lambda: Recorder(log), mailbox_size=8)
        assert ref.stats == ActorStats(
            handled=0, depth=0, max_depth=0, busy_seconds=0.0, restarts=0
        )
        await ref.tell(Wait(gate))
        await settle()
        for seq in range(5):
            await ref.tell(Item(0, seq))
        stats = ref.stats
        assert (stats.depth, stats.max_depth) == (5, 5)
        gate.set()
        await settle()
        assert await ref.ask(Get) == 7
        stats = ref.stats
        assert stats.handled == 7
        assert stats.depth == 0
        assert stats.max_depth == 5
        assert stats.busy_seconds > 0
        assert stats.restarts == 0


async def test_handled_counts_survive_a_restart() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Tally)
        for _ in range(3):
            await ref.tell(Incr())
        await ref.tell(Boom())
        assert await ref.ask(Get) == 0
        assert ref.stats.handled == 4  # 3 Incr and the Get; the crashing Boom is not counted
        assert ref.stats.restarts == 1


async def test_an_actor_classes_mailbox_size_applies_behind_a_lambda() -> None:
    class Small(Tally):
        mailbox_size = 2

    gate = anyio.Event()

    class Blocked(Small):
        async def on_start(self) -> None:
            await gate.wait()

    async with ActorSystem() as system:
        ref = system.spawn(lambda: Blocked())
        assert ref.try_tell(Incr())
        assert ref.try_tell(Incr())
        assert not ref.try_tell(Incr())
        explicit = system.spawn(lambda: Blocked(), mailbox_size=3)
        assert [explicit.try_tell(Incr()) for _ in range(3)] == [True] * 3
        assert not explicit.try_tell(Incr())
        gate.set()


async def test_spawn_rejects_bad_and_duplicate_names() -> None:
    async with ActorSystem() as system:
        system.spawn(Tally, name="one")
        with pytest.raises(ValueError, match="'one' already runs"):
            system.spawn(Tally, name="one")
        with pytest.raises(ValueError, match="invalid actor name 'a/b'"):
            system.spawn(Tally, name="a/b")
        with pytest.raises(ValueError, match="invalid actor name ''"):
            system.spawn(Tally, name="")
        group = system.spawn_supervisor("group")
        assert group.spawn(Tally, name="one").name == "group/one"
        assert system.root.children == ["one", "group"]


def test_start_soon_needs_a_running_system() -> None:
    system = ActorSystem()

    async def nothing() -> None:
        pass

    with pytest.raises(RuntimeError, match="not running"):
        system.start_soon(nothing)


def test_supervisor_limits_must_make_sense() -> None:
    system = ActorSystem()
    with pytest.raises(ValueError, match="max_restarts must be >= 0"):
        system.spawn_supervisor("bad", max_restarts=-1)
    with pytest.raises(ValueError, match="within must be positive"):
        system.spawn_supervisor("bad", within=0)


async def test_actors_get_a_seeded_random_per_incarnation() -> None:
    class Roll(Actor[Get]):
        async def receive(self, message: Get) -> None:
            message.reply.send(self.context.random.randrange(1_000_000))

    async def rolls(seed: int) -> list[int]:
        async with ActorSystem(seed=seed) as system:
            refs = [system.spawn(Roll, name=f"r{n}") for n in range(3)]
            return [await ref.ask(Get) for ref in refs]

    first = await rolls(1)
    assert await rolls(1) == first
    assert await rolls(2) != first
    assert len(set(first)) == 3


async def test_a_stuck_actor_is_cancelled_after_the_shutdown_timeout(clock: FakeClock) -> None:
    gate = anyio.Event()
    log: list[object] = []
    async with ActorSystem(clock=clock, shutdown_timeout=3.0) as system:
        ref = system.spawn(lambda: Recorder(log), name="stuck")
        await ref.tell(Wait(gate))
        await settle()
        stopped = anyio.Event()

        async def stop() -> None:
            await ref.stop()
            stopped.set()

        system.start_soon(stop)
        await settle()
        await clock.advance(2.9)
        assert not stopped.is_set()
        await clock.advance(0.1)
        assert stopped.is_set()
        assert not ref.alive


async def test_a_stuck_actor_cannot_hang_the_systems_exit(clock: FakeClock) -> None:
    gate = anyio.Event()
    events: list[str] = []
    before = asyncio.all_tasks()
    async with ActorSystem(clock=clock, shutdown_timeout=3.0) as system:
        ref = system.spawn(lambda: Recorder([]))
        system.spawn(lambda: Tally("after", events))
        await ref.tell(Wait(gate))
        await settle()

        async def time_passes() -> None:
            await settle()
            await clock.advance(3.0)

        system.start_soon(time_passes)
    assert events == ["start after", "stop after"]
    assert not gate.is_set()
    assert asyncio.all_tasks() == before


def test_shutdown_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="shutdown_timeout must be positive, got -1"):
        ActorSystem(shutdown_timeout=-1)
