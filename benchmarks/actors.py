"""Actor runtime throughput beside plain anyio memory object streams doing the same work.

`python -m benchmarks.actors`: messages per second through one actor (`tell`), through
a chain of 1,000 forwarding actors, and ask round-trips per second. Each scenario runs
its anyio counterpart in the same process so the ratio is free of machine noise
between runs; each figure is the best of a few rounds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import anyio
import anyio.lowlevel
import msgspec
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from benchmarks._report import emit
from kubeactors.actors import Actor, ActorRef, ActorSystem, Reply

TELL_MESSAGES = 200_000
CHAIN_LENGTH = 1_000
CHAIN_MESSAGES = 300
ASKS = 50_000
ROUNDS = 5
MAILBOX_SIZE = 1024


class Ping(msgspec.Struct, frozen=True):
    n: int


class Echo(msgspec.Struct, frozen=True):
    n: int
    reply: Reply[int]


class Counter(Actor[Ping]):
    """Counts messages and sets `done` once `expected` arrived."""

    def __init__(self, expected: int, done: anyio.Event) -> None:
        self.expected = expected
        self.done = done
        self.seen = 0

    async def receive(self, message: Ping) -> None:
        self.seen += 1
        if self.seen == self.expected:
            self.done.set()


class Forwarder(Actor[Ping]):
    def __init__(self, target: ActorRef[Ping]) -> None:
        self.target = target

    async def receive(self, message: Ping) -> None:
        await self.target.tell(message)


class Echoer(Actor[Echo]):
    async def receive(self, message: Echo) -> None:
        message.reply.send(message.n)


# -- the actor side ----------------------------------------------------------------


async def actor_tell(count: int) -> float:
    done = anyio.Event()
    message = Ping(0)
    async with ActorSystem() as system:
        ref = system.spawn(lambda: Counter(count, done), mailbox_size=MAILBOX_SIZE)
        started = time.perf_counter()
        for _ in range(count):
            await ref.tell(message)
        await done.wait()
        return time.perf_counter() - started


async def actor_chain(count: int) -> float:
    done = anyio.Event()
    message = Ping(0)
    async with ActorSystem() as system:
        ref: ActorRef[Ping] = system.spawn(lambda: Counter(count, done), mailbox_size=MAILBOX_SIZE)
        for _ in range(CHAIN_LENGTH - 1):
            target = ref
            ref = system.spawn(lambda t=target: Forwarder(t), mailbox_size=MAILBOX_SIZE)  # type: ignore[misc]
        await anyio.lowlevel.checkpoint()
        started = time.perf_counter()
        for _ in range(count):
            await ref.tell(message)
        await done.wait()
        return time.perf_counter() - started


async def actor_ask(count: int) -> float:
    async with ActorSystem() as system:
        ref = system.spawn(Echoer, mailbox_size=MAILBOX_SIZE)
        started = time.perf_counter()
        for n in range(count):
            await ref.ask(lambda reply, n=n: Echo(n, reply))  # type: ignore[misc]
        return time.perf_counter() - started


# -- the plain anyio side -------------------------------------------------------------


async def stream_tell(count: int) -> float:
    send, receive = anyio.create_memory_object_stream[Ping](MAILBOX_SIZE)
    message = Ping(0)
    async with anyio.create_task_group() as task_group:
        task_group.start_soon(_drain, receive)
        started = time.perf_counter()
        async with send:
            for _ in range(count):
                await send.send(message)
    return time.perf_counter() - started


async def _drain(receive: MemoryObjectReceiveStream[Ping]) -> None:
    async with receive:
        async for _ in receive:
            pass


async def _forward(
    receive: MemoryObjectReceiveStream[Ping], send: MemoryObjectSendStream[Ping]
) -> None:
    async with receive, send:
        async for message in receive:
            await send.send(message)


async def stream_chain(count: int) -> float:
    message = Ping(0)
    async with anyio.create_task_group() as task_group:
        first_send, receive = anyio.create_memory_object_stream[Ping](MAILBOX_SIZE)
        for _ in range(CHAIN_LENGTH - 1):
            send, next_receive = anyio.create_memory_object_stream[Ping](MAILBOX_SIZE)
            task_group.start_soon(_forward, receive, send)
            receive = next_receive
        task_group.start_soon(_drain, receive)
        await anyio.lowlevel.checkpoint()
        started = time.perf_counter()
        async with first_send:
            for _ in range(count):
                await first_send.send(message)
    return time.perf_counter() - started


async def stream_ask(count: int) -> float:
    request_send, request_receive = anyio.create_memory_object_stream[int](MAILBOX_SIZE)
    response_send, response_receive = anyio.create_memory_object_stream[int](MAILBOX_SIZE)

    async def serve() -> None:
        async with request_receive, response_send:
            async for request in request_receive:
                await response_send.send(request)

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(serve)
        started = time.perf_counter()
        async with request_send, response_receive:
            for n in range(count):
                await request_send.send(n)
                await response_receive.receive()
            finished = time.perf_counter()
    return finished - started


# -- running -------------------------------------------------------------------------


def best_rates(
    actor_scenario: Callable[[int], Awaitable[float]],
    stream_scenario: Callable[[int], Awaitable[float]],
    count: int,
) -> tuple[float, float]:
    """The best of `ROUNDS` runs of each, in messages per second.

    Rounds alternate between the two sides, so a burst of load on this shared
    machine hurts both alike; each round has a fresh event loop.
    """
    actor_best = stream_best = float("inf")
    for _ in range(ROUNDS):
        actor_best = min(actor_best, asyncio.run(_call(actor_scenario, count)))
        stream_best = min(stream_best, asyncio.run(_call(stream_scenario, count)))
    return count / actor_best, count / stream_best


async def _call(scenario: Callable[[int], Awaitable[float]], count: int) -> float:
    return await scenario(count)


def main() -> None:
    rows: list[dict[str, object]] = []
    scenarios = [
        ("tell, one actor", actor_tell, stream_tell, TELL_MESSAGES),
        (f"tell, chain of {CHAIN_LENGTH}", actor_chain, stream_chain, CHAIN_MESSAGES),
        ("ask round-trips", actor_ask, stream_ask, ASKS),
    ]
    for name, actor_scenario, stream_scenario, count in scenarios:
        actor_rate, stream_rate = best_rates(actor_scenario, stream_scenario, count)
        rows.append(
            {
                "name": name,
                "messages": count,
                "msgs_per_s": round(actor_rate),
                "anyio_msgs_per_s": round(stream_rate),
                "ratio_vs_anyio": round(actor_rate / stream_rate, 2),
            }
        )
    emit("actor runtime vs anyio memory object streams", rows)


if __name__ == "__main__":
    main()
