"""Dead letters: nothing sent to a stopped actor, or answered too late, vanishes silently."""

from __future__ import annotations

import asyncio
import logging

import anyio
import msgspec
import pytest

from kubeactors.actors import Actor, ActorRef, ActorSystem, DeadLetter, DeadLetters, Reply

from ._actors import Incr, Item, Recorder, Tally, Wait
from ._fakes import settle


async def test_tell_and_try_tell_to_a_stopped_actor_are_counted() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Tally, name="gone")
        await ref.stop()
        assert not ref.alive
        await ref.tell(Incr())
        assert ref.try_tell(Incr())
        assert system.dead_letters.count == 2
        assert (
            list(system.dead_letters.recent)
            == [DeadLetter(recipient="gone", message=Incr(), reason="actor stopped")] * 2
        )


async def test_messages_still_queued_at_stop_become_dead_letters() -> None:
    log: list[object] = []
    gate = anyio.Event()
    async with ActorSystem() as system:
        ref = system.spawn(lambda: Recorder(log), name="slow")
        await ref.tell(Wait(gate))
        await settle()
        for seq in range(3):
            await ref.tell(Item(0, seq))
        stopped = anyio.Event()

        async def stop() -> None:
            await ref.stop()
            stopped.set()

        system.start_soon(stop)
        await settle()
        assert not stopped.is_set()  # the message being handled finishes first
        gate.set()
        with anyio.fail_after(5):
            await stopped.wait()
        assert log == [Wait(gate)]
        letters = list(system.dead_letters.recent)
        assert [letter.message for letter in letters] == [Item(0, 0), Item(0, 1), Item(0, 2)]
        assert {letter.recipient for letter in letters} == {"slow"}


async def test_a_sender_blocked_on_a_full_mailbox_is_released_by_stop() -> None:
    log: list[object] = []
    gate = anyio.Event()
    async with ActorSystem() as system:
        ref = system.spawn(lambda: Recorder(log), mailbox_size=1)
        await ref.tell(Wait(gate))
        await settle()
        await ref.tell(Item(0, 0))
        released = anyio.Event()

        async def blocked() -> None:
            await ref.tell(Item(1, 0))
            released.set()

        system.start_soon(blocked)
        await settle()
        system.start_soon(ref.stop)
        await settle()
        gate.set()
        with anyio.fail_after(5):
            await released.wait()
        assert [letter.message for letter in system.dead_letters.recent] == [
            Item(0, 0),
            Item(1, 0),
        ]


def test_the_sink_keeps_a_bounded_history_but_counts_everything(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = DeadLetters(keep=3)
    with caplog.at_level(logging.INFO, logger="kubeactors.actors._deadletters"):
        for n in range(5):
            sink.publish("someone", n, "actor stopped")
    assert sink.count == 5
    assert [letter.message for letter in sink.recent] == [2, 3, 4]
    assert len(caplog.records) == 5
    assert "dead letter to someone (actor stopped)" in caplog.records[0].getMessage()


class Resource:
    """An answer that holds something until closed, as a watch holds its events."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    def close(self) -> None:
        self.closed = True


class Open(msgspec.Struct, frozen=True):
    reply: Reply[Resource]


class Opener(Actor[Open]):
    """Keeps each request's reply; `answer` answers them all, then runs `after`."""

    def __init__(self) -> None:
        self.replies: list[Reply[Resource]] = []

    async def receive(self, message: Open) -> None:
        self.replies.append(message.reply)


async def test_a_resource_answered_to_nobody_is_closed() -> None:
    opener = Opener()
    async with ActorSystem() as system:
        ref = system.spawn(lambda: opener)
        await _ask_and_give_up(system, ref)
        late, received, twice = Resource("late"), Resource("received"), Resource("twice")
        opener.replies[0].send(late)  # its asker gave up

        async def ask() -> Resource:
            return await ref.ask(Open)

        async with anyio.create_task_group() as group:
            answers: list[Resource] = []

            async def keep() -> None:
                answers.append(await ask())

            group.start_soon(keep)
            await settle()
            opener.replies[1].send(received)
            opener.replies[1].send(twice)  # already answered
        assert answers == [received]
        assert late.closed
        assert twice.closed
        assert not received.closed
        assert [letter.reason for letter in system.dead_letters.recent] == [
            "asker gave up",
            "already answered",
        ]


async def test_a_resource_answered_as_its_asker_is_cancelled_is_closed() -> None:
    """The answer is in, but the asking task is cancelled before it runs again (as
    plain asyncio may do; anyio's cancel scopes wait): the answer is dropped with it,
    so the asker's side closes it."""
    opener = Opener()
    resource = Resource("orphan")
    async with ActorSystem() as system:
        ref = system.spawn(lambda: opener)
        asker = asyncio.ensure_future(ref.ask(Open))
        await settle()
        opener.replies[0].send(resource)
        asker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asker
        assert resource.closed
        assert system.dead_letters.count == 0


async def _ask_and_give_up(system: ActorSystem, ref: ActorRef[Open]) -> None:
    """Ask `ref`, then give up (cancelled) before it answers."""
    with anyio.CancelScope() as scope:

        async def cancel_after_settling() -> None:
            await settle()
            scope.cancel()

        system.start_soon(cancel_after_settling)
        await ref.ask(Open)
    assert scope.cancelled_caught


async def test_a_failing_close_of_an_undeliverable_answer_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(Resource):
        def close(self) -> None:
            raise RuntimeError("cannot close")

    opener = Opener()
    async with ActorSystem() as system:
        await _ask_and_give_up(system, system.spawn(lambda: opener))
        with caplog.at_level(logging.ERROR, logger="kubeactors.actors._reply"):
            opener.replies[0].send(Broken("broken"))  # does not raise into the sender
        assert system.dead_letters.count == 1
        assert "closing an undeliverable answer failed" in caplog.text
