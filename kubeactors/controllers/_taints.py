"""Taints and tolerations as the node lifecycle controller reads them."""

from __future__ import annotations

from ..api import Pod, Taint, Toleration

__all__ = [
    "NOT_READY",
    "UNREACHABLE",
    "eviction_delay",
    "tolerates",
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


def eviction_delay(pod: Pod, taints: list[Taint], default_seconds: int | None) -> float | None:
    """Seconds after the taints were added that `pod` must go; None: it may stay.

    A NoExecute taint the pod does not tolerate evicts it at once (0). Otherwise the
    smallest `tolerationSeconds` of the tolerations in play applies; a toleration
    without one tolerates for ever. A pod with no toleration at all for the
    not-ready or unreachable taint gets `default_seconds` (upstream's
    DefaultTolerationSeconds admission adds that toleration at creation).
    """
    shortest: float | None = None
    for taint in taints:
        if taint.effect != "NoExecute":
            continue
        matching = [t for t in pod.spec.tolerations if tolerates(t, taint)]
        if not matching:
            if taint.key in (NOT_READY, UNREACHABLE) and default_seconds is not None:
                seconds: float | None = float(default_seconds)
            else:
                return 0.0
        else:
            limits = [t.toleration_seconds for t in matching if t.toleration_seconds is not None]
            seconds = float(max(0, min(limits))) if limits else None
        if seconds is not None and (shortest is None or seconds < shortest):
            shortest = seconds
    return shortest
