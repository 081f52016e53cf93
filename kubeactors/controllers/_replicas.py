"""How the ReplicaSet engine reads and writes ReplicaSets and ReplicationControllers.

The two kinds differ only in where their selector, template and status live, so one
engine serves both through a `ReplicaKind`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from ..api import (
    ApiObject,
    LabelSelector,
    PodTemplateSpec,
    ReplicaSet,
    ReplicaSetStatus,
    ReplicationController,
    ReplicationControllerStatus,
)
from ._labels import selector_from_labels

__all__ = ["REPLICATION_CONTROLLERS", "REPLICA_SETS", "ReplicaCounts", "ReplicaKind"]

W = TypeVar("W", bound=ApiObject)


class ReplicaCounts(msgspec.Struct, frozen=True):
    """The status fields both kinds share."""

    replicas: int = 0
    fully_labeled_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    observed_generation: int = 0


@dataclass(frozen=True)
class ReplicaKind(Generic[W]):
    type: type[W]
    replicas: Callable[[W], int]
    selector: Callable[[W], LabelSelector]
    template: Callable[[W], PodTemplateSpec | None]
    min_ready_seconds: Callable[[W], int]
    counts: Callable[[W], ReplicaCounts]
    with_counts: Callable[[W, ReplicaCounts], W]


def _rs_with(obj: ReplicaSet, counts: ReplicaCounts) -> ReplicaSet:
    return msgspec.structs.replace(obj, status=ReplicaSetStatus(**msgspec.structs.asdict(counts)))


def _rc_with(obj: ReplicationController, counts: ReplicaCounts) -> ReplicationController:
    status = ReplicationControllerStatus(**msgspec.structs.asdict(counts))
    return msgspec.structs.replace(obj, status=status)


def _counts(status: Any) -> ReplicaCounts:
    return ReplicaCounts(
        replicas=status.replicas,
        fully_labeled_replicas=status.fully_labeled_replicas,
        ready_replicas=status.ready_replicas,
        available_replicas=status.available_replicas,
        observed_generation=status.observed_generation,
    )


REPLICA_SETS: ReplicaKind[ReplicaSet] = ReplicaKind(
    type=ReplicaSet,
    replicas=lambda rs: 1 if rs.spec.replicas is None else rs.spec.replicas,
    selector=lambda rs: rs.spec.selector,
    template=lambda rs: rs.spec.template,
    min_ready_seconds=lambda rs: rs.spec.min_ready_seconds,
    counts=lambda rs: _counts(rs.status),
    with_counts=_rs_with,
)

REPLICATION_CONTROLLERS: ReplicaKind[ReplicationController] = ReplicaKind(
    type=ReplicationController,
    replicas=lambda rc: 1 if rc.spec.replicas is None else rc.spec.replicas,
    selector=lambda rc: selector_from_labels(
        rc.spec.selector
        or (rc.spec.template.metadata.labels if rc.spec.template is not None else {})
    ),
    template=lambda rc: rc.spec.template,
    min_ready_seconds=lambda rc: rc.spec.min_ready_seconds,
    counts=lambda rc: _counts(rc.status),
    with_counts=_rc_with,
)
