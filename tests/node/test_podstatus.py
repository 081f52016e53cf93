"""Pod status helpers: timestamps as Kubernetes writes them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from kubeactors.api import (
    Container,
    ContainerState,
    ContainerStateTerminated,
    ContainerStatus,
    PodCondition,
    PodPhase,
    PodSpec,
    format_time,
)
from kubeactors.node._podstatus import api_time, conditions, stamp

_MOMENTS = st.floats(min_value=0, max_value=4e9, allow_nan=False)


@given(st.lists(_MOMENTS, min_size=1, max_size=20))
def test_cached_timestamps_match_formatting_each_time(moments: list[float]) -> None:
    # In any order (the cache keeps one second): the same text as formatting anew.
    for moment in moments:
        expected = datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert api_time(moment) == expected
        wall = datetime.fromtimestamp(moment, UTC)
        assert stamp(wall) == format_time(wall)
        assert stamp(wall.replace(microsecond=999_999)) == format_time(wall)


def test_a_datetime_asked_about_again_gets_its_own_text() -> None:
    # The last datetime's text is kept by identity: another one is formatted anew.
    first = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    second = datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC)
    for moment in (first, first, second, first, second, second):
        assert stamp(moment) == format_time(moment)


def _reference_conditions(
    spec: PodSpec,
    pod_phase: PodPhase,
    init_statuses: list[ContainerStatus],
    statuses: list[ContainerStatus],
    previous: list[PodCondition],
    now: str,
) -> list[PodCondition]:
    """The conditions as first written: each one built afresh."""
    before = {condition.type: condition for condition in previous}

    def succeeded(status: ContainerStatus) -> bool:
        terminated = status.state.terminated
        return terminated is not None and terminated.exit_code == 0

    initialized = len(init_statuses) == len(spec.init_containers) and all(
        succeeded(init) for init in init_statuses
    )
    incomplete = [s.name for s in init_statuses if not succeeded(s)]
    unready = [
        c.name for c in spec.containers if not any(s.name == c.name and s.ready for s in statuses)
    ]
    finished = pod_phase in ("Succeeded", "Failed")
    ready = not unready and not finished

    def condition(kind: str, holds: bool, reason: str = "", message: str = "") -> PodCondition:
        status: Literal["True", "False"] = "True" if holds else "False"
        old = before.get(kind)
        since = old.last_transition_time if old is not None and old.status == status else now
        return PodCondition(
            type=kind,
            status=status,
            last_transition_time=since,
            reason="" if holds else reason,
            message="" if holds else message,
        )

    names = " ".join(unready)
    not_ready_reason = "PodCompleted" if finished else "ContainersNotReady"
    not_ready_message = "" if finished else f"containers with unready status: [{names}]"
    return [
        condition("PodScheduled", True),
        condition(
            "Initialized",
            initialized,
            "PodCompleted" if finished else "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(incomplete)}]",
        ),
        condition("ContainersReady", ready, not_ready_reason, not_ready_message),
        condition("Ready", ready, not_ready_reason, not_ready_message),
    ]


_NAMES = st.sampled_from(["a", "b", "c"])


@st.composite
def _container_statuses(draw: st.DrawFn) -> ContainerStatus:
    exit_code = draw(st.none() | st.integers(0, 2))
    state = (
        ContainerState()
        if exit_code is None
        else ContainerState(terminated=ContainerStateTerminated(exit_code=exit_code))
    )
    return ContainerStatus(name=draw(_NAMES), ready=draw(st.booleans()), state=state)


# Mostly what the kubelet writes (so that some say again what they said), some not.
_CONDITIONS = st.builds(
    PodCondition,
    type=st.sampled_from(["PodScheduled", "Initialized", "ContainersReady", "Ready", "Other"]),
    status=st.sampled_from(["True", "False"]),
    last_probe_time=st.none() | st.just("t0"),
    last_transition_time=st.none() | st.sampled_from(["t0", "t1"]),
    reason=st.sampled_from(["", "", "ContainersNotReady", "PodCompleted"]),
    message=st.sampled_from(["", "", "containers with unready status: [a]"]),
)


@settings(max_examples=300)
@given(
    containers=st.lists(_NAMES, min_size=1, max_size=3, unique=True),
    inits=st.lists(_NAMES, max_size=2, unique=True),
    pod_phase=st.sampled_from(["Pending", "Running", "Succeeded", "Failed"]),
    init_statuses=st.lists(_container_statuses(), max_size=2),
    statuses=st.lists(_container_statuses(), max_size=3),
    previous=st.lists(_CONDITIONS, max_size=5),
)
def test_conditions_equal_the_ones_built_afresh(
    containers: list[str],
    inits: list[str],
    pod_phase: PodPhase,
    init_statuses: list[ContainerStatus],
    statuses: list[ContainerStatus],
    previous: list[PodCondition],
) -> None:
    # Previous conditions are reused when they say the same: the result must equal
    # what building each afresh gives, field by field.
    spec = PodSpec(
        containers=[Container(name=name) for name in containers],
        init_containers=[Container(name=name) for name in inits],
    )
    args = (spec, pod_phase, init_statuses, statuses, previous, "t2")
    assert conditions(*args) == _reference_conditions(*args)
