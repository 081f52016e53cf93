"""Facts about pods that several controllers need: readiness, availability, owners,
and upstream's ranking of which pods to delete first."""

from __future__ import annotations

from datetime import UTC, datetime

from ..api import ApiObject, OwnerReference, Pod
from ._time import parse_time

__all__ = [
    "DELETION_COST_ANNOTATION",
    "controller_of",
    "deletion_order",
    "is_active",
    "is_available",
    "is_ready",
    "owner_reference",
    "pod_key",
    "ready_since",
]

DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"

_EPOCH = datetime.fromtimestamp(0, UTC)
_PHASE_RANK = {"Pending": 0, "": 0, "Unknown": 1, "Running": 2}


def pod_key(pod: Pod) -> str:
    return f"{pod.metadata.namespace}/{pod.metadata.name}"


def controller_of(obj: ApiObject) -> OwnerReference | None:
    """The owner reference marked `controller: true`, if any."""
    for reference in obj.metadata.owner_references:
        if reference.controller:
            return reference
    return None


def owner_reference(owner: ApiObject) -> OwnerReference:
    """A controller reference to `owner`, blocking its foreground deletion."""
    return OwnerReference(
        api_version=owner.api_version,
        kind=owner.kind,
        name=owner.metadata.name,
        uid=owner.metadata.uid,
        controller=True,
        block_owner_deletion=True,
    )


def is_active(pod: Pod) -> bool:
    """Counts toward replicas: not finished and not being deleted."""
    finished = pod.status.phase in ("Succeeded", "Failed")
    return not finished and pod.metadata.deletion_timestamp is None


def is_ready(pod: Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


def ready_since(pod: Pod) -> datetime | None:
    """When the pod last became Ready (None if it is not ready)."""
    for condition in pod.status.conditions:
        if condition.type == "Ready":
            if condition.status != "True":
                return None
            return parse_time(condition.last_transition_time) or _EPOCH
    return None


def is_available(pod: Pod, min_ready_seconds: int, now: datetime) -> bool:
    """Ready, and for at least `min_ready_seconds` (upstream's IsPodAvailable)."""
    if min_ready_seconds <= 0:
        return is_ready(pod)  # no timestamp to parse: the common case, kept cheap
    since = ready_since(pod)
    if since is None:
        return False
    return (now - since).total_seconds() >= min_ready_seconds


def _restarts(pod: Pod) -> int:
    return max((status.restart_count for status in pod.status.container_statuses), default=0)


def _deletion_cost(pod: Pod) -> int:
    text = pod.metadata.annotations.get(DELETION_COST_ANNOTATION)
    if text is None:
        return 0
    try:
        return int(text)
    except ValueError:
        return 0


def _timestamp(text: str | None) -> float:
    moment = parse_time(text)
    return 0.0 if moment is None else moment.timestamp()


def deletion_order(pods: list[Pod], colocated: dict[str, int] | None = None) -> list[Pod]:
    """`pods` ordered so that the first should be deleted first, as upstream ranks them.

    Unscheduled before scheduled; Pending before Unknown before Running; not ready
    before ready; lower `pod-deletion-cost` first; more replicas of the same owner on
    its node (`colocated`, by node name) first; ready for a shorter time first; more
    restarts first; newer first.
    """
    ranks = colocated or {}

    def key(pod: Pod) -> tuple[int, int, int, int, int, float, int, float]:
        since = ready_since(pod)
        return (
            1 if pod.spec.node_name else 0,
            _PHASE_RANK.get(pod.status.phase, 3),
            0 if since is None else 1,
            _deletion_cost(pod),
            -ranks.get(pod.spec.node_name, 0),
            -(since.timestamp() if since is not None else 0.0),
            -_restarts(pod),
            -_timestamp(pod.metadata.creation_timestamp),
        )

    return sorted(pods, key=key)
