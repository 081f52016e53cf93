"""A container runtime that only pretends: containers are timers on the injected Clock."""

from __future__ import annotations

import hashlib
import logging
import random
from collections.abc import Mapping

import msgspec

from ...actors import Clock, TimerHandle
from ._base import RuntimeBase, WallClock, format_log_time
from ._profile import SimulatedProfile, resolve_profile
from ._types import (
    ContainerConfig,
    ContainerState,
    ImageError,
    RuntimeFailure,
    SandboxConfig,
    SandboxState,
)

__all__ = ["SimulatedRuntime"]

logger = logging.getLogger(__name__)


class SimulatedRuntime(RuntimeBase):
    """Containers that pull, start, run and exit as their `SimulatedProfile` says.

    Latencies are waits on the injected Clock and chance comes from a seeded
    `random.Random`, so a run replays exactly. A container holds no task: one timer
    at most (its scheduled exit), so thousands of nodes cost little.
    An image named "invalid/..." or ending in ":missing" fails to pull.
    """

    kind = "simulated"

    def __init__(
        self,
        *,
        node: str,
        clock: Clock,
        wall_clock: WallClock | None = None,
        profiles: Mapping[str, SimulatedProfile] | None = None,
        seed: int | str = 0,
    ) -> None:
        super().__init__(node=node, clock=clock, wall_clock=wall_clock)
        self._profiles: Mapping[str, SimulatedProfile] = profiles or {}
        self._seed = seed
        self._rng: random.Random | None = None
        self._timers: dict[str, TimerHandle] = {}
        self._started: dict[str, tuple[float, SimulatedProfile]] = {}

    def _random(self) -> random.Random:
        # Made on first use: most simulated nodes never draw a number.
        if self._rng is None:
            self._rng = random.Random(f"{self._seed}/{self.node}/runtime")
        return self._rng

    def _profile(self, image: str, name: str, annotations: Mapping[str, str]) -> SimulatedProfile:
        try:
            return resolve_profile(self._profiles, image, name, annotations)
        except ValueError as error:
            raise RuntimeFailure("CreateContainerConfigError", str(error)) from None

    def instant(self, image: str, name: str, annotations: Mapping[str, str]) -> bool:
        """Whether pulling (if needed), creating and starting this container waits on nothing."""
        try:
            profile = resolve_profile(self._profiles, image, name, annotations)
        except ValueError:
            return False  # the real call reports the error
        if profile.pull_seconds and image not in self._images:
            return False
        return not (profile.start_seconds or profile.start_jitter_seconds)

    async def pull_image(self, image: str, sandbox: SandboxConfig) -> str:
        if image.startswith("invalid/") or image.endswith(":missing"):
            raise ImageError(image, "manifest unknown")
        ref = self._images.get(image)
        if ref is None:
            profile = self._profile(image, "", sandbox.annotations)
            if profile.pull_seconds:
                await self._clock.sleep(profile.pull_seconds)
            ref = f"{image}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"
            self._images[image] = ref
        return ref

    async def run_pod_sandbox(self, config: SandboxConfig) -> str:
        return self._register_sandbox(config)

    async def stop_pod_sandbox(self, sandbox_id: str, grace_seconds: float = 0.0) -> None:
        sandbox = self._sandbox(sandbox_id)
        for ident in list(sandbox.containers):
            await self.stop_container(ident, grace_seconds)
        sandbox.state = SandboxState.NOT_READY

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            return
        await self.stop_pod_sandbox(sandbox_id)
        for ident in list(sandbox.containers):
            await self.remove_container(ident)
        del self._sandboxes[sandbox_id]

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        profile = self._profile(config.image, config.name, config.annotations)
        status = self._register_container(sandbox_id, config, self._images.get(config.image, ""))
        self._started[status.id] = (0.0, profile)
        return status.id

    async def start_container(self, container_id: str) -> None:
        status = self._status(container_id)
        if status.state is not ContainerState.CREATED:
            raise RuntimeFailure("RunContainerError", f"container {container_id} is not created")
        _, profile = self._started[container_id]
        latency = profile.start_latency(self._random() if profile.start_jitter_seconds else None)
        if latency:
            await self._clock.sleep(latency)
            status = self._status(container_id)  # it may have been stopped meanwhile
            if status.state is not ContainerState.CREATED:
                return
        self._started[container_id] = (self._clock.now(), profile)
        self._containers[container_id] = msgspec.structs.replace(
            status, state=ContainerState.RUNNING, started_at=self._now()
        )
        if profile.failure_probability and self._random().random() < profile.failure_probability:
            self._schedule_exit(container_id, 0.0, 1, "Error")
        elif profile.run_seconds is not None:
            reason = "Completed" if profile.exit_code == 0 else "Error"
            self._schedule_exit(container_id, profile.run_seconds, profile.exit_code, reason)

    def _schedule_exit(self, container_id: str, delay: float, code: int, reason: str) -> None:
        def exit_now() -> None:
            self._timers.pop(container_id, None)
            self._exit(container_id, code, reason)

        self._timers[container_id] = self._clock.call_later(delay, exit_now)

    def _exit(self, container_id: str, code: int, reason: str) -> None:
        status = self._containers.get(container_id)
        if status is None or status.state is ContainerState.EXITED:
            return
        status = self._set(
            container_id,
            state=ContainerState.EXITED,
            exit_code=code,
            reason=reason,
            finished_at=self._now(),
        )
        self._emit("STOPPED", status)

    async def stop_container(self, container_id: str, grace_seconds: float) -> None:
        status = self._status(container_id)
        timer = self._timers.pop(container_id, None)
        if timer is not None:
            timer.cancel()
        if status.state is ContainerState.EXITED:
            return
        # A simulated process honours SIGTERM at once: exit code 143 (128 + SIGTERM).
        code, reason = (143, "Error") if status.state is ContainerState.RUNNING else (0, "")
        self._set(
            container_id,
            state=ContainerState.EXITED,
            exit_code=code,
            reason=reason,
            finished_at=self._now(),
        )

    async def remove_container(self, container_id: str) -> None:
        if container_id not in self._containers:
            return
        await self.stop_container(container_id, 0.0)
        self._forget_container(container_id)
        self._started.pop(container_id, None)

    def read_logs(
        self, container_id: str, *, tail: int | None = None, timestamps: bool = False
    ) -> list[str]:
        status = self._status(container_id)
        lines: list[tuple[float, str]] = []
        if status.started_at:
            lines.append((status.started_at, f"simulated container {status.name} started"))
        if status.state is ContainerState.EXITED and status.started_at:
            lines.append((status.finished_at, f"exited with code {status.exit_code}"))
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        if timestamps:
            return [f"{format_log_time(moment)} {text}" for moment, text in lines]
        return [text for _, text in lines]

    def probe(self, container_id: str, kind: str) -> bool | None:
        """The scripted outcome of a `kind` probe ("readiness", "liveness", "startup")."""
        status = self._containers.get(container_id)
        if status is None or status.state is not ContainerState.RUNNING:
            return False
        started, profile = self._started.get(container_id, (0.0, None))
        if profile is None:
            return None
        running_for = self._clock.now() - started
        if kind == "liveness":
            limit = profile.liveness_fails_after_seconds
            return limit is None or running_for < limit
        return running_for >= profile.ready_after_seconds

    async def close(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
