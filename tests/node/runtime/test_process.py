import sys
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from kubeactors.actors import SystemClock
from kubeactors.node.runtime import (
    ContainerConfig,
    ContainerEvent,
    ContainerState,
    ProcessRuntime,
    RuntimeFailure,
    SandboxConfig,
)

SANDBOX = SandboxConfig(name="web", namespace="default", uid="u1")
PYTHON = sys.executable


async def _run(runtime: ProcessRuntime, config: ContainerConfig) -> str:
    sandbox = await runtime.run_pod_sandbox(SANDBOX)
    await runtime.pull_image(config.image, SANDBOX)
    ident = await runtime.create_container(sandbox, config)
    await runtime.start_container(ident)
    return ident


async def _poll(predicate: Callable[[], bool]) -> None:
    """Wait (up to 10 s) for something a real process does in its own time."""
    for _ in range(1000):
        if predicate():
            return
        await anyio.sleep(0.01)
    raise AssertionError("the process did not get there in 10 s")


async def _exited(runtime: ProcessRuntime, ident: str) -> None:
    await _poll(lambda: runtime.container_status(ident).state is ContainerState.EXITED)


async def test_a_process_runs_with_its_env_and_logs_its_output(tmp_path: Path) -> None:
    runtime = ProcessRuntime(node="n0", clock=SystemClock(), root=tmp_path)
    events: list[ContainerEvent] = []
    runtime.listener = events.append
    script = (
        "import os, sys; print('hello', os.environ['GREETING']); print(os.getcwd()); "
        "sys.stderr.write('oops\\n'); sys.exit(3)"
    )
    config = ContainerConfig(
        name="c",
        image="python",
        command=[PYTHON, "-u", "-c"],
        args=[script],
        env={"GREETING": "world"},
    )
    ident = await _run(runtime, config)
    await _exited(runtime, ident)
    status = runtime.container_status(ident)
    assert (status.exit_code, status.reason) == (3, "Error")
    assert status.log_path.endswith("default_web_u1/c/0.log")
    lines = runtime.read_logs(ident)
    assert lines[0] == "hello world"
    assert Path(lines[1]).name == "c"  # a working directory of its own
    assert "oops" in lines
    assert runtime.read_logs(ident, tail=1) == [lines[-1]]
    stamped = runtime.read_logs(ident, timestamps=True)[0]
    assert stamped.endswith(" hello world")
    assert stamped[:4].isdigit()
    assert events == [ContainerEvent("STOPPED", ident, status.sandbox_id)]


async def test_stop_sends_sigterm_then_sigkill_after_the_grace_period(tmp_path: Path) -> None:
    runtime = ProcessRuntime(node="n0", clock=SystemClock(), root=tmp_path)
    polite = ContainerConfig(name="polite", image="sh", command=["sleep", "60"])
    stubborn_script = (
        "import signal, time, sys; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "print('ready', flush=True); time.sleep(60)"
    )
    stubborn = ContainerConfig(name="stubborn", image="py", command=[PYTHON, "-c", stubborn_script])
    first = await _run(runtime, polite)
    second = await _run(runtime, stubborn)
    await _poll(lambda: runtime.read_logs(second) == ["ready"])
    await runtime.stop_container(first, 5)
    assert runtime.container_status(first).exit_code == 143
    await runtime.stop_container(second, 0.2)
    status = runtime.container_status(second)
    assert (status.exit_code, status.reason) == (137, "Error")  # killed by us: not an OOM


async def test_a_process_killed_by_sigkill_from_elsewhere_is_oomkilled(tmp_path: Path) -> None:
    runtime = ProcessRuntime(node="n0", clock=SystemClock(), root=tmp_path)
    script = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    ident = await _run(
        runtime, ContainerConfig(name="c", image="py", command=[PYTHON, "-c", script])
    )
    await _exited(runtime, ident)
    status = runtime.container_status(ident)
    assert (status.exit_code, status.reason) == (137, "OOMKilled")


async def test_a_missing_command_is_an_error(tmp_path: Path) -> None:
    runtime = ProcessRuntime(node="n0", clock=SystemClock(), root=tmp_path)
    sandbox = await runtime.run_pod_sandbox(SANDBOX)
    with pytest.raises(RuntimeFailure, match="needs a command"):
        await runtime.create_container(sandbox, ContainerConfig(name="c", image="x"))
    ident = await runtime.create_container(
        sandbox, ContainerConfig(name="c", image="x", command=["/no/such/binary"])
    )
    with pytest.raises(RuntimeFailure, match="/no/such/binary") as caught:
        await runtime.start_container(ident)
    assert caught.value.reason == "RunContainerError"
    assert runtime.container_status(ident).reason == "StartError"


async def test_removing_a_sandbox_stops_its_processes(tmp_path: Path) -> None:
    runtime = ProcessRuntime(node="n0", clock=SystemClock(), root=tmp_path)
    ident = await _run(runtime, ContainerConfig(name="c", image="x", command=["sleep", "60"]))
    sandbox = runtime.container_status(ident).sandbox_id
    await runtime.remove_pod_sandbox(sandbox)
    assert runtime.list_containers() == []
    await runtime.close()


async def test_following_a_log_yields_new_lines_until_the_process_ends(tmp_path: Path) -> None:
    runtime = ProcessRuntime(node="n0", clock=SystemClock(), root=tmp_path)
    gate = tmp_path / "gate"
    # A line in two writes (a partial record first), then more once the gate opens.
    script = (
        "import pathlib, sys, time\n"
        "print('one'); print('two', flush=True)\n"
        "sys.stdout.write('thr'); sys.stdout.flush(); time.sleep(0.2)\n"
        "print('ee', flush=True)\n"
        f"while not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.02)\n"
        "sys.stdout.write('no newline')\n"
    )
    ident = await _run(
        runtime, ContainerConfig(name="c", image="py", command=[PYTHON, "-c", script])
    )
    await _poll(lambda: runtime.read_logs(ident) == ["one", "two", "three"])
    batches = runtime.follow_logs(ident, tail=1)
    assert await batches.__anext__() == ["three"]
    gate.touch()
    rest = [line async for batch in batches for line in batch]
    assert rest == ["no newline"]
    assert runtime.container_status(ident).state is ContainerState.EXITED
    # An exited container's log is followed to its end at once; and `tail=0` is nothing.
    assert [batch async for batch in runtime.follow_logs(ident)] == [
        ["one", "two", "three", "no newline"]
    ]
    assert [batch async for batch in runtime.follow_logs(ident, tail=0)] == [[]]


async def test_a_follower_may_leave_before_the_process_ends(tmp_path: Path) -> None:
    runtime = ProcessRuntime(node="n0", clock=SystemClock(), root=tmp_path)
    config = ContainerConfig(
        name="c",
        image="py",
        command=[PYTHON, "-u", "-c", "print('up'); import time; time.sleep(60)"],
    )
    ident = await _run(runtime, config)
    await _poll(lambda: runtime.read_logs(ident) == ["up"])
    batches = runtime.follow_logs(ident)
    assert await batches.__anext__() == ["up"]
    with anyio.move_on_after(0.3):
        await batches.__anext__()  # nothing more comes: the follower gives up
    await batches.aclose()
    assert runtime.container_status(ident).state is ContainerState.RUNNING
    await runtime.close()
