"""`Wakeup`/`Waker`: tasks woken in one loop callback, in order; cancellation, timeouts
and anyio cancel scopes behave as with an ordinary future."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest

from kubeactors.store._wakeup import Waker, Wakeup


async def test_woken_tasks_resume_in_wake_order_from_one_loop_callback() -> None:
    loop = asyncio.get_running_loop()
    waker = Waker(loop)
    wakeups = [Wakeup(waker) for _ in range(20)]
    resumed: list[int] = []

    async def wait(n: int) -> None:
        await wakeups[n]
        resumed.append(n)

    tasks = [asyncio.ensure_future(wait(n)) for n in range(20)]
    await asyncio.sleep(0)
    order = [7, 3, 19, *range(20)]
    callbacks_before = len(loop._ready)  # type: ignore[attr-defined]
    for n in order:
        wakeups[n].wake()  # a second wake of the same wait is a no-op
    assert len(loop._ready) == callbacks_before + 1  # type: ignore[attr-defined]
    await asyncio.gather(*tasks)
    assert resumed == list(dict.fromkeys(order))


async def test_a_wake_with_nobody_waiting_is_not_kept() -> None:
    wakeup = Wakeup(Waker(asyncio.get_running_loop()))
    wakeup.wake()
    waiting = asyncio.ensure_future(_await(wakeup))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    wakeup.wake()
    await asyncio.wait_for(waiting, 5)


async def _await(wakeup: Wakeup) -> None:
    await wakeup


async def test_cancelling_a_waiting_task_raises_in_it_and_the_wakeup_stays_usable() -> None:
    wakeup = Wakeup(Waker(asyncio.get_running_loop()))
    task = asyncio.ensure_future(_await(wakeup))
    await asyncio.sleep(0)
    task.cancel("stop")
    with pytest.raises(asyncio.CancelledError) as caught:
        await task
    assert caught.value.args == ("stop",)
    again = asyncio.ensure_future(_await(wakeup))
    await asyncio.sleep(0)
    wakeup.wake()
    await asyncio.wait_for(again, 5)


async def test_a_task_cancelled_after_being_woken_is_cancelled_when_it_runs() -> None:
    wakeup = Wakeup(Waker(asyncio.get_running_loop()))
    task = asyncio.ensure_future(_await(wakeup))
    await asyncio.sleep(0)
    wakeup.wake()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_anyio_cancel_scope_and_timeout_end_only_their_own_scope() -> None:
    wakeup = Wakeup(Waker(asyncio.get_running_loop()))
    outcomes: list[str] = []

    async def scoped(scope: anyio.CancelScope) -> None:
        with scope:
            await wakeup
            outcomes.append("woken")
        outcomes.append(f"scope ended, cancelled={scope.cancelled_caught}")
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.01):
                await wakeup
        outcomes.append("timed out")

    scope = anyio.CancelScope()
    async with anyio.create_task_group() as group:
        group.start_soon(scoped, scope)
        await anyio.sleep(0.01)
        scope.cancel()
    assert outcomes == ["scope ended, cancelled=True", "timed out"]


async def test_only_one_task_may_wait_at_a_time() -> None:
    wakeup = Wakeup(Waker(asyncio.get_running_loop()))
    first = asyncio.ensure_future(_await(wakeup))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already waiting"):
        await wakeup
    wakeup.wake()
    await asyncio.wait_for(first, 5)


@pytest.mark.parametrize("task_type", ["c", "python"])
async def test_one_wakeup_serves_many_waits_of_c_and_python_tasks(task_type: str) -> None:
    """A woken task is resumed with the waker's one finished future, not its wakeup:
    both asyncio's C task and its pure-Python task must take that as a normal
    resumption, wait after wait, and a cancellation in between must still raise."""
    loop = asyncio.get_running_loop()
    wakeup = Wakeup(Waker(loop))
    resumed = 0

    async def wait_often() -> None:
        nonlocal resumed
        for _ in range(50):
            await wakeup
            resumed += 1
        with pytest.raises(asyncio.CancelledError):
            await wakeup
        await wakeup
        resumed += 1

    tasks: Any = asyncio.tasks
    task = (tasks._CTask if task_type == "c" else tasks._PyTask)(wait_often(), loop=loop)
    for _ in range(50):
        await asyncio.sleep(0)
        wakeup.wake()
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    wakeup.wake()
    await asyncio.wait_for(task, 5)
    assert resumed == 51
