"""Checkers of controllers and watches: workloads converge, watch streams miss nothing.

Unlike the placement checkers, convergence is not true at every moment: a
ReplicaSet is short of pods between a deletion and its controller's reaction. The
`CONVERGENCE_CHECKERS` hold once the cluster has been left alone long enough
(`ClusterMachine` gives it time before asking them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..api import ApiObject, Pod, WatchEvent, object_key
from ._state import TERMINAL, Checker, ClusterState, Violation

__all__ = [
    "CONVERGENCE_CHECKERS",
    "deployments_converged",
    "replica_sets_converged",
    "watch_stream_violations",
]


def _controller_uid(obj: ApiObject) -> str | None:
    for owner in obj.metadata.owner_references:
        if owner.controller:
            return owner.uid
    return None


def _active_pods_by_owner(pods: Sequence[Pod]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for pod in pods:
        owner = _controller_uid(pod)
        active = pod.metadata.deletion_timestamp is None and pod.status.phase not in TERMINAL
        if owner is not None and active:
            counts[owner] += 1
    return counts


def replica_sets_converged(state: ClusterState) -> list[Violation]:
    """Each ReplicaSet (not being deleted) has as many active pods as it wants, and says so."""
    active = _active_pods_by_owner(state.pods)
    violations = []
    for replica_set in state.replica_sets:
        meta = replica_set.metadata
        if meta.deletion_timestamp is not None:
            continue
        key = object_key(replica_set)
        wanted = 1 if replica_set.spec.replicas is None else replica_set.spec.replicas
        has, reported = active.get(meta.uid, 0), replica_set.status.replicas
        if has != wanted or reported != wanted:
            violations.append(
                Violation(
                    "replica_sets_converged",
                    key,
                    f"ReplicaSet {key} wants {wanted} replicas, has {has} active pods and "
                    f"reports {reported}",
                )
            )
    return violations


def deployments_converged(state: ClusterState) -> list[Violation]:
    """Each Deployment (not being deleted) has, over its ReplicaSets, as many active pods
    as it wants, has observed its latest spec and reports that count."""
    active = _active_pods_by_owner(state.pods)
    owned: dict[str, list[str]] = defaultdict(list)
    for replica_set in state.replica_sets:
        owner = _controller_uid(replica_set)
        if owner is not None:
            owned[owner].append(replica_set.metadata.uid)
    violations = []
    for deployment in state.deployments:
        meta = deployment.metadata
        if meta.deletion_timestamp is not None:
            continue
        key = object_key(deployment)
        wanted = 1 if deployment.spec.replicas is None else deployment.spec.replicas
        has = sum(active.get(uid, 0) for uid in owned.get(meta.uid, ()))
        status = deployment.status
        if (
            has != wanted
            or status.replicas != wanted
            or status.observed_generation < (meta.generation)
        ):
            violations.append(
                Violation(
                    "deployments_converged",
                    key,
                    f"Deployment {key} (generation {meta.generation}) wants {wanted} "
                    f"replicas, has {has} active pods; its status reports {status.replicas} "
                    f"at generation {status.observed_generation}",
                )
            )
    return violations


CONVERGENCE_CHECKERS: tuple[Checker, ...] = (replica_sets_converged, deployments_converged)
"""The checkers that hold once controllers have had time to act."""


def _revision(event: WatchEvent[Any]) -> int:
    return int(event.object.metadata.resource_version or 0)


def watch_stream_violations(
    seen: Sequence[WatchEvent[Any]], history: Sequence[WatchEvent[Any]]
) -> list[Violation]:
    """What a live watch got wrong, against the history of the same kind and range.

    `seen` is what a watch delivered; `history` the writes from the same starting
    revision, read afterwards (a fresh watch replaying them). The live stream must be
    in strictly increasing revision order and hold exactly the history's events (type,
    object, revision) up to the last revision it delivered: none missing, none extra.
    """
    events = [event for event in seen if event.type != "BOOKMARK"]
    violations = []
    previous = 0
    for event in events:
        revision = _revision(event)
        if revision <= previous:
            violations.append(
                Violation(
                    "watch_stream_ordered",
                    object_key(event.object),
                    f"watch delivered {event.type} {object_key(event.object)} at revision "
                    f"{revision} after revision {previous}",
                )
            )
        previous = max(previous, revision)
    last = max((_revision(event) for event in events), default=0)

    def entry(event: WatchEvent[Any]) -> tuple[int, str, str]:
        return (_revision(event), event.type, object_key(event.object))

    delivered = {entry(event) for event in events}
    expected = {entry(event) for event in history if event.type != "BOOKMARK"}
    expected = {item for item in expected if item[0] <= last}
    for revision, kind, key in sorted(expected - delivered):
        violations.append(
            Violation(
                "watch_stream_complete",
                key,
                f"watch missed {kind} {key} at revision {revision} (delivered up to {last})",
            )
        )
    for revision, kind, key in sorted(delivered - expected):
        violations.append(
            Violation(
                "watch_stream_complete",
                key,
                f"watch delivered {kind} {key} at revision {revision}, which the history "
                f"does not hold",
            )
        )
    return violations
