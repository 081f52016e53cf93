"""A container runtime that runs each container as a real local process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import IO

from ...actors import Clock, TimerHandle
from ._base import FOLLOW_POLL_SECONDS, RuntimeBase, WallClock, format_log_time
from ._types import (
    ContainerConfig,
    ContainerState,
    RuntimeFailure,
    SandboxConfig,
    SandboxState,
)

__all__ = ["ProcessRuntime"]

logger = logging.getLogger(__name__)

_EXIT_SETTLE_SECONDS = 0.2
"""How long after its exit a process's output may still arrive before we call it done."""


class _Process(asyncio.SubprocessProtocol):
    """One container's process: output to its CRI-format log file, exit to the runtime.

    Everything arrives as event loop callbacks, so a running container costs no task.
    """

    def __init__(self, runtime: ProcessRuntime, container_id: str, log: IO[bytes]) -> None:
        self.runtime = runtime
        self.container_id = container_id
        self.log = log
        self.transport: asyncio.SubprocessTransport | None = None
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.returncode: int | None = None
        self.signalled = False
        self._partial: dict[int, bytes] = {}
        self._settle: TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self.transport = transport

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        stream = b"stdout" if fd == 1 else b"stderr"
        data = self._partial.pop(fd, b"") + data
        *lines, rest = data.split(b"\n")
        stamp = format_log_time(self.runtime._now()).encode()
        for line in lines:
            self.log.write(b"%s %s F %s\n" % (stamp, stream, line))
        if rest:
            self._partial[fd] = rest
        self.log.flush()

    def process_exited(self) -> None:
        assert self.transport is not None
        self.returncode = self.transport.get_returncode()
        # Output may still be in the pipes: finish when they close, or shortly after.
        self._settle = self.runtime._clock.call_later(_EXIT_SETTLE_SECONDS, self._finish)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.returncode is not None:
            self._finish()

    def _finish(self) -> None:
        if self.exited.done():
            return
        if self._settle is not None:
            self._settle.cancel()
        stamp = format_log_time(self.runtime._now()).encode()
        for fd, rest in sorted(self._partial.items()):
            self.log.write(b"%s %s P %s\n" % (stamp, b"stdout" if fd == 1 else b"stderr", rest))
        self._partial.clear()
        self.log.close()
        code = self.returncode if self.returncode is not None else -1
        self.exited.set_result(code)
        self.runtime._process_ended(self, code)


class ProcessRuntime(RuntimeBase):
    """Runs `command` + `args` with `env` in a working directory under `root`.

    A container's stdout and stderr go to its log file in CRI's format
    (`<time> <stream> <F|P> <line>`), at `root/logs/<ns>_<pod>_<uid>/<name>/<attempt>.log`
    as the kubelet lays them out. Stopping sends SIGTERM to the process group, then
    SIGKILL once the grace period is over. A process killed by a signal exits with
    128 + the signal number; a SIGKILL we did not send is reported as "OOMKilled",
    which is how the kernel's OOM killer ends a process.
    """

    kind = "process"

    def __init__(
        self, *, node: str, clock: Clock, root: Path, wall_clock: WallClock | None = None
    ) -> None:
        super().__init__(node=node, clock=clock, wall_clock=wall_clock)
        self.root = Path(root)
        self._processes: dict[str, _Process] = {}
        self._configs: dict[str, ContainerConfig] = {}
        self._closed = False

    async def pull_image(self, image: str, sandbox: SandboxConfig) -> str:
        # A process needs no image: the image names what runs, the command runs it.
        return self._images.setdefault(image, f"process://{image}")

    async def run_pod_sandbox(self, config: SandboxConfig) -> str:
        ident = self._register_sandbox(config)
        (self.root / "pods" / ident).mkdir(parents=True, exist_ok=True)
        return ident

    async def stop_pod_sandbox(self, sandbox_id: str, grace_seconds: float = 0.0) -> None:
        sandbox = self._sandbox(sandbox_id)
        running = [
            ident
            for ident in sandbox.containers
            if self._containers[ident].state is ContainerState.RUNNING
        ]
        if running:
            await asyncio.gather(*(self.stop_container(i, grace_seconds) for i in running))
        sandbox.state = SandboxState.NOT_READY

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            return
        await self.stop_pod_sandbox(sandbox_id)
        for ident in list(sandbox.containers):
            await self.remove_container(ident)
        del self._sandboxes[sandbox_id]

    def _log_path(self, sandbox: SandboxConfig, config: ContainerConfig) -> Path:
        pod = f"{sandbox.namespace}_{sandbox.name}_{sandbox.uid}"
        return self.root / "logs" / pod / config.name / f"{config.attempt}.log"

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        sandbox = self._sandbox(sandbox_id)
        if not config.command and not config.args:
            raise RuntimeFailure(
                "CreateContainerError",
                f"container {config.name!r}: the process runtime needs a command or args",
            )
        log_path = self._log_path(sandbox.config, config)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        status = self._register_container(
            sandbox_id, config, self._images.get(config.image, ""), str(log_path)
        )
        self._configs[status.id] = config
        return status.id

    def _working_dir(self, sandbox_id: str, config: ContainerConfig) -> Path:
        if config.working_dir:
            directory = Path(config.working_dir)
            if directory.is_absolute():
                return directory
            return self.root / "pods" / sandbox_id / config.name / directory
        return self.root / "pods" / sandbox_id / config.name

    async def start_container(self, container_id: str) -> None:
        status = self._status(container_id)
        config = self._configs[container_id]
        if status.state is not ContainerState.CREATED:
            raise RuntimeFailure("RunContainerError", f"container {container_id} is not created")
        if self._closed:
            raise RuntimeFailure("RunContainerError", "the runtime is closed")
        directory = self._working_dir(status.sandbox_id, config)
        directory.mkdir(parents=True, exist_ok=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(directory)}
        env.update(config.env)
        argv = [*config.command, *config.args]
        log = _open_log(status.log_path)
        loop = asyncio.get_running_loop()
        try:
            _, process = await loop.subprocess_exec(
                lambda: _Process(self, container_id, log),
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                cwd=directory,
                env=env,
                start_new_session=True,
            )
        except OSError as error:
            log.close()
            message = f"starting {argv[0]!r}: {error.strerror or error}"
            self._set(
                container_id,
                state=ContainerState.EXITED,
                exit_code=128,
                reason="StartError",
                message=message,
                finished_at=self._now(),
            )
            raise RuntimeFailure("RunContainerError", message) from None
        self._processes[container_id] = process
        self._set(container_id, state=ContainerState.RUNNING, started_at=self._now())

    def _process_ended(self, process: _Process, code: int) -> None:
        container_id = process.container_id
        self._processes.pop(container_id, None)
        if process.transport is not None:
            process.transport.close()
        if container_id not in self._containers:
            return
        if code < 0:
            number = -code
            reason = "OOMKilled" if number == signal.SIGKILL and not process.signalled else "Error"
            code = 128 + number
        else:
            reason = "Completed" if code == 0 else "Error"
        status = self._set(
            container_id,
            state=ContainerState.EXITED,
            exit_code=code,
            reason=reason,
            finished_at=self._now(),
        )
        self._emit("STOPPED", status)

    def _signal(self, process: _Process, number: int) -> None:
        transport = process.transport
        if transport is None or process.returncode is not None:
            return
        process.signalled = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(transport.get_pid(), number)

    async def stop_container(self, container_id: str, grace_seconds: float) -> None:
        status = self._status(container_id)
        process = self._processes.get(container_id)
        if process is None:
            if status.state is ContainerState.CREATED:
                self._set(container_id, state=ContainerState.EXITED, finished_at=self._now())
            return
        self._signal(process, signal.SIGTERM)
        killer = self._clock.call_later(
            max(0.0, grace_seconds), lambda: self._signal(process, signal.SIGKILL)
        )
        try:
            await asyncio.shield(process.exited)
        finally:
            killer.cancel()

    async def remove_container(self, container_id: str) -> None:
        if container_id not in self._containers:
            return
        await self.stop_container(container_id, 0.0)
        self._forget_container(container_id)
        self._configs.pop(container_id, None)

    def read_logs(
        self, container_id: str, *, tail: int | None = None, timestamps: bool = False
    ) -> list[str]:
        status = self._status(container_id)
        try:
            text = Path(status.log_path).read_text(errors="replace")
        except FileNotFoundError:
            return []
        lines, pending = _join_partials(text.splitlines(), timestamps)
        if pending:
            lines.append(pending)
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        return lines

    async def follow_logs(
        self, container_id: str, *, tail: int | None = None, timestamps: bool = False
    ) -> AsyncGenerator[list[str], None]:
        """As `RuntimeBase.follow_logs`, reading only what was appended since the last look."""
        path = Path(self._status(container_id).log_path)
        offset, pending, first = 0, "", True
        while True:
            status = self._containers.get(container_id)
            done = status is None or status.state is ContainerState.EXITED
            records, offset = _read_records(path, offset)
            lines, pending = _join_partials(records, timestamps, pending)
            if done and pending:
                lines.append(pending)
            if first:
                first = False
                if tail is not None:
                    lines = lines[-tail:] if tail > 0 else []
                yield lines
            elif lines:
                yield lines
            if done:
                return
            await self._clock.sleep(FOLLOW_POLL_SECONDS)

    def probe(self, container_id: str, kind: str) -> bool | None:
        return None  # real containers are probed by the kubelet (exec, HTTP, TCP)

    async def exec_sync(
        self, container_id: str, command: list[str], timeout: float
    ) -> tuple[int, bytes]:
        """Run `command` beside the container (its directory and env): exit code and output.

        As CRI's ExecSync: a command still running after `timeout` is killed and
        reported as exit code 137.
        """
        status = self._status(container_id)
        config = self._configs[container_id]
        if status.state is not ContainerState.RUNNING:
            raise RuntimeFailure("ExecError", f"container {container_id} is not running")
        directory = self._working_dir(status.sandbox_id, config)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(directory)}
        env.update(config.env)
        try:
            process = await asyncio.create_subprocess_exec(
                *command,
                cwd=directory,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
        except OSError as error:
            return 126, str(error).encode()
        killer = self._clock.call_later(max(0.0, timeout), process.kill)
        try:
            output, _ = await process.communicate()
        finally:
            killer.cancel()
        code = process.returncode if process.returncode is not None else -9
        return (128 - code if code < 0 else code), output

    async def close(self) -> None:
        """Stop every process at once (SIGKILL) and start no more: the runtime is going away."""
        self._closed = True
        for process in list(self._processes.values()):
            self._signal(process, signal.SIGKILL)
        for process in list(self._processes.values()):
            await asyncio.shield(process.exited)


def _open_log(path: str) -> IO[bytes]:
    """The container's log file, opened for appending (a small local open, not worth a thread)."""
    return open(path, "ab")


def _read_records(path: Path, offset: int) -> tuple[list[str], int]:
    """The whole log records written at `offset` and after, and the offset past them."""
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            data = log.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    return data[:end].decode(errors="replace").splitlines(), offset + end


def _join_partials(
    records: list[str], timestamps: bool, pending: str = ""
) -> tuple[list[str], str]:
    """CRI log records to lines: a "P" record continues into the next one.

    Returns the lines and the text of a line still unfinished at the end.
    """
    lines: list[str] = []
    for record in records:
        parts = record.split(" ", 3)
        if len(parts) < 4:
            continue
        stamp, _, tag, text = parts
        if tag == "P":
            pending += text
            continue
        line = pending + text
        pending = ""
        lines.append(f"{stamp} {line}" if timestamps else line)
    return lines, pending
