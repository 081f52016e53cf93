"""Small actors and messages shared by the runtime tests."""

from __future__ import annotations

import anyio
import msgspec

from kubeactors.actors import Actor, Reply

__all__ = ["Boom", "Get", "Incr", "Item", "Recorder", "Tally", "Wait"]


class Item(msgspec.Struct, frozen=True):
    sender: int
    seq: int


class Incr(msgspec.Struct, frozen=True):
    pass


class Get(msgspec.Struct, frozen=True):
    reply: Reply[int]


class Boom(msgspec.Struct, frozen=True):
    reply: Reply[int] | None = None


class Wait(msgspec.Struct, frozen=True):
    """Block the actor until `gate` is set: a way to hold messages in the mailbox."""

    gate: anyio.Event


class Recorder(Actor[object]):
    """Appends every message it gets to a list the test holds; may block on a `Wait`."""

    def __init__(self, log: list[object]) -> None:
        self.log = log

    async def receive(self, message: object) -> None:
        self.log.append(message)
        if isinstance(message, Wait):
            await message.gate.wait()
        elif isinstance(message, Get):
            message.reply.send(len(self.log))


class Tally(Actor[Incr | Get | Boom]):
    """Counts `Incr`s in instance state, so a restart visibly starts from zero.

    `events` (shared with the test) records each start and stop of an incarnation.
    """

    def __init__(self, name: str = "tally", events: list[str] | None = None) -> None:
        self.name = name
        self.events = events if events is not None else []
        self.count = 0

    async def on_start(self) -> None:
        self.events.append(f"start {self.name}")

    async def on_stop(self) -> None:
        self.events.append(f"stop {self.name}")

    async def receive(self, message: Incr | Get | Boom) -> None:
        match message:
            case Incr():
                self.count += 1
            case Get(reply=reply):
                reply.send(self.count)
            case Boom():
                raise RuntimeError(f"{self.name} boom")
