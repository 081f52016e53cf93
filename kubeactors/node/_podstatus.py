"""A pod's status from what the runtime reports: container statuses, phase and conditions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from ..api import (
    ContainerState,
    ContainerStateRunning,
    ContainerStateTerminated,
    ContainerStateWaiting,
    ContainerStatus,
    PodCondition,
    PodPhase,
    PodSpec,
)
from .runtime import ContainerState as RuntimeState
from .runtime import ContainerStatus as RuntimeStatus

__all__ = ["api_time", "conditions", "container_status", "phase", "stamp", "terminated_state"]


_last_stamp: tuple[int, str] = (-1, "")
_last_moment: tuple[datetime | None, str] = (None, "")


def api_time(moment: float) -> str:
    """Wall-clock seconds as Kubernetes writes a timestamp (whole seconds).

    Formatting is slow next to the rest of a status and thousands of pods report
    within one second, so the text of the last second is kept.
    """
    global _last_stamp
    second = math.floor(moment)
    if moment - second > 0.999999:
        # Within a microsecond of the next second: `fromtimestamp` may round up.
        return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if _last_stamp[0] != second:
        text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        _last_stamp = (second, text)
    return _last_stamp[1]


def stamp(moment: datetime) -> str:
    """`api_time` of a datetime (as `format_time`, from the cache).

    A virtual clock hands out one datetime per instant, asked for several times per
    pod synced: the text of the last one asked about is kept with it (held, so its
    identity cannot pass to another datetime).
    """
    global _last_moment
    last = _last_moment
    if last[0] is moment:
        return last[1]
    text = api_time(moment.replace(microsecond=0).timestamp())
    _last_moment = (moment, text)
    return text


def terminated_state(status: RuntimeStatus, container_id: str) -> ContainerStateTerminated:
    signal = (
        status.exit_code - 128 if status.exit_code > 128 and status.reason != "Completed" else 0
    )
    return ContainerStateTerminated(
        exit_code=status.exit_code,
        signal=signal if status.reason != "OOMKilled" else 9,
        reason=status.reason or ("Completed" if status.exit_code == 0 else "Error"),
        message=status.message,
        started_at=api_time(status.started_at) if status.started_at else None,
        finished_at=api_time(status.finished_at) if status.finished_at else None,
        container_id=container_id,
    )


def container_status(
    name: str,
    image: str,
    runtime_kind: str,
    current: RuntimeStatus | None,
    *,
    restart_count: int,
    ready: bool,
    started: bool,
    waiting: tuple[str, str] | None,
    last_terminated: ContainerStateTerminated | None,
) -> ContainerStatus:
    """The status of one container as clients read it.

    `waiting` (reason, message) wins over what the runtime says: the kubelet is
    about to (re)start the container, or cannot ("CrashLoopBackOff",
    "ErrImagePull"); the last exit then shows as `lastState`.
    """
    container_id = f"{runtime_kind}://{current.id}" if current is not None else ""
    image_id = current.image_ref if current is not None else ""
    last = ContainerState(terminated=last_terminated) if last_terminated else ContainerState()
    if waiting is not None or current is None or current.state is RuntimeState.CREATED:
        reason, message = waiting if waiting is not None else ("ContainerCreating", "")
        if current is not None and current.state is RuntimeState.EXITED:
            last = ContainerState(terminated=terminated_state(current, container_id))
        state = ContainerState(waiting=ContainerStateWaiting(reason=reason, message=message))
        return ContainerStatus(
            name=name,
            ready=False,
            restart_count=restart_count,
            image=image,
            image_id=image_id,
            container_id=container_id,
            started=False,
            state=state,
            last_state=last,
        )
    if current.state is RuntimeState.RUNNING:
        started_at = api_time(current.started_at) if current.started_at else None
        state = ContainerState(running=ContainerStateRunning(started_at=started_at))
        return ContainerStatus(
            name=name,
            ready=ready,
            restart_count=restart_count,
            image=image,
            image_id=image_id,
            container_id=container_id,
            started=started,
            state=state,
            last_state=last,
        )
    return ContainerStatus(
        name=name,
        ready=False,
        restart_count=restart_count,
        image=image,
        image_id=image_id,
        container_id=container_id,
        started=False,
        state=ContainerState(terminated=terminated_state(current, container_id)),
        last_state=last,
    )


def _succeeded(status: ContainerStatus) -> bool:
    terminated = status.state.terminated
    return terminated is not None and terminated.exit_code == 0


def phase(
    spec: PodSpec,
    init_statuses: Sequence[ContainerStatus],
    statuses: Sequence[ContainerStatus],
) -> PodPhase:
    """The pod phase, by upstream's rules (kubelet getPhase).

    Pending while an init container has not succeeded or a container waits for
    its first start; Running while any runs or will be restarted; Succeeded when
    every container exited 0 and none will restart; Failed when one exited
    otherwise and none will restart (or an init container failed under Never).
    """
    policy = spec.restart_policy or "Always"
    for init in init_statuses:
        terminated = init.state.terminated
        if terminated is not None and terminated.exit_code != 0 and policy == "Never":
            return "Failed"
    if len(init_statuses) < len(spec.init_containers) or not all(
        _succeeded(init) for init in init_statuses
    ):
        return "Pending"
    running = waiting = stopped = succeeded = 0
    for status in statuses:
        if status.state.running is not None:
            running += 1
        elif status.state.terminated is not None:
            stopped += 1
            succeeded += status.state.terminated.exit_code == 0
        elif status.last_state.terminated is not None:
            stopped += 1
            succeeded += status.last_state.terminated.exit_code == 0
        else:
            waiting += 1
    waiting += len(spec.containers) - len(statuses)
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if policy == "Always":
        return "Running"
    if stopped == succeeded:
        return "Succeeded"
    return "Running" if policy == "OnFailure" else "Failed"


def conditions(
    spec: PodSpec,
    pod_phase: PodPhase,
    init_statuses: Sequence[ContainerStatus],
    statuses: Sequence[ContainerStatus],
    previous: Sequence[PodCondition],
    now: str,
) -> list[PodCondition]:
    """PodScheduled, Initialized, ContainersReady and Ready, with upstream's reasons.

    A condition keeps its `lastTransitionTime` while its status does not change; one
    that says what it said before is the previous one itself (most of a running
    pod's statuses change none of them).
    """
    before = {condition.type: condition for condition in previous}
    initialized = (
        not spec.init_containers
        if not init_statuses
        else len(init_statuses) == len(spec.init_containers)
        and all(_succeeded(init) for init in init_statuses)
    )
    ready_names = {s.name for s in statuses if s.ready}
    unready = [c.name for c in spec.containers if c.name not in ready_names]
    finished = pod_phase in ("Succeeded", "Failed")
    ready = not unready and not finished

    def condition(kind: str, holds: bool, reason: str = "", message: str = "") -> PodCondition:
        status: Literal["True", "False"] = "True" if holds else "False"
        if holds:
            reason = message = ""
        old = before.get(kind)
        if old is not None and old.status == status:
            if old.reason == reason and old.message == message and old.last_probe_time is None:
                return old
            since = old.last_transition_time
        else:
            since = now
        return PodCondition(
            type=kind, status=status, last_transition_time=since, reason=reason, message=message
        )

    if finished:
        not_ready_reason, not_ready_message = "PodCompleted", ""
    else:
        not_ready_reason = "ContainersNotReady"
        not_ready_message = f"containers with unready status: [{' '.join(unready)}]"
    if initialized:
        initialized_reason = initialized_message = ""
    else:
        incomplete = " ".join(s.name for s in init_statuses if not _succeeded(s))
        initialized_reason = "PodCompleted" if finished else "ContainersNotInitialized"
        initialized_message = f"containers with incomplete status: [{incomplete}]"
    return [
        condition("PodScheduled", True),
        condition("Initialized", initialized, initialized_reason, initialized_message),
        condition("ContainersReady", ready, not_ready_reason, not_ready_message),
        condition("Ready", ready, not_ready_reason, not_ready_message),
    ]
