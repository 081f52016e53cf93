"""Taints and tolerations as the node lifecycle controller reads them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from ..api import Pod, Taint, Toleration

__all__ = [
    "NOT_READY",
    "UNREACHABLE",
    "eviction_delay",
    "eviction_due",
    "tolerates",
    "toleration_limit",
]

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


def tolerates(toleration: Toleration, taint: Taint) -> bool:
    """Does `toleration` tolerate `taint` (upstream's ToleratesTaint)?"""
    if toleration.effect and toleration.effect != taint.effect:
        return False
    if toleration.key and toleration.key != taint.key:
        return False
    if toleration.operator == "Exists":
        return True
    if not toleration.key:
        return False  # an empty key needs operator Exists
    return toleration.value == taint.value


def toleration_limit(pod: Pod, taint: Taint, default_seconds: int | None) -> float | None:
    """How long `pod` may stay once the NoExecute `taint` is on its node: 0 (go at
    once), the smallest `tolerationSeconds` of the tolerations that match, or None
    (a matching toleration without one tolerates for ever).

    A pod with no toleration at all for the not-ready or unreachable taint gets
    `default_seconds` (upstream's DefaultTolerationSeconds admission adds that
    toleration at creation).
    """
    matching = [t for t in pod.spec.tolerations if tolerates(t, taint)]
    if not matching:
        if taint.key in (NOT_READY, UNREACHABLE) and default_seconds is not None:
            return float(default_seconds)
        return 0.0
    limits = [t.toleration_seconds for t in matching if t.toleration_seconds is not None]
    return float(max(0, min(limits))) if limits else None


def eviction_delay(pod: Pod, taints: list[Taint], default_seconds: int | None) -> float | None:
    """Seconds after the taints were added that `pod` must go; None: it may stay.

    The shortest `toleration_limit` of the NoExecute taints among `taints`.
    """
    limits = [
        toleration_limit(pod, taint, default_seconds)
        for taint in taints
        if taint.effect == "NoExecute"
    ]
    finite = [limit for limit in limits if limit is not None]
    return min(finite) if finite else None


def eviction_due(
    pod: Pod,
    taints: list[Taint],
    default_seconds: int | None,
    added: Callable[[Taint], datetime],
) -> datetime | None:
    """When `pod` must leave a node with `taints`: for each NoExecute taint, the time
    it was `added` plus how long the pod tolerates it; the earliest. None: never."""
    due: datetime | None = None
    for taint in taints:
        if taint.effect != "NoExecute":
            continue
        limit = toleration_limit(pod, taint, default_seconds)
        if limit is None:
            continue
        moment = added(taint) + timedelta(seconds=limit)
        if due is None or moment < due:
            due = moment
    return due
