"""`ask`: replies, timeouts on the injected clock, stopped targets, forwarded replies."""

from __future__ import annotations

import asyncio
import gc
from functools import partial

import anyio
import msgspec
import pytest

from kubeactors.actors import (
    Actor,
    ActorStopped,
    ActorSystem,
    AskTimeout,
    Reply,
)

from ._actors import Get, Incr, Recorder, Tally, Wait
from ._fakes import FakeClock, settle


class Hold(msgspec.Struct, frozen=True):
    reply: Reply[int]


class Late(msgspec.Struct, frozen=True):
    value: int


class Refuse(msgspec.Struct, frozen=True):
    pass


class Holder(Actor[Hold | Late | Refuse]):
    """Keeps every reply; answers them all when told `Late`, fails them when told `Refuse`."""

    def __init__(self) -> None:
        self.held: list[Reply[int]] = []

    async def receive(self, message: Hold | Late | Refuse) -> None:
        match message:
            case Hold(reply=reply):
                self.held.append(reply)
            case Late(value=value):
                for reply in self.held:
                    reply.send(value)
            case Refuse():
                for reply in self.held:
                    reply.fail(PermissionError("refused"))


class Double(msgspec.Struct, frozen=True):
    n: int
    reply: Reply[int]


class Doubler(Actor[Double]):
    async def receive(self, message: Double) -> None:
        message.reply.send(message.n * 2)


async def test_ask_returns_the_reply() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Doubler)
        assert await ref.ask(lambda reply: Double(21, reply)) == 42


async def test_reply_map_forwards_a_transformed_value() -> None:
    async with ActorSystem() as system:
        doubler = system.spawn(Doubler)

        class Plus(Actor[Double]):
            async def receive(self, message: Double) -> None:
                await doubler.tell(Double(message.n, message.reply.map(lambda v: v + 1)))

        relay = system.spawn(Plus)
        assert await relay.ask(lambda reply: Double(5, reply)) == 11


async def test_reply_map_turns_a_failing_transform_into_the_askers_error() -> None:
    async with ActorSystem() as system:
        doubler = system.spawn(Doubler)

        class Divide(Actor[Double]):
            async def receive(self, message: Double) -> None:
                await doubler.tell(Double(message.n, message.reply.map(lambda v: 1 // (v - v))))

        relay = system.spawn(Divide)
        with pytest.raises(ZeroDivisionError):
            await relay.ask(lambda reply: Double(5, reply))


async def test_reply_fail_raises_in_the_asker() -> None:
    class Refuser(Actor[Double]):
        async def receive(self, message: Double) -> None:
            message.reply.fail(KeyError(message.n))

    async with ActorSystem() as system:
        ref = system.spawn(Refuser)
        with pytest.raises(KeyError):
            await ref.ask(lambda reply: Double(3, reply))
        # The actor is still alive: failing a reply is not a crash.
        with pytest.raises(KeyError):
            await ref.ask(lambda reply: Double(4, reply))
        assert ref.stats.restarts == 0


async def test_ask_timeout_raises_and_a_late_reply_is_a_dead_letter(clock: FakeClock) -> None:
    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(Holder, name="holder")
        outcome: list[BaseException] = []

        async def asker() -> None:
            try:
                await ref.ask(Hold, timeout=5.0)
            except AskTimeout as error:
                outcome.append(error)

        system.start_soon(asker)
        await settle()
        await clock.advance(4.9)
        assert outcome == []
        await clock.advance(0.1)
        assert len(outcome) == 1
        error = outcome[0]
        assert isinstance(error, AskTimeout)
        assert isinstance(error, TimeoutError)
        assert error.target == "holder"
        assert error.timeout == 5.0
        assert "holder" in str(error)
        assert "Hold" in str(error)
        before = system.dead_letters.count
        await ref.tell(Late(1))
        await settle()
        assert system.dead_letters.count == before + 1
        letter = system.dead_letters.recent[-1]
        assert letter.message == 1
        assert letter.reason == "reply after timeout"


async def test_ask_uses_the_systems_default_timeout(clock: FakeClock) -> None:
    async with ActorSystem(clock=clock, ask_timeout=2.0) as system:
        ref = system.spawn(Holder)
        errors: list[AskTimeout] = []

        async def asker() -> None:
            try:
                await ref.ask(Hold)
            except AskTimeout as error:
                errors.append(error)

        system.start_soon(asker)
        await settle()
        await clock.advance(1.5)
        assert errors == []
        await clock.advance(0.5)
        assert [e.timeout for e in errors] == [2.0]
        await ref.tell(Late(0))


async def test_many_asks_expire_at_their_own_deadlines(clock: FakeClock) -> None:
    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(Holder)
        expired: list[float] = []

        async def asker(timeout: float) -> None:
            try:
                await ref.ask(Hold, timeout=timeout)
            except AskTimeout:
                expired.append(clock.now())

        start = clock.now()
        for timeout in [3.0, 1.0, 2.0, 1.0, 3.0]:
            system.start_soon(lambda t=timeout: asker(t))  # type: ignore[misc]
            await settle(3)
            await clock.advance(0.25)
        await clock.advance(5)
        assert sorted(t - start for t in expired) == [1.25, 1.75, 2.5, 3.0, 4.0]
        await ref.tell(Late(0))


async def test_answered_asks_leave_no_timer_behind(clock: FakeClock) -> None:
    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(Doubler)
        for n in range(50):
            assert await ref.ask(partial(Double, n), timeout=1.0) == 2 * n
        await clock.advance(2.0)
        assert clock.pending == 0
        assert system.dead_letters.count == 0


async def test_ask_timeout_covers_waiting_for_room(clock: FakeClock) -> None:
    log: list[object] = []
    gate = anyio.Event()
    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(lambda: Recorder(log), mailbox_size=1)
        await ref.tell(Wait(gate))
        await settle()
        await ref.tell(Incr())
        errors: list[AskTimeout] = []

        async def asker() -> None:
            try:
                await ref.ask(Get, timeout=3.0)
            except AskTimeout as error:
                errors.append(error)

        system.start_soon(asker)
        await settle()
        await clock.advance(3.0)
        assert len(errors) == 1
        gate.set()
        await settle()
    assert not any(isinstance(m, Get) for m in log)


async def test_ask_to_a_stopped_actor_raises_actor_stopped() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Tally, name="gone")
        await ref.stop()
        before = system.dead_letters.count
        with pytest.raises(ActorStopped, match="'gone' has stopped"):
            await ref.ask(Get)
        assert system.dead_letters.count == before + 1


async def test_ask_queued_when_the_actor_stops_raises_actor_stopped(clock: FakeClock) -> None:
    log: list[object] = []
    gate = anyio.Event()
    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(lambda: Recorder(log), name="busy")
        await ref.tell(Wait(gate))
        await settle()
        errors: list[BaseException] = []

        async def asker() -> None:
            try:
                await ref.ask(Get, timeout=60.0)
            except ActorStopped as error:
                errors.append(error)

        system.start_soon(asker)
        await settle()

        async def stop() -> None:
            await ref.stop()

        system.start_soon(stop)
        await settle()
        gate.set()
        await settle()
        # The asker learns at once; it does not wait out its 60 s timeout.
        assert len(errors) == 1


async def test_ask_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="ask_timeout must be positive, got 0"):
        ActorSystem(ask_timeout=0)


async def test_answered_asks_behind_an_unanswered_one_are_swept(clock: FakeClock) -> None:
    async with ActorSystem(clock=clock) as system:
        holder = system.spawn(Holder)
        doubler = system.spawn(Doubler)
        errors: list[AskTimeout] = []

        async def stuck() -> None:
            try:
                await holder.ask(Hold, timeout=10.0)
            except AskTimeout as error:
                errors.append(error)

        system.start_soon(stuck)
        await settle()
        for n in range(5000):
            assert await doubler.ask(partial(Double, n), timeout=10.0) == 2 * n
        # The answered asks do not pile up behind the one still waiting.
        assert len(system.ask_timeouts) <= 2048
        await clock.advance(10.0)
        assert len(errors) == 1
        assert len(system.ask_timeouts) == 0
        await holder.tell(Late(0))


async def test_an_abandoned_ask_expires_quietly(
    clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    log: list[object] = []
    gate = anyio.Event()
    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(lambda: Recorder(log), mailbox_size=1)
        await ref.tell(Wait(gate))
        await settle()
        await ref.tell(Incr())
        with anyio.CancelScope() as scope:
            system.start_soon(lambda: _cancel_soon(scope))
            await ref.ask(Get, timeout=1.0)  # waits for room, then is cancelled
        assert scope.cancelled_caught
        await clock.advance(2.0)
        gate.set()
        await settle()
    gc.collect()
    assert [r for r in caplog.records if r.name == "asyncio"] == []
    assert not any(isinstance(m, Get) for m in log)


async def _cancel_soon(scope: anyio.CancelScope) -> None:
    await settle(3)
    scope.cancel()


@pytest.mark.parametrize("timeout", [0.0, -1.0, float("nan")])
async def test_an_ask_timeout_must_be_positive(timeout: float) -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Doubler)
        with pytest.raises(ValueError, match="ask timeout must be positive"):
            await ref.ask(partial(Double, 1), timeout=timeout)
        assert system.dead_letters.count == 0


async def test_ask_timeout_on_the_real_clock() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Holder)
        with pytest.raises(AskTimeout):
            await ref.ask(Hold, timeout=0.01)
        assert len(system.ask_timeouts) == 0
        await ref.tell(Late(0))


async def test_idle_timeout_values_are_forgotten(clock: FakeClock) -> None:
    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(Doubler)
        for n in range(100):
            await ref.ask(partial(Double, n), timeout=1.0 + n / 1000)
        assert system.ask_timeouts.distinct_timeouts == 100
        await clock.advance(2.0)
        assert system.ask_timeouts.distinct_timeouts == 0
        assert clock.pending == 0
        assert await ref.ask(partial(Double, 1), timeout=1.0) == 2
        assert system.ask_timeouts.distinct_timeouts == 1


async def test_an_ask_waits_for_room_then_gets_its_answer() -> None:
    log: list[object] = []
    gate = anyio.Event()
    async with ActorSystem() as system:
        ref = system.spawn(lambda: Recorder(log), mailbox_size=1)
        await ref.tell(Wait(gate))
        await settle()
        await ref.tell(Incr())
        answers: list[int] = []

        async def asker() -> None:
            answers.append(await ref.ask(Get, timeout=30.0))

        system.start_soon(asker)
        await settle()
        assert answers == []
        gate.set()
        await settle()
        assert answers == [3]


async def test_errors_pass_through_a_mapped_reply() -> None:
    async with ActorSystem() as system:

        class Failing(Actor[Double]):
            async def receive(self, message: Double) -> None:
                mapped: Reply[int] = message.reply.map(lambda v: v + 1)
                assert not mapped.done
                mapped.fail(LookupError("downstream failed"))
                assert mapped.done

        ref = system.spawn(Failing)
        with pytest.raises(LookupError, match="downstream failed"):
            await ref.ask(partial(Double, 1))


async def test_a_late_failure_is_a_dead_letter_too(clock: FakeClock) -> None:
    async with ActorSystem(clock=clock) as system:
        ref = system.spawn(Holder)
        errors: list[AskTimeout] = []

        async def asker() -> None:
            try:
                await ref.ask(Hold, timeout=1.0)
            except AskTimeout as error:
                errors.append(error)

        system.start_soon(asker)
        await settle()
        await clock.advance(1.0)
        assert len(errors) == 1
        await ref.tell(Refuse())
        await settle()
        assert system.dead_letters.count == 1
        letter = system.dead_letters.recent[0]
        assert letter.reason == "reply after timeout"
        assert isinstance(letter.message, PermissionError)


async def test_a_second_answer_and_an_answer_to_a_cancelled_asker_are_dead_letters() -> None:
    class Twice(Actor[Double | Hold]):
        def __init__(self) -> None:
            self.held: list[Reply[int]] = []

        async def receive(self, message: Double | Hold) -> None:
            match message:
                case Double(n=n, reply=reply):
                    reply.send(n)
                    reply.send(n + 1)
                case Hold(reply=reply):
                    self.held.append(reply)
                    if len(self.held) == 2:
                        self.held[0].send(0)

    async with ActorSystem() as system:
        ref = system.spawn(Twice)
        assert await ref.ask(partial(Double, 1)) == 1
        with anyio.CancelScope() as scope:
            system.start_soon(lambda: _cancel_soon(scope))
            await ref.ask(Hold)
        await ref.tell(Hold(Reply(unawaited_future(), "nobody", system.dead_letters)))
        await settle()
        assert [(letter.message, letter.reason) for letter in system.dead_letters.recent] == [
            (2, "already answered"),
            (0, "asker gave up"),
        ]


def unawaited_future() -> asyncio.Future[int]:
    """A future for a reply nobody awaits."""
    return asyncio.get_running_loop().create_future()
