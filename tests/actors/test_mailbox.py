"""Mailboxes: FIFO per sender, bounded capacity, backpressure, depth counters."""

from __future__ import annotations

import anyio
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.actors import ActorSystem, Mailbox

from ._actors import Get, Item, Recorder, Wait
from ._fakes import settle


@pytest.mark.parametrize("capacity", [0, -3, 2.5, "8"])
def test_capacity_must_be_a_positive_integer(capacity: object) -> None:
    with pytest.raises(
        ValueError, match=f"capacity must be an integer of at least 1, got {capacity!r}"
    ):
        Mailbox[int](capacity)


def test_try_put_refuses_when_full_and_tracks_depth() -> None:
    mailbox = Mailbox[int](2)
    assert mailbox.try_put(1)
    assert mailbox.try_put(2)
    assert not mailbox.try_put(3)
    assert len(mailbox) == 2
    assert mailbox.popleft() == 1
    assert mailbox.try_put(3)
    assert [mailbox.popleft(), mailbox.popleft()] == [2, 3]
    assert mailbox.max_depth == 2
    assert not mailbox.has_items()


def test_close_hands_over_leftovers_in_order() -> None:
    mailbox = Mailbox[int](4)
    for n in range(3):
        mailbox.try_put(n)
    leftovers: list[int] = []
    mailbox.close(leftovers.append)
    assert leftovers == [0, 1, 2]
    assert mailbox.closed
    assert len(mailbox) == 0


@given(
    counts=st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=6),
    mailbox_size=st.integers(min_value=1, max_value=8),
)
async def test_each_senders_messages_arrive_in_order_once(
    counts: list[int], mailbox_size: int
) -> None:
    log: list[object] = []
    async with ActorSystem() as system:
        ref = system.spawn(lambda: Recorder(log), mailbox_size=mailbox_size)

        async def send(sender: int, count: int) -> None:
            for seq in range(count):
                # Odd messages take `tell`, even ones `try_tell` first: both paths mix.
                message = Item(sender, seq)
                if seq % 2 or not ref.try_tell(message):
                    await ref.tell(message)

        async with anyio.create_task_group() as senders:
            for sender, count in enumerate(counts):
                senders.start_soon(send, sender, count)
        total = await ref.ask(Get)
    assert total == sum(counts) + 1
    items = [m for m in log if isinstance(m, Item)]
    for sender, count in enumerate(counts):
        assert [m.seq for m in items if m.sender == sender] == list(range(count))


async def test_full_mailbox_blocks_tell_until_the_actor_drains() -> None:
    log: list[object] = []
    gate = anyio.Event()
    async with ActorSystem() as system:
        ref = system.spawn(lambda: Recorder(log), mailbox_size=2)
        await ref.tell(Wait(gate))
        await settle()  # the actor takes the Wait and blocks on the gate
        await ref.tell(Item(0, 0))
        await ref.tell(Item(0, 1))
        assert not ref.try_tell(Item(1, 0))
        delivered = anyio.Event()

        async def blocked_tell() -> None:
            await ref.tell(Item(0, 2))
            delivered.set()

        system.start_soon(blocked_tell)
        await settle()
        assert not delivered.is_set()
        assert ref.stats.depth == 2
        gate.set()
        with anyio.fail_after(5):
            await delivered.wait()
        assert await ref.ask(Get) == 5
    assert log[1:4] == [Item(0, 0), Item(0, 1), Item(0, 2)]
    stats = ref.stats
    assert stats.max_depth == 2
    # A snapshot: frozen and hashable (a msgspec Struct defined in a compiled module
    # would lose its frozen=True).
    with pytest.raises(AttributeError):
        stats.depth = 9  # type: ignore[misc]
    assert hash(stats) == hash(msgspec.structs.replace(stats))


async def test_cancelled_waiting_sender_passes_its_turn_on() -> None:
    log: list[object] = []
    gate = anyio.Event()
    async with ActorSystem() as system:
        ref = system.spawn(lambda: Recorder(log), mailbox_size=1)
        await ref.tell(Wait(gate))
        await settle()
        await ref.tell(Item(0, 0))
        with anyio.CancelScope() as cancelled:

            async def give_up() -> None:
                await settle(2)
                cancelled.cancel()

            system.start_soon(give_up)
            await ref.tell(Item(1, 0))
        assert cancelled.cancelled_caught
        done = anyio.Event()

        async def patient() -> None:
            await ref.tell(Item(2, 0))
            done.set()

        system.start_soon(patient)
        await settle()
        gate.set()
        with anyio.fail_after(5):
            await done.wait()
        await ref.ask(Get)
    assert Item(1, 0) not in log
    assert log[1:3] == [Item(0, 0), Item(2, 0)]


async def test_the_actor_side_waits_for_an_arrival_or_a_wake() -> None:
    mailbox = Mailbox[int](4)
    arrival = mailbox.arrival()
    assert not arrival.done()
    mailbox.try_put(1)
    assert arrival.done()
    assert mailbox.arrival().done()  # something is queued: no wait at all
    assert mailbox.popleft() == 1
    woken = mailbox.arrival()
    mailbox.wake()
    assert woken.done()

    async def put_soon() -> None:
        await settle(2)
        mailbox.try_put(2)

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(put_soon)
        with anyio.fail_after(5):
            await mailbox.wait_for_items()
    assert len(mailbox) == 1
