"""The arithmetic of Deployment rollouts, as upstream's deployment util: pod-template
hashes, maxSurge/maxUnavailable fenceposts, and proportional scaling."""

from __future__ import annotations

import math

import msgspec

from ..api import Deployment, IntOrString, PodTemplateSpec, ReplicaSet

__all__ = [
    "DESIRED_REPLICAS_ANNOTATION",
    "HASH_LABEL",
    "MAX_REPLICAS_ANNOTATION",
    "REVISION_ANNOTATION",
    "desired_replicas",
    "max_surge_and_unavailable",
    "new_replica_set_replicas",
    "proportional_shares",
    "resolve_int_or_percent",
    "revision_of",
    "template_hash",
    "templates_equal_ignoring_hash",
]

HASH_LABEL = "pod-template-hash"
REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas"

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


def template_hash(template: PodTemplateSpec, collision_count: int | None = None) -> str:
    """A short stable name for a pod template: FNV-1a over its canonical JSON."""
    data = msgspec.json.encode(template, order="sorted")
    if collision_count:
        data += str(collision_count).encode()
    value = _FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return "".join(_SAFE_ALPHABET[ord(char) % len(_SAFE_ALPHABET)] for char in str(value))


def _without_hash(template: PodTemplateSpec) -> PodTemplateSpec:
    labels = {k: v for k, v in template.metadata.labels.items() if k != HASH_LABEL}
    return msgspec.structs.replace(
        template, metadata=msgspec.structs.replace(template.metadata, labels=labels)
    )


def templates_equal_ignoring_hash(a: PodTemplateSpec, b: PodTemplateSpec) -> bool:
    return _without_hash(a) == _without_hash(b)


def desired_replicas(deployment: Deployment) -> int:
    return 1 if deployment.spec.replicas is None else deployment.spec.replicas


def revision_of(replica_set: ReplicaSet) -> int:
    try:
        return int(replica_set.metadata.annotations.get(REVISION_ANNOTATION, "0"))
    except ValueError:
        return 0


def resolve_int_or_percent(value: IntOrString, total: int, *, round_up: bool) -> int:
    """A count, or a percentage of `total` rounded up (surge) or down (unavailable)."""
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text.endswith("%"):
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"invalid value {value!r}: not an integer or a percentage") from None
    try:
        percent = int(text[:-1])
    except ValueError:
        raise ValueError(f"invalid value {value!r}: not an integer or a percentage") from None
    scaled = percent * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def max_surge_and_unavailable(deployment: Deployment) -> tuple[int, int]:
    """Resolved (maxSurge, maxUnavailable); never both zero (upstream's fenceposts)."""
    strategy = deployment.spec.strategy
    if strategy.type == "Recreate":
        return 0, 0
    rolling = strategy.rolling_update
    surge_value: IntOrString = "25%"
    unavailable_value: IntOrString = "25%"
    if rolling is not None:
        if rolling.max_surge is not None:
            surge_value = rolling.max_surge
        if rolling.max_unavailable is not None:
            unavailable_value = rolling.max_unavailable
    desired = desired_replicas(deployment)
    surge = resolve_int_or_percent(surge_value, desired, round_up=True)
    unavailable = resolve_int_or_percent(unavailable_value, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def new_replica_set_replicas(deployment: Deployment, current_total: int, new_replicas: int) -> int:
    """How far a rolling update may scale the new ReplicaSet up now.

    `current_total` is every pod the deployment's ReplicaSets may have (the larger of
    their specs' sum and the pods that exist), so the total never passes
    `replicas + maxSurge`.
    """
    desired = desired_replicas(deployment)
    surge, _ = max_surge_and_unavailable(deployment)
    if new_replicas >= desired:
        return desired
    room = desired + surge - current_total
    if room <= 0:
        return new_replicas
    return new_replicas + min(room, desired - new_replicas)


def _fraction(replica_set: ReplicaSet, allowed: int, fallback: int) -> int:
    replicas = replica_set.spec.replicas or 0
    if allowed == 0:
        return -replicas
    try:
        annotated = int(replica_set.metadata.annotations.get(MAX_REPLICAS_ANNOTATION, ""))
    except ValueError:
        annotated = fallback
    if annotated <= 0:
        annotated = fallback or 1
    return round(replicas * allowed / annotated) - replicas


def proportional_shares(
    replica_sets: list[ReplicaSet], allowed: int, previous_allowed: int
) -> list[int]:
    """New replica counts for `replica_sets` when the deployment's allowed size (replicas
    + maxSurge) changes: each keeps its share of the total (upstream's proportional
    scaling); what rounding leaves over goes to the largest."""
    current = [rs.spec.replicas or 0 for rs in replica_sets]
    to_add = allowed - sum(current)
    if to_add == 0 or not replica_sets:
        return current
    # Largest first when growing, so the leftover goes to the biggest; newest first ties.
    order = sorted(
        range(len(replica_sets)),
        key=lambda i: (-current[i], -(revision_of(replica_sets[i]))),
    )
    added = 0
    result = list(current)
    for index in order:
        share = _fraction(replica_sets[index], allowed, previous_allowed)
        left = to_add - added
        share = min(share, left) if to_add > 0 else max(share, left)
        share = max(share, -result[index])
        result[index] += share
        added += share
    if added != to_add:
        first = order[0]
        result[first] = max(0, result[first] + to_add - added)
    return result
