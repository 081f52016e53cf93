"""policy/v1 PodDisruptionBudget and Eviction: how many of a set of pods voluntary
disruptions (a drain, an eviction) may take down at once."""

from __future__ import annotations

from typing import Literal

import msgspec

from ._base import IntOrString, WireStruct
from ._meta import ApiObject, LabelSelector, ObjectMeta

__all__ = [
    "DeleteOptions",
    "Eviction",
    "PodDisruptionBudget",
    "PodDisruptionBudgetCondition",
    "PodDisruptionBudgetSpec",
    "PodDisruptionBudgetStatus",
    "Preconditions",
]


class PodDisruptionBudgetSpec(WireStruct, frozen=True):
    """At least `minAvailable` or at most `maxUnavailable` of the pods `selector` picks
    (a number, or a percentage such as "50%"); one of the two, not both."""

    min_available: IntOrString | None = None
    max_unavailable: IntOrString | None = None
    selector: LabelSelector | None = None
    unhealthy_pod_eviction_policy: Literal["", "IfHealthyBudget", "AlwaysAllow"] = ""


class PodDisruptionBudgetCondition(WireStruct, frozen=True):
    type: str
    status: Literal["True", "False", "Unknown"]
    reason: str = ""
    message: str = ""
    last_transition_time: str | None = None
    observed_generation: int = 0


class PodDisruptionBudgetStatus(WireStruct, frozen=True):
    observed_generation: int = 0
    disrupted_pods: dict[str, str] = msgspec.field(default_factory=dict)
    disruptions_allowed: int = 0
    current_healthy: int = 0
    desired_healthy: int = 0
    expected_pods: int = 0
    conditions: list[PodDisruptionBudgetCondition] = msgspec.field(default_factory=list)


class PodDisruptionBudget(ApiObject, frozen=True):
    api_version: str = "policy/v1"
    kind: str = "PodDisruptionBudget"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: PodDisruptionBudgetSpec = msgspec.field(default_factory=PodDisruptionBudgetSpec)
    status: PodDisruptionBudgetStatus = msgspec.field(default_factory=PodDisruptionBudgetStatus)


class Preconditions(WireStruct, frozen=True):
    uid: str | None = None
    resource_version: str | None = None


class DeleteOptions(WireStruct, frozen=True):
    """meta/v1 DeleteOptions, as an Eviction carries them."""

    grace_period_seconds: int | None = None
    preconditions: Preconditions | None = None
    propagation_policy: str | None = None
    dry_run: list[str] = msgspec.field(default_factory=list)


class Eviction(ApiObject, frozen=True):
    """What is POSTed to `pods/<name>/eviction`: delete the pod if its budget allows."""

    api_version: str = "policy/v1"
    kind: str = "Eviction"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    delete_options: DeleteOptions | None = None
