"""`Trace`: on a virtual clock, the same seed gives the same events in the same order."""

from __future__ import annotations

import msgspec
import pytest

from kubeactors.actors import Actor, ActorRef, ActorSystem, Trace, VirtualClock


class Job(msgspec.Struct, frozen=True):
    number: int


class Worker(Actor[Job]):
    """Finishes each job after a random delay and passes some on to a random peer."""

    def __init__(self, peers: list[ActorRef[Job]]) -> None:
        self.peers = peers

    async def receive(self, message: Job) -> None:
        rng = self.context.random
        await self.context.clock.sleep(rng.uniform(0.0, 5.0))
        self.context.trace.record("done", self.context.name, message.number)
        if message.number < 40:
            peer = self.peers[rng.randrange(len(self.peers))]
            await peer.tell(Job(message.number + 10))


async def run(seed: int) -> Trace:
    clock = VirtualClock()
    async with ActorSystem(clock=clock, seed=seed, trace=True) as system:
        peers: list[ActorRef[Job]] = []
        for index in range(4):
            peers.append(system.spawn(lambda: Worker(peers), name=f"worker-{index}"))
        for number in range(10):
            await peers[number % 4].tell(Job(number))
        await clock.sleep(1000.0)
    return system.trace


async def test_the_same_seed_gives_the_same_trace() -> None:
    first, second, other = await run(seed=1), await run(seed=1), await run(seed=2)
    assert first.count == 50
    assert list(first.lines) == list(second.lines)
    assert first.digest == second.digest
    assert other.count == 50
    assert other.digest != first.digest


async def test_events_carry_the_time_kind_and_fields_as_json() -> None:
    clock = VirtualClock(start=12.5)
    trace = Trace(clock)
    trace.record("bind", "default/pod-1", "node-3", 87, 0.5, True, None)
    assert list(trace.lines) == [b'[12.5,"bind","default/pod-1","node-3",87,0.5,true,null]']
    with pytest.raises(TypeError, match=r"trace event 'bad'.*got list"):
        trace.record("bad", [1])  # type: ignore[arg-type]
    assert trace.count == 1


async def test_a_trace_is_off_unless_asked_for() -> None:
    async with ActorSystem() as system:
        system.trace.record("ignored", 1)
        assert system.trace.count == 0
        assert not system.trace.enabled
    with pytest.raises(ValueError, match="keep must not be negative"):
        Trace(VirtualClock(), keep=-1)
    trace = Trace(VirtualClock(), keep=2)
    for number in range(5):
        trace.record("n", number)
    assert trace.count == 5
    assert [line[-2:] for line in trace.lines] == [b"3]", b"4]"]
