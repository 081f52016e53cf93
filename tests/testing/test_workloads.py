"""Convergence and watch checkers: hand-built states and streams, good and broken."""

from __future__ import annotations

from typing import Literal

from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    Deployment,
    DeploymentSpec,
    DeploymentStatus,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodStatus,
    ReplicaSet,
    ReplicaSetSpec,
    ReplicaSetStatus,
    WatchEvent,
)
from kubeactors.testing import (
    ClusterState,
    deployments_converged,
    replica_sets_converged,
    watch_stream_violations,
)


def owned(uid: str, kind: str = "ReplicaSet") -> list[OwnerReference]:
    return [OwnerReference(api_version="apps/v1", kind=kind, name=uid, uid=uid, controller=True)]


def pod(
    name: str,
    owner: str,
    phase: Literal["Running", "Failed"] = "Running",
    terminating: bool = False,
) -> Pod:
    meta = ObjectMeta(
        name=name,
        namespace="default",
        owner_references=owned(owner),
        deletion_timestamp="2026-01-01T00:00:00Z" if terminating else None,
    )
    return Pod(metadata=meta, status=PodStatus(phase=phase))


def replica_set(uid: str, wanted: int, reported: int, deployment: str = "d") -> ReplicaSet:
    return ReplicaSet(
        metadata=ObjectMeta(
            name=uid, namespace="default", uid=uid, owner_references=owned(deployment, "Deployment")
        ),
        spec=ReplicaSetSpec(replicas=wanted),
        status=ReplicaSetStatus(replicas=reported),
    )


def deployment(wanted: int, reported: int, generation: int = 1, observed: int = 1) -> Deployment:
    return Deployment(
        metadata=ObjectMeta(name="web", namespace="default", uid="d", generation=generation),
        spec=DeploymentSpec(replicas=wanted),
        status=DeploymentStatus(replicas=reported, observed_generation=observed),
    )


def test_a_replica_set_converges_when_its_active_pods_and_status_match_its_spec() -> None:
    pods = [pod("a", "rs"), pod("b", "rs"), pod("c", "rs", terminating=True)]
    pods.append(pod("d", "rs", phase="Failed"))
    state = ClusterState([], pods, replica_sets=[replica_set("rs", 2, 2)])
    assert replica_sets_converged(state) == []
    short = ClusterState([], pods[1:], replica_sets=[replica_set("rs", 2, 2)])
    (violation,) = replica_sets_converged(short)
    assert (
        violation.message
        == "ReplicaSet default/rs wants 2 replicas, has 1 active pods and reports 2"
    )
    stale = ClusterState([], pods, replica_sets=[replica_set("rs", 2, 3)])
    assert [v.subject for v in replica_sets_converged(stale)] == ["default/rs"]


def test_a_deployment_counts_pods_over_all_its_replica_sets() -> None:
    pods = [pod("a", "old"), pod("b", "new"), pod("c", "new")]
    sets = [replica_set("old", 1, 1), replica_set("new", 2, 2), replica_set("stray", 5, 5, "x")]
    assert (
        deployments_converged(
            ClusterState([], pods, replica_sets=sets, deployments=[deployment(3, 3)])
        )
        == []
    )
    (violation,) = deployments_converged(
        ClusterState([], pods, replica_sets=sets, deployments=[deployment(4, 3)])
    )
    assert "wants 4 replicas, has 3 active pods" in violation.message
    unobserved = deployment(3, 3, generation=2, observed=1)
    assert deployments_converged(
        ClusterState([], pods, replica_sets=sets, deployments=[unobserved])
    )


def event(kind: str, name: str, revision: int) -> WatchEvent[Pod]:
    meta = ObjectMeta(name=name, namespace="default", resource_version=str(revision))
    return WatchEvent(type=kind, object=Pod(metadata=meta))  # type: ignore[arg-type]


HISTORY = [
    event("ADDED", "a", 5),
    event("ADDED", "b", 6),
    event("MODIFIED", "a", 8),
    event("DELETED", "b", 9),
]


@given(st.integers(0, len(HISTORY)))
def test_a_prefix_of_the_history_is_a_sound_watch(length: int) -> None:
    assert watch_stream_violations(HISTORY[:length], HISTORY) == []


@given(st.integers(0, len(HISTORY) - 2))
def test_a_dropped_event_is_reported_as_missed(dropped: int) -> None:
    seen = HISTORY[:dropped] + HISTORY[dropped + 1 :]
    (violation,) = watch_stream_violations(seen, HISTORY)
    assert violation.invariant == "watch_stream_complete"
    assert violation.message.startswith(f"watch missed {HISTORY[dropped].type}")


def test_reordered_and_invented_events_are_reported() -> None:
    swapped = [HISTORY[1], HISTORY[0], *HISTORY[2:]]
    assert [v.invariant for v in watch_stream_violations(swapped, HISTORY)] == [
        "watch_stream_ordered"
    ]
    invented = [*HISTORY[:2], event("MODIFIED", "b", 7), *HISTORY[2:]]
    (violation,) = watch_stream_violations(invented, HISTORY)
    assert "which the history does not hold" in violation.message
