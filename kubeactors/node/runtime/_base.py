"""The interface every container runtime offers, and the bookkeeping they share."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from typing import Protocol

import msgspec

from ...actors import Clock
from ._types import (
    ContainerConfig,
    ContainerEvent,
    ContainerState,
    ContainerStatus,
    NotFoundError,
    SandboxConfig,
    SandboxState,
    SandboxStatus,
)

__all__ = ["FOLLOW_POLL_SECONDS", "ContainerRuntime", "EventListener", "RuntimeBase", "WallClock"]

FOLLOW_POLL_SECONDS = 0.1
"""How often a followed log is looked at for new lines (on the injected clock)."""

EventListener = Callable[[ContainerEvent], None]
WallClock = Callable[[], datetime]


class ContainerRuntime(Protocol):
    """CRI's RuntimeService and ImageService, reduced to what a kubelet calls.

    Calls that do work are async; status and list read the runtime's own state and
    are plain calls. A container that exits on its own is announced to `listener`
    (CRI's container events), so a kubelet never polls. A runtime outlives the
    kubelet using it: a restarted kubelet lists what runs and adopts it.
    """

    kind: str
    listener: EventListener | None

    async def pull_image(self, image: str, sandbox: SandboxConfig) -> str: ...
    async def run_pod_sandbox(self, config: SandboxConfig) -> str: ...
    async def stop_pod_sandbox(self, sandbox_id: str, grace_seconds: float = 0.0) -> None: ...
    async def remove_pod_sandbox(self, sandbox_id: str) -> None: ...
    def pod_sandbox_status(self, sandbox_id: str) -> SandboxStatus: ...
    def list_pod_sandboxes(self) -> list[SandboxStatus]: ...
    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str: ...
    async def start_container(self, container_id: str) -> None: ...
    async def stop_container(self, container_id: str, grace_seconds: float) -> None: ...
    async def remove_container(self, container_id: str) -> None: ...
    def container_status(self, container_id: str) -> ContainerStatus: ...
    def list_containers(self, sandbox_id: str = "") -> list[ContainerStatus]: ...
    def read_logs(
        self, container_id: str, *, tail: int | None = None, timestamps: bool = False
    ) -> list[str]: ...
    def follow_logs(
        self, container_id: str, *, tail: int | None = None, timestamps: bool = False
    ) -> AsyncGenerator[list[str], None]: ...
    def probe(self, container_id: str, kind: str) -> bool | None: ...
    async def close(self) -> None: ...


class _Sandbox:
    __slots__ = ("config", "containers", "created_at", "id", "state")

    def __init__(self, ident: str, config: SandboxConfig, created_at: float) -> None:
        self.id = ident
        self.config = config
        self.created_at = created_at
        self.state = SandboxState.READY
        self.containers: list[str] = []

    def status(self) -> SandboxStatus:
        return SandboxStatus(
            id=self.id, config=self.config, state=self.state, created_at=self.created_at
        )


class RuntimeBase:
    """Sandboxes and container statuses in dictionaries; ids from a counter (reproducible)."""

    kind = "base"

    def __init__(self, *, node: str, clock: Clock, wall_clock: WallClock | None = None) -> None:
        self.node = node
        self._clock = clock
        self.listener: EventListener | None = None
        self._wall_clock = wall_clock
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, ContainerStatus] = {}
        self._images: dict[str, str] = {}
        self._next_id = 0
        self._id_prefix = f"{self.kind[:4]}-{node}-"

    def _now(self) -> float:
        """Wall-clock seconds for statuses; without a wall clock, the injected clock's."""
        if self._wall_clock is None:
            return self._clock.now()
        return self._wall_clock().timestamp()

    def _new_id(self) -> str:
        self._next_id += 1
        return f"{self._id_prefix}{self._next_id:x}"

    def _sandbox(self, sandbox_id: str) -> _Sandbox:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            raise NotFoundError("pod sandbox", sandbox_id)
        return sandbox

    def _status(self, container_id: str) -> ContainerStatus:
        status = self._containers.get(container_id)
        if status is None:
            raise NotFoundError("container", container_id)
        return status

    def _set(self, container_id: str, **changes: object) -> ContainerStatus:
        status = msgspec.structs.replace(self._status(container_id), **changes)
        self._containers[container_id] = status
        return status

    def _emit(self, kind: str, status: ContainerStatus) -> None:
        listener = self.listener
        if listener is not None:
            listener(ContainerEvent(kind, status.id, status.sandbox_id))  # type: ignore[arg-type]

    def _register_sandbox(self, config: SandboxConfig) -> str:
        ident = self._new_id()
        self._sandboxes[ident] = _Sandbox(ident, config, self._now())
        return ident

    def _register_container(
        self, sandbox_id: str, config: ContainerConfig, image_ref: str, log_path: str = ""
    ) -> ContainerStatus:
        sandbox = self._sandbox(sandbox_id)
        if sandbox.state is not SandboxState.READY:
            raise NotFoundError("ready pod sandbox", sandbox_id)
        ident = self._new_id()
        status = ContainerStatus(
            id=ident,
            sandbox_id=sandbox_id,
            name=config.name,
            attempt=config.attempt,
            image=config.image,
            image_ref=image_ref,
            state=ContainerState.CREATED,
            created_at=self._now(),
            log_path=log_path,
            labels=config.labels,
        )
        self._containers[ident] = status
        sandbox.containers.append(ident)
        return status

    def pod_sandbox_status(self, sandbox_id: str) -> SandboxStatus:
        return self._sandbox(sandbox_id).status()

    def list_pod_sandboxes(self) -> list[SandboxStatus]:
        return [sandbox.status() for sandbox in self._sandboxes.values()]

    def container_status(self, container_id: str) -> ContainerStatus:
        return self._status(container_id)

    def list_containers(self, sandbox_id: str = "") -> list[ContainerStatus]:
        if not sandbox_id:
            return list(self._containers.values())
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            return []
        return [self._containers[ident] for ident in sandbox.containers]

    def read_logs(
        self, container_id: str, *, tail: int | None = None, timestamps: bool = False
    ) -> list[str]:
        raise NotImplementedError

    async def follow_logs(
        self, container_id: str, *, tail: int | None = None, timestamps: bool = False
    ) -> AsyncGenerator[list[str], None]:
        """The lines so far (the last `tail`), then batches of new ones until the container
        has exited (or is removed); the consumer stops it by closing the iterator."""
        yield self.read_logs(container_id, tail=tail, timestamps=timestamps)
        seen = len(self.read_logs(container_id))
        while True:
            status = self._containers.get(container_id)
            if status is None:
                return
            done = status.state is ContainerState.EXITED
            if not done:
                await self._clock.sleep(FOLLOW_POLL_SECONDS)
            try:
                lines = self.read_logs(container_id, timestamps=timestamps)
            except NotFoundError:
                return
            if len(lines) > seen:
                yield lines[seen:]
            seen = len(lines)
            if done:
                return

    def _forget_container(self, container_id: str) -> ContainerStatus:
        status = self._status(container_id)
        if status.state is ContainerState.RUNNING:
            raise RuntimeError(f"container {container_id} is running: stop it before removing")
        del self._containers[container_id]
        sandbox = self._sandboxes.get(status.sandbox_id)
        if sandbox is not None and container_id in sandbox.containers:
            sandbox.containers.remove(container_id)
        return status


def format_log_time(moment: float) -> str:
    """RFC 3339 with nanoseconds, as CRI log lines start."""
    stamp = datetime.fromtimestamp(moment, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond:06d}000Z"
