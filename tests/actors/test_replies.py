"""Derived replies: `Reply.forward` (translated errors) and `CallbackReply` (no asker)."""

from __future__ import annotations

import logging

import msgspec
import pytest

from kubeactors.actors import Actor, ActorCrashed, ActorSystem, CallbackReply, Reply

from ._fakes import settle


class Double(msgspec.Struct, frozen=True):
    n: int
    reply: Reply[int]


class Doubler(Actor[Double]):
    """Doubles `n`; refuses negative numbers and crashes on zero."""

    async def receive(self, message: Double) -> None:
        if message.n == 0:
            raise RuntimeError("zero")
        if message.n < 0:
            message.reply.fail(ValueError(f"negative: {message.n}"))
        else:
            message.reply.send(message.n * 2)


class Retried(Exception):
    pass


async def test_forward_transforms_values_and_translates_errors() -> None:
    async with ActorSystem() as system:
        doubler = system.spawn(Doubler)

        class Relay(Actor[Double]):
            async def receive(self, message: Double) -> None:
                upstream = message.reply

                def translate(error: BaseException) -> BaseException | None:
                    return LookupError(f"translated {error}")

                forwarded: Reply[int] = upstream.forward(lambda v: v + 100, translate)
                await doubler.tell(Double(message.n, forwarded))

        relay = system.spawn(Relay)
        assert await relay.ask(lambda reply: Double(4, reply)) == 108
        with pytest.raises(LookupError, match="translated negative: -3"):
            await relay.ask(lambda reply: Double(-3, reply))


async def test_forward_lets_the_error_handler_take_the_request_over() -> None:
    async with ActorSystem() as system:
        doubler = system.spawn(Doubler)

        class Retrier(Actor[Double]):
            """On an error, answers the asker itself with a fallback of its own."""

            async def receive(self, message: Double) -> None:
                upstream = message.reply

                def take_over(error: BaseException) -> BaseException | None:
                    upstream.send(-1)
                    return None

                await doubler.tell(Double(message.n, upstream.forward(lambda v: v, take_over)))

        relay = system.spawn(Retrier)
        assert await relay.ask(lambda reply: Double(-5, reply)) == -1
        assert await relay.ask(lambda reply: Double(5, reply)) == 10


async def test_forward_turns_a_failing_transform_into_the_askers_error() -> None:
    async with ActorSystem() as system:
        doubler = system.spawn(Doubler)

        class Relay(Actor[Double]):
            async def receive(self, message: Double) -> None:
                forwarded: Reply[int] = message.reply.forward(lambda v: 1 // (v - v), lambda e: e)
                await doubler.tell(Double(message.n, forwarded))

        relay = system.spawn(Relay)
        with pytest.raises(ZeroDivisionError):
            await relay.ask(lambda reply: Double(1, reply))


async def test_callback_reply_calls_back_with_the_value_or_the_error() -> None:
    values: list[int] = []
    errors: list[BaseException] = []
    async with ActorSystem() as system:
        doubler = system.spawn(Doubler)
        for n in (3, -1, 0):
            await doubler.tell(Double(n, CallbackReply(values.append, errors.append)))
        await settle()
    assert values == [6]
    assert [type(error) for error in errors] == [ValueError, ActorCrashed]
    assert "zero" in str(errors[1])


async def test_a_second_answer_to_a_callback_reply_is_logged_and_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    values: list[int] = []
    reply: CallbackReply[int] = CallbackReply(values.append, lambda error: None)
    reply.send(1)
    assert reply.done
    with caplog.at_level(logging.WARNING):
        reply.send(2)
        reply.fail(RuntimeError("late"))
    assert values == [1]
    assert sum("answered twice" in record.message for record in caplog.records) == 2


async def test_a_raising_callback_does_not_crash_the_answering_actor(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def explode(value: int) -> None:
        raise RuntimeError(f"callback bug {value}")

    async with ActorSystem() as system:
        doubler = system.spawn(Doubler)
        with caplog.at_level(logging.ERROR):
            await doubler.tell(Double(2, CallbackReply(explode, lambda error: None)))
            await settle()
        assert doubler.stats.restarts == 0
        assert await doubler.ask(lambda reply: Double(1, reply)) == 2
    assert any("reply callback raised" in record.message for record in caplog.records)


class Recording(Reply[int]):
    """A reply subclassed in plain Python, as users and tests do, with slots of its own."""

    __slots__ = ("answers",)

    def __init__(self) -> None:
        self.answers: list[object] = []

    @property
    def done(self) -> bool:
        return bool(self.answers)

    def send(self, value: int) -> None:
        self.answers.append(value)

    def fail(self, error: BaseException) -> None:
        self.answers.append(error)


def test_a_plain_python_subclass_of_reply_is_answered_through_its_own_methods() -> None:
    """`Reply` is compiled (when the build is) and still takes subclasses in plain
    Python: the forwarding reply (compiled too) calls the subclass's overrides."""
    upstream = Recording()
    doubled: Reply[int] = upstream.map(lambda n: n * 2)
    assert (doubled.done, upstream.done) == (False, False)
    doubled.send(21)
    assert (doubled.done, upstream.done) == (True, True)
    failing: Reply[int] = upstream.forward(lambda n: n, lambda error: LookupError(str(error)))
    failing.fail(ValueError("gone"))
    assert upstream.answers[0] == 42
    assert isinstance(upstream.answers[1], LookupError)
    assert isinstance(upstream, Reply)
