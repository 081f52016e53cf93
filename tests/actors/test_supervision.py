"""Supervision: restarts with fresh state, restart limits, strategies, restart kinds, stop order."""

from __future__ import annotations

from typing import Any

import anyio
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.actors import (
    Actor,
    ActorCrashed,
    ActorRef,
    ActorStopped,
    ActorSystem,
    RestartPolicy,
    Strategy,
    SupervisorGaveUp,
    Terminated,
)

from ._actors import Boom, Get, Incr, Tally
from ._fakes import FakeClock, settle


async def test_crash_restarts_with_fresh_state_and_keeps_ref_and_mailbox() -> None:
    events: list[str] = []
    async with ActorSystem() as system:
        ref = system.spawn(lambda: Tally("t", events))
        for _ in range(3):
            await ref.tell(Incr())
        assert await ref.ask(Get) == 3
        # Messages queued behind the crash survive it: the mailbox is kept.
        await ref.tell(Boom())
        await ref.tell(Incr())
        await ref.tell(Incr())
        assert await ref.ask(Get) == 2
        assert ref.stats.restarts == 1
        assert ref.alive
    assert events == ["start t", "stop t", "start t", "stop t"]


async def test_the_asker_of_the_crashing_message_gets_actor_crashed() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Tally, name="fragile")
        with pytest.raises(ActorCrashed, match="'fragile' crashed") as caught:
            await ref.ask(Boom)
        assert isinstance(caught.value.cause, RuntimeError)
        assert caught.value.target == "fragile"
        assert await ref.ask(Get) == 0


async def test_crash_in_on_start_is_restarted() -> None:
    starts: list[int] = []

    class FailsFirst(Actor[Get]):
        async def on_start(self) -> None:
            starts.append(1)
            if len(starts) == 1:
                raise RuntimeError("first start fails")

        async def receive(self, message: Get) -> None:
            message.reply.send(len(starts))

    async with ActorSystem() as system:
        ref = system.spawn(FailsFirst)
        assert await ref.ask(Get) == 2
        assert ref.stats.restarts == 1


async def test_crash_in_a_background_task_restarts_the_actor() -> None:
    class Background(Actor[Incr | Get]):
        def __init__(self) -> None:
            self.count = 0

        async def receive(self, message: Incr | Get) -> None:
            match message:
                case Incr():
                    self.count += 1
                    self.context.start_soon(self.fail)
                case Get(reply=reply):
                    reply.send(self.count)

        async def fail(self) -> None:
            raise RuntimeError("background task failed")

    async with ActorSystem() as system:
        ref = system.spawn(Background)
        await ref.tell(Incr())
        await settle()
        assert ref.stats.restarts == 1
        assert await ref.ask(Get) == 0


async def test_more_restarts_than_the_limit_within_the_window_escalate(clock: FakeClock) -> None:
    events: list[str] = []
    async with ActorSystem(clock=clock, max_restarts=10, within=100) as system:
        group = system.spawn_supervisor("group", max_restarts=2, within=10.0)
        fragile = group.spawn(lambda: Tally("fragile", events), name="fragile")
        steady = group.spawn(lambda: Tally("steady", events), name="steady")
        await steady.tell(Incr())
        assert await steady.ask(Get) == 1
        for _ in range(2):
            await fragile.tell(Boom())
            await clock.advance(1.0)
        assert fragile.stats.restarts == 2
        assert steady.stats.restarts == 0
        assert await steady.ask(Get) == 1
        # The third crash within 10 s: the group gives up and the root restarts it,
        # which restarts every child of the group with fresh state.
        await fragile.tell(Boom())
        await settle()
        assert await steady.ask(Get) == 0
        assert steady.stats.restarts == 1
        assert fragile.stats.restarts == 3
        # The restarted supervisor has its restart budget back.
        await fragile.tell(Boom())
        await steady.tell(Incr())
        assert await steady.ask(Get) == 1
        assert steady.stats.restarts == 1


async def test_restarts_spread_over_time_never_escalate(clock: FakeClock) -> None:
    async with ActorSystem(clock=clock, max_restarts=2, within=10.0) as system:
        fragile = system.spawn(Tally)
        for _ in range(6):
            await fragile.tell(Boom())
            await settle()
            await clock.advance(6.0)
        assert fragile.stats.restarts == 6
        assert await fragile.ask(Get) == 0


async def test_the_root_giving_up_raises_supervisor_gave_up(clock: FakeClock) -> None:
    events: list[str] = []
    with pytest.raises(  # noqa: PT012
        SupervisorGaveUp, match="more than 1 restarts within 10s"
    ) as caught:
        async with ActorSystem(clock=clock, max_restarts=1, within=10.0) as system:
            ref = system.spawn(lambda: Tally("t", events))
            await ref.tell(Boom())
            await ref.tell(Boom())
            await anyio.sleep_forever()
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert not ref.alive
    assert events.count("start t") == 2


async def test_one_for_all_restarts_the_siblings() -> None:
    events: list[str] = []
    async with ActorSystem() as system:
        group = system.spawn_supervisor("group", strategy=Strategy.ONE_FOR_ALL)
        refs = [group.spawn(lambda n=n: Tally(n, events), name=n) for n in "abc"]  # type: ignore[misc]
        for ref in refs:
            await ref.tell(Incr())
            assert await ref.ask(Get) == 1
        await refs[1].tell(Boom())
        await settle()
        assert [await ref.ask(Get) for ref in refs] == [0, 0, 0]
        assert [ref.stats.restarts for ref in refs] == [1, 1, 1]
    for name in "abc":
        assert events.count(f"start {name}") == 2


async def test_one_for_one_leaves_the_siblings_alone() -> None:
    async with ActorSystem() as system:
        group = system.spawn_supervisor("group", strategy=Strategy.ONE_FOR_ONE)
        refs = [group.spawn(Tally, name=n) for n in "abc"]
        for ref in refs:
            await ref.tell(Incr())
        await refs[1].tell(Boom())
        await settle()
        assert [await ref.ask(Get) for ref in refs] == [1, 0, 1]
        assert [ref.stats.restarts for ref in refs] == [0, 1, 0]


class Quit(msgspec.Struct, frozen=True):
    pass


class Quitter(Tally):
    async def receive(self, message: Incr | Get | Boom | Quit) -> None:
        if isinstance(message, Quit):
            self.context.stop()
        else:
            await super().receive(message)


class Watcher(Actor[Terminated]):
    def __init__(self, target: ActorRef[object], seen: list[Terminated]) -> None:
        self.target = target
        self.seen = seen

    async def on_start(self) -> None:
        self.context.watch(self.target)

    async def receive(self, message: Terminated) -> None:
        self.seen.append(message)


@pytest.mark.parametrize(
    ("policy", "ending", "restarted"),
    [
        (RestartPolicy.PERMANENT, Boom(), True),
        (RestartPolicy.PERMANENT, Quit(), True),
        (RestartPolicy.TRANSIENT, Boom(), True),
        (RestartPolicy.TRANSIENT, Quit(), False),
        (RestartPolicy.TEMPORARY, Boom(), False),
        (RestartPolicy.TEMPORARY, Quit(), False),
    ],
)
async def test_restart_policies(policy: RestartPolicy, ending: object, restarted: bool) -> None:
    events: list[str] = []
    seen: list[Terminated] = []
    async with ActorSystem() as system:
        ref = system.spawn(lambda: Quitter("q", events), name="q", restart=policy)
        system.spawn(lambda: Watcher(ref, seen))  # type: ignore[arg-type]
        await settle()
        await ref.tell(Incr())
        await ref.tell(ending)  # type: ignore[arg-type]
        await settle()
        assert ref.alive is restarted
        if restarted:
            assert await ref.ask(Get) == 0
            assert ref.stats.restarts == 1
            assert seen == []
        else:
            assert events == ["start q", "stop q"]
            assert [t.ref for t in seen] == [ref]
            if isinstance(ending, Boom):
                assert isinstance(seen[0].reason, RuntimeError)
            else:
                assert seen[0].reason is None


async def test_children_stop_in_reverse_start_order() -> None:
    events: list[str] = []
    async with ActorSystem() as system:
        system.spawn(lambda: Tally("a", events))
        group = system.spawn_supervisor("group")
        group.spawn(lambda: Tally("b1", events))
        group.spawn(lambda: Tally("b2", events))
        system.spawn(lambda: Tally("c", events))
        await settle()
        assert sorted(events) == sorted(["start a", "start b1", "start b2", "start c"])
        events.clear()
    assert events == ["stop c", "stop b2", "stop b1", "stop a"]


async def test_stopping_a_supervisor_stops_its_children_newest_first() -> None:
    events: list[str] = []
    async with ActorSystem() as system:
        group = system.spawn_supervisor("group")
        refs = [group.spawn(lambda n=n: Tally(n, events), name=n) for n in "xyz"]  # type: ignore[misc]
        other = system.spawn(lambda: Tally("other", events))
        await settle()
        events.clear()
        await group.stop()
        assert events == ["stop z", "stop y", "stop x"]
        assert not any(ref.alive for ref in refs)
        assert other.alive
        assert group.children == []
        with pytest.raises(RuntimeError, match="'group' is stopped"):
            group.spawn(Tally)


async def test_watch_delivers_terminated_on_stop_and_for_the_already_dead() -> None:
    seen: list[Terminated] = []
    late: list[Terminated] = []
    async with ActorSystem() as system:
        target = system.spawn(Tally, name="target")
        system.spawn(lambda: Watcher(target, seen))  # type: ignore[arg-type]
        await settle()
        await target.stop()
        await settle()
        assert seen == [Terminated(target, None)]
        system.spawn(lambda: Watcher(target, late))  # type: ignore[arg-type]
        await settle()
        assert late == [Terminated(target, None)]


async def test_unwatch_stops_the_notification() -> None:
    seen: list[Terminated] = []

    class Fickle(Watcher):
        async def on_start(self) -> None:
            self.context.watch(self.target)
            self.context.unwatch(self.target)

    async with ActorSystem() as system:
        target = system.spawn(Tally)
        system.spawn(lambda: Fickle(target, seen))  # type: ignore[arg-type]
        await settle()
        await target.stop()
        await settle()
    assert seen == []


async def test_an_actor_can_stop_itself_for_good_through_its_ref() -> None:
    class Done(Actor[Quit]):
        async def receive(self, message: Quit) -> None:
            await self.context.self.stop()

    async with ActorSystem() as system:
        ref = system.spawn(Done)
        await ref.tell(Quit())
        with anyio.fail_after(5):
            while ref.alive:
                await settle(1)
        assert ref.stats.restarts == 0


async def test_a_request_interrupted_by_a_sibling_restart_fails_at_once() -> None:
    gate = anyio.Event()

    class Stuck(Actor[Get]):
        async def receive(self, message: Get) -> None:
            await gate.wait()
            message.reply.send(1)

    async with ActorSystem() as system:
        group = system.spawn_supervisor("group", strategy=Strategy.ONE_FOR_ALL)
        stuck = group.spawn(Stuck, name="stuck")
        fragile = group.spawn(Tally, name="fragile")
        errors: list[ActorStopped] = []

        async def asker() -> None:
            try:
                await stuck.ask(Get, timeout=60.0)
            except ActorStopped as error:
                errors.append(error)

        system.start_soon(asker)
        await settle()
        await fragile.tell(Boom())
        await settle()
        assert len(errors) == 1
        assert stuck.stats.restarts == 1
        gate.set()
        assert await stuck.ask(Get) == 1


@given(script=st.lists(st.sampled_from(["incr", "boom", "ask-boom"]), max_size=30))
async def test_any_crash_sequence_restarts_once_per_crash_and_loses_nothing(
    script: list[str],
) -> None:
    async with ActorSystem(max_restarts=100, within=1.0) as system:
        ref = system.spawn(Tally)
        crashed_asks = 0
        for step in script:
            if step == "incr":
                await ref.tell(Incr())
            elif step == "boom":
                await ref.tell(Boom())
            else:
                with pytest.raises(ActorCrashed):
                    await ref.ask(Boom)
                crashed_asks += 1
        count = await ref.ask(Get)
        crashes = sum(step != "incr" for step in script)
        tail = script[max((i for i, s in enumerate(script) if s != "incr"), default=-1) + 1 :]
        assert count == len(tail)
        assert ref.stats.restarts == crashes
        assert ref.stats.handled == script.count("incr") + 1
        assert crashed_asks == script.count("ask-boom")
        assert system.dead_letters.count == 0


async def test_one_for_all_restarts_a_nested_supervisor_and_its_children() -> None:
    events: list[str] = []
    async with ActorSystem() as system:
        group = system.spawn_supervisor("group", strategy=Strategy.ONE_FOR_ALL)
        inner = group.spawn_supervisor("inner")
        leaf = inner.spawn(lambda: Tally("leaf", events), name="leaf")
        fragile = group.spawn(lambda: Tally("fragile", events), name="fragile")
        await leaf.tell(Incr())
        assert await leaf.ask(Get) == 1
        await fragile.tell(Boom())
        await settle()
        assert await leaf.ask(Get) == 0
        assert leaf.stats.restarts == 1
    assert events.count("start leaf") == 2


async def test_a_permanent_actor_that_keeps_exiting_escalates(clock: FakeClock) -> None:
    with pytest.raises(SupervisorGaveUp):  # noqa: PT012
        async with ActorSystem(clock=clock, max_restarts=2, within=10.0) as system:
            ref: ActorRef[Any] = system.spawn(Quitter)
            for _ in range(3):
                await ref.tell(Quit())
            await anyio.sleep_forever()


async def test_stopping_a_supervisor_twice_is_harmless() -> None:
    async with ActorSystem() as system:
        group = system.spawn_supervisor("group")
        ref = group.spawn(Tally)
        await group.stop()
        await group.stop()
        assert not ref.alive


async def test_terminated_waits_for_room_in_a_full_watcher() -> None:
    gate = anyio.Event()
    seen: list[object] = []

    class SlowWatcher(Actor[object]):
        def __init__(self, target: ActorRef[object]) -> None:
            self.target = target

        async def on_start(self) -> None:
            self.context.watch(self.target)

        async def receive(self, message: object) -> None:
            await gate.wait()
            seen.append(message)

    async with ActorSystem() as system:
        target = system.spawn(Tally, name="target")
        watcher = system.spawn(lambda: SlowWatcher(target), mailbox_size=1)  # type: ignore[arg-type]
        await settle()
        await watcher.tell("busy")
        await settle()
        await watcher.tell("full")
        await target.stop()
        gate.set()
        await settle()
    assert seen == ["busy", "full", Terminated(target, None)]


async def test_an_actor_that_keeps_telling_itself_does_not_starve_others() -> None:
    class Spinner(Actor[Incr]):
        async def receive(self, message: Incr) -> None:
            await self.context.self.tell(message)

    async with ActorSystem() as system:
        spinner = system.spawn(Spinner)
        other = system.spawn(Tally)
        await spinner.tell(Incr())
        await other.tell(Incr())
        with anyio.fail_after(5):
            assert await other.ask(Get) == 1
        assert spinner.stats.handled > 0
        await spinner.stop()


async def test_one_for_all_ends_a_temporary_sibling_instead_of_restarting_it() -> None:
    events: list[str] = []
    async with ActorSystem() as system:
        group = system.spawn_supervisor("group", strategy=Strategy.ONE_FOR_ALL)
        temporary = group.spawn(
            lambda: Tally("temporary", events), name="temporary", restart=RestartPolicy.TEMPORARY
        )
        transient = group.spawn(
            lambda: Tally("transient", events), name="transient", restart=RestartPolicy.TRANSIENT
        )
        fragile = group.spawn(lambda: Tally("fragile", events), name="fragile")
        await settle()
        await fragile.tell(Boom())
        await settle()
        assert not temporary.alive
        assert transient.alive
        assert transient.stats.restarts == 1
        assert group.children == ["group/transient", "group/fragile"]
    assert events.count("start temporary") == 1
