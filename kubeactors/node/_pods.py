"""The pods of one node through the container runtime: start, restart, probe, stop.

As upstream's pod workers: each pod is synced by at most one task at a time; a
request to sync a pod that is being synced marks it to go round once more. A sync
compares what the pod spec wants with what the runtime has, does the next steps
(sandbox, init containers in order, containers) and reports the pod's status.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from ..actors import ActorContext, Clock
from ..api import Container, ContainerStateTerminated, Pod, PodStatus, Probe, Resources
from ..api import ContainerStatus as ApiContainerStatus
from ._backoff import BackOff
from ._env import EnvError, EnvSources, container_env, expand, references
from ._ipam import PodAddresses
from ._messages import KubeletMessage, ProbePod, SyncPod
from ._podstatus import conditions, container_status, phase, stamp, terminated_state
from ._probes import probe_period, run_probe
from .runtime import (
    ContainerConfig,
    ContainerRuntime,
    ContainerState,
    ContainerStatus,
    RuntimeFailure,
    SandboxConfig,
    SimulatedRuntime,
)

__all__ = ["ContainerRun", "PodRun", "PodWorkers"]

logger = logging.getLogger(__name__)

_DEFAULT_GRACE_SECONDS = 30
_NOTHING = Resources(0, 0, 0)


class ContainerRun:
    """What the kubelet remembers of one container of a pod across restarts."""

    __slots__ = (
        "id",
        "last_terminated",
        "live_failures",
        "previous_id",
        "ready",
        "restart_count",
        "started",
        "waiting",
    )

    def __init__(self) -> None:
        self.id = ""
        self.previous_id = ""
        self.restart_count = 0
        self.ready = False
        self.started = False
        self.waiting: tuple[str, str] | None = None
        self.last_terminated: ContainerStateTerminated | None = None
        self.live_failures = 0


class PodRun:
    """One pod on this node: its newest object, its sandbox, its containers' records."""

    __slots__ = (
        "again",
        "busy",
        "containers",
        "dirty",
        "inits",
        "key",
        "pod",
        "probing",
        "rejection",
        "reported",
        "requests",
        "sandbox",
        "sending",
        "start_time",
        "terminated",
    )

    def __init__(self, key: str, pod: Pod) -> None:
        self.key = key
        self.pod = pod
        self.sandbox = ""
        self.inits: dict[str, ContainerRun] = {}
        self.containers: dict[str, ContainerRun] = {}
        self.busy = False
        self.dirty = False
        self.rejection: tuple[str, str] | None = None
        self.reported: PodStatus | None = None
        self.sending = False
        self.start_time = pod.status.start_time
        self.terminated = False
        self.probing = False
        self.again = False
        self.requests = _NOTHING
        """What admission counted for this pod (zero when rejected or finished)."""

    def record(self, name: str, init: bool) -> ContainerRun:
        records = self.inits if init else self.containers
        run = records.get(name)
        if run is None:
            run = records[name] = ContainerRun()
        return run


def _pull_key(pod: Pod, container: Container) -> str:
    """The back-off key of a container's failed pulls, creates and starts."""
    return f"{pod.metadata.uid}/{container.name}/pull"


def _should_restart(policy: str, exit_code: int) -> bool:
    return policy == "Always" or (policy == "OnFailure" and exit_code != 0)


class PodWorkers:
    """Syncs the pods of one kubelet through its runtime; reports through `report`."""

    def __init__(
        self,
        *,
        node: str,
        host_ip: str,
        runtime: ContainerRuntime,
        addresses: PodAddresses,
        backoff: BackOff,
        wall_clock: Callable[[], datetime],
        report: Callable[[PodRun], Awaitable[None]],
        finished: Callable[[PodRun, bool], Awaitable[None]],
        env_sources: Callable[[Pod, Container, str], Awaitable[EnvSources]] | None = None,
    ) -> None:
        self.node = node
        self.host_ip = host_ip
        self.runtime = runtime
        self.addresses = addresses
        self.backoff = backoff
        self._wall_clock = wall_clock
        self._report = report
        self._finished = finished
        self._env_sources = env_sources
        self._context: ActorContext[KubeletMessage] | None = None

    def bind(self, context: ActorContext[KubeletMessage]) -> None:
        self._context = context

    @property
    def context(self) -> ActorContext[KubeletMessage]:
        assert self._context is not None, "PodWorkers.bind() first"
        return self._context

    @property
    def clock(self) -> Clock:
        return self.context.clock

    # -- scheduling syncs ----------------------------------------------------------

    async def request(self, run: PodRun) -> None:
        """Sync `run` now if that cannot wait on anything; else in a task of its own.

        A pod whose every step is instant (a simulated one without latencies) is
        synced inline: a task per pod costs more than the sync itself, and a node
        of 100 such pods should not make 100 tasks.
        """
        if run.busy:
            run.dirty = True
            return
        run.busy = True
        if self._instant(run):
            await self._work(run)
        else:
            self.context.start_soon(lambda: self._work(run), name=f"sync {run.key}")

    def _instant(self, run: PodRun) -> bool:
        runtime = self.runtime
        if not isinstance(runtime, SimulatedRuntime):
            return False
        spec = run.pod.spec
        annotations = run.pod.metadata.annotations
        containers = (
            spec.init_containers + spec.containers if spec.init_containers else spec.containers
        )
        return all(
            runtime.instant(c.image, c.name, annotations)
            and not ((c.env_from or c.env) and any(references(c)))
            for c in containers
        )

    async def _work(self, run: PodRun) -> None:
        try:
            while True:
                run.dirty = False
                try:
                    await self._sync(run)
                except RuntimeFailure as error:
                    logger.info("syncing %s on %s: %s", run.key, self.node, error)
                if not run.dirty:
                    break
        finally:
            run.busy = False

    # -- one sync --------------------------------------------------------------------

    def _grace(self, pod: Pod) -> float:
        grace = pod.metadata.deletion_grace_period_seconds
        if grace is None:
            grace = pod.spec.termination_grace_period_seconds
        return float(_DEFAULT_GRACE_SECONDS if grace is None else grace)

    async def _sync(self, run: PodRun) -> None:
        pod = run.pod
        if run.terminated:
            return
        if pod.metadata.deletion_timestamp is not None:
            await self.terminate(run, self._grace(pod))
            await self._finished(run, True)
            return
        if run.rejection is not None:
            await self._report(run)
            return
        if run.reported is not None and run.reported.phase in ("Succeeded", "Failed"):
            return
        if not run.sandbox:
            ip = self.addresses.allocate(run.key)
            meta = pod.metadata
            run.sandbox = await self.runtime.run_pod_sandbox(
                SandboxConfig(
                    name=meta.name,
                    namespace=meta.namespace,
                    uid=meta.uid,
                    ip=ip,
                    labels={"io.kubernetes.pod.uid": meta.uid},
                    annotations=dict(meta.annotations),
                )
            )
        if run.start_time is None:
            run.start_time = stamp(self._wall_clock())
        if await self._sync_inits(run):
            await self._sync_containers(run)
        await self._report(run)
        if run.reported is not None and run.reported.phase in ("Succeeded", "Failed"):
            # Nothing will run again: give back the sandbox, keep the status.
            await self.runtime.stop_pod_sandbox(run.sandbox)
        else:
            self._schedule_probes(run)

    async def _sync_inits(self, run: PodRun) -> bool:
        """Advance the init containers, one at a time; True once all have succeeded."""
        if not run.pod.spec.init_containers:
            return True
        policy = run.pod.spec.restart_policy or "Always"
        for container in run.pod.spec.init_containers:
            record = run.record(container.name, init=True)
            current = self._current(record)
            if current is not None and current.state is ContainerState.EXITED:
                if current.exit_code == 0:
                    continue
                if policy == "Never":
                    return False
                await self._restart(run, container, record, current, init=True)
                return False
            if current is None:
                await self._start(run, container, record)
            return False
        return True

    async def _sync_containers(self, run: PodRun) -> None:
        policy = run.pod.spec.restart_policy or "Always"
        for container in run.pod.spec.containers:
            record = run.record(container.name, init=False)
            current = self._current(record)
            if current is None:
                await self._start(run, container, record)
            elif current.state is ContainerState.EXITED:
                record.ready = False
                if _should_restart(policy, current.exit_code):
                    await self._restart(run, container, record, current, init=False)

    def _current(self, record: ContainerRun) -> ContainerStatus | None:
        if not record.id:
            return None
        try:
            return self.runtime.container_status(record.id)
        except RuntimeFailure:
            record.id = ""
            return None

    async def _restart(
        self,
        run: PodRun,
        container: Container,
        record: ContainerRun,
        current: ContainerStatus,
        *,
        init: bool,
    ) -> None:
        key = f"{run.pod.metadata.uid}/{container.name}"
        now = self.clock.now()
        finished = current.finished_at
        # Back-off is measured on the injected clock; the runtime's finish time is
        # wall time, so compare how long ago it finished instead.
        since = max(0.0, self._wall_clock().timestamp() - finished) if finished else 0.0
        wait = self.backoff.remaining(key, now - since, now)
        if wait > 0:
            delay = self.backoff.delay(key)
            record.waiting = (
                "CrashLoopBackOff",
                f"back-off {delay:g}s restarting failed container={container.name} "
                f"pod={run.pod.metadata.name}_{run.pod.metadata.namespace}"
                f"({run.pod.metadata.uid})",
            )
            record.last_terminated = terminated_state(
                current, f"{self.runtime.kind}://{current.id}"
            )
            self.context.send_later(wait, SyncPod(run.key))
            return
        self.backoff.restarted(key, now)
        record.last_terminated = terminated_state(current, f"{self.runtime.kind}://{current.id}")
        record.restart_count += 1
        # The dead container stays until the next restart, for `logs --previous`.
        if record.previous_id:
            await self.runtime.remove_container(record.previous_id)
        record.previous_id, record.id = record.id, ""
        await self._start(run, container, record)

    async def _start(self, run: PodRun, container: Container, record: ContainerRun) -> None:
        pod = run.pod
        sandbox_config = self.runtime.pod_sandbox_status(run.sandbox).config
        try:
            await self.runtime.pull_image(container.image, sandbox_config)
        except RuntimeFailure as error:
            self._failed_step(run, record, _pull_key(pod, container), error, "ImagePullBackOff")
            return
        try:
            if self._env_sources is not None:
                sources = await self._env_sources(pod, container, sandbox_config.ip)
            else:
                sources = EnvSources(pod_ip=sandbox_config.ip, host_ip=self.host_ip)
            env = container_env(pod, container, sources)
        except EnvError as error:
            # As upstream: the container waits, and is tried again after a back-off.
            failure = RuntimeFailure("CreateContainerConfigError", str(error))
            key = _pull_key(pod, container)
            self._failed_step(run, record, key, failure, "CreateContainerConfigError")
            return
        config = ContainerConfig(
            name=container.name,
            image=container.image,
            command=[expand(part, env) for part in container.command] if container.command else [],
            args=[expand(part, env) for part in container.args] if container.args else [],
            env=env,
            working_dir=container.working_dir,
            attempt=record.restart_count,
            labels={
                "io.kubernetes.pod.uid": pod.metadata.uid,
                "io.kubernetes.container.name": container.name,
            },
            annotations=pod.metadata.annotations,
        )
        try:
            record.id = await self.runtime.create_container(run.sandbox, config)
            await self.runtime.start_container(record.id)
        except RuntimeFailure as error:
            self._failed_step(run, record, _pull_key(pod, container), error, "")
            return
        record.waiting = None
        record.started = container.startup_probe is None
        record.ready = container.readiness_probe is None and record.started
        record.live_failures = 0

    def _failed_step(
        self,
        run: PodRun,
        record: ContainerRun,
        key: str,
        error: RuntimeFailure,
        backoff_reason: str,
    ) -> None:
        """A pull, create or start failed: show why and try again after the back-off."""
        now = self.clock.now()
        wait = self.backoff.remaining(key, now, now)
        if wait <= 0:
            self.backoff.restarted(key, now)
            wait = self.backoff.delay(key)
            record.waiting = (error.reason, error.message)
        else:
            record.waiting = (backoff_reason or error.reason, error.message)
        self.context.send_later(wait, SyncPod(run.key))

    # -- probes ------------------------------------------------------------------------

    def _schedule_probes(self, run: PodRun) -> None:
        if run.probing:
            return
        probes = [
            probe
            for container in run.pod.spec.containers
            for probe in (
                container.startup_probe,
                container.readiness_probe,
                container.liveness_probe,
            )
            if probe is not None
        ]
        if probes:
            run.probing = True
            first = min(float(probe.initial_delay_seconds) for probe in probes)
            period = min(probe_period(probe) for probe in probes)
            self.context.send_later(max(first, 0.0) or period, ProbePod(run.key))

    async def probe(self, run: PodRun) -> None:
        """Probe every running container once, then restart or report as the results say."""
        run.probing = False
        if run.terminated or run.pod.metadata.deletion_timestamp is not None:
            return
        changed = False
        for container in run.pod.spec.containers:
            record = run.containers.get(container.name)
            current = self._current(record) if record is not None else None
            if record is None or current is None or current.state is not ContainerState.RUNNING:
                continue
            changed |= await self._probe_container(run, container, record)
        if changed:
            await self.request(run)
        self._schedule_probes(run)

    async def _probe_container(
        self, run: PodRun, container: Container, record: ContainerRun
    ) -> bool:
        ip = self.runtime.pod_sandbox_status(run.sandbox).config.ip
        before = (record.ready, record.started)

        async def attempt(probe: Probe, kind: str) -> bool:
            return await run_probe(
                probe,
                kind=kind,
                container=container,
                container_id=record.id,
                pod_ip=ip,
                runtime=self.runtime,
                clock=self.clock,
            )

        if not record.started:
            assert container.startup_probe is not None
            record.started = await attempt(container.startup_probe, "startup")
            if not record.started:
                return before != (record.ready, record.started)
        if container.liveness_probe is not None:
            if await attempt(container.liveness_probe, "liveness"):
                record.live_failures = 0
            else:
                record.live_failures += 1
                if record.live_failures >= (container.liveness_probe.failure_threshold or 3):
                    # Upstream kills the container; the restart policy brings it back.
                    record.live_failures = 0
                    record.ready = False
                    await self.runtime.stop_container(record.id, self._grace(run.pod))
                    return True
        if container.readiness_probe is not None:
            record.ready = await attempt(container.readiness_probe, "readiness")
        else:
            record.ready = True
        return before != (record.ready, record.started)

    # -- the end ---------------------------------------------------------------------

    async def terminate(self, run: PodRun, grace: float) -> None:
        """Stop the containers (SIGTERM, SIGKILL after `grace`), remove the sandbox."""
        run.terminated = True
        if run.sandbox:
            await self.runtime.stop_pod_sandbox(run.sandbox, grace)
            await self.runtime.remove_pod_sandbox(run.sandbox)
            run.sandbox = ""
        self.addresses.release(run.key)
        self.backoff.forget(f"{run.pod.metadata.uid}/")

    # -- status ------------------------------------------------------------------------

    def status(self, run: PodRun) -> PodStatus:
        """The pod's status as the runtime and the records say now."""
        pod = run.pod
        now = stamp(self._wall_clock())
        ip = self.addresses.allocate(run.key) if run.sandbox else pod.status.pod_ip
        if run.rejection is not None:
            reason, message = run.rejection
            return PodStatus(
                phase="Failed",
                reason=reason,
                message=message,
                host_ip=self.host_ip,
                start_time=run.start_time or now,
                conditions=pod.status.conditions,
            )
        kind = self.runtime.kind
        inits = []
        init_containers = pod.spec.init_containers
        for container in init_containers:
            record = run.inits.get(container.name)
            if record is None:
                break
            inits.append(self._container_status(container, record, kind))
        apps = []
        initialized = not init_containers or (
            len(inits) == len(init_containers)
            and all(
                s.state.terminated is not None and s.state.terminated.exit_code == 0 for s in inits
            )
        )
        for container in pod.spec.containers:
            record = run.containers.get(container.name)
            if record is None:
                reason = "ContainerCreating" if initialized else "PodInitializing"
                record = ContainerRun()
                record.waiting = (reason, "")
            apps.append(self._container_status(container, record, kind))
        pod_phase = phase(pod.spec, inits, apps)
        previous = run.reported.conditions if run.reported is not None else pod.status.conditions
        return PodStatus(
            phase=pod_phase,
            conditions=conditions(pod.spec, pod_phase, inits, apps, previous, now),
            host_ip=self.host_ip,
            host_ips=[],
            pod_ip=ip,
            start_time=run.start_time or now,
            init_container_statuses=inits,
            container_statuses=apps,
            qos_class=pod.status.qos_class,
        )

    def _container_status(
        self, container: Container, record: ContainerRun, kind: str
    ) -> ApiContainerStatus:
        current = self._current(record)
        waiting = record.waiting
        if waiting is None and current is None:
            waiting = ("ContainerCreating", "")
        return container_status(
            container.name,
            container.image,
            kind,
            current,
            restart_count=record.restart_count,
            ready=record.ready,
            started=record.started,
            waiting=waiting,
            last_terminated=record.last_terminated,
        )
