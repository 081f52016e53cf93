"""apps/v1 ReplicaSet and Deployment, and autoscaling/v1 Scale (their `scale` subresource)."""

from __future__ import annotations

from typing import Literal

import msgspec

from ._base import IntOrString, WireStruct
from ._meta import ApiObject, LabelSelector, ObjectMeta
from ._pod import PodTemplateSpec

__all__ = [
    "Deployment",
    "DeploymentCondition",
    "DeploymentSpec",
    "DeploymentStatus",
    "DeploymentStrategy",
    "ReplicaSet",
    "ReplicaSetSpec",
    "ReplicaSetStatus",
    "RollingUpdateDeployment",
    "Scale",
    "ScaleSpec",
    "ScaleStatus",
]


class ReplicaSetSpec(WireStruct, frozen=True):
    replicas: int | None = None
    min_ready_seconds: int = 0
    selector: LabelSelector = msgspec.field(default_factory=LabelSelector)
    template: PodTemplateSpec = msgspec.field(default_factory=PodTemplateSpec)


class ReplicaSetStatus(WireStruct, frozen=True):
    replicas: int = 0
    fully_labeled_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    observed_generation: int = 0


class ReplicaSet(ApiObject, frozen=True):
    api_version: str = "apps/v1"
    kind: str = "ReplicaSet"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ReplicaSetSpec = msgspec.field(default_factory=ReplicaSetSpec)
    status: ReplicaSetStatus = msgspec.field(default_factory=ReplicaSetStatus)


class RollingUpdateDeployment(WireStruct, frozen=True):
    """How far a rollout may go above (`maxSurge`) or below (`maxUnavailable`) the
    desired count: a number of pods, or a percentage such as "25%"."""

    max_unavailable: IntOrString | None = None
    max_surge: IntOrString | None = None


class DeploymentStrategy(WireStruct, frozen=True):
    type: Literal["", "RollingUpdate", "Recreate"] = ""
    rolling_update: RollingUpdateDeployment | None = None


class DeploymentSpec(WireStruct, frozen=True):
    replicas: int | None = None
    selector: LabelSelector = msgspec.field(default_factory=LabelSelector)
    template: PodTemplateSpec = msgspec.field(default_factory=PodTemplateSpec)
    strategy: DeploymentStrategy = msgspec.field(default_factory=DeploymentStrategy)
    min_ready_seconds: int = 0
    revision_history_limit: int | None = None
    paused: bool = False
    progress_deadline_seconds: int | None = None


class DeploymentCondition(WireStruct, frozen=True):
    type: str
    status: Literal["True", "False", "Unknown"]
    last_update_time: str | None = None
    last_transition_time: str | None = None
    reason: str = ""
    message: str = ""


class DeploymentStatus(WireStruct, frozen=True):
    observed_generation: int = 0
    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0
    conditions: list[DeploymentCondition] = msgspec.field(default_factory=list)
    collision_count: int | None = None


class Deployment(ApiObject, frozen=True):
    api_version: str = "apps/v1"
    kind: str = "Deployment"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: DeploymentSpec = msgspec.field(default_factory=DeploymentSpec)
    status: DeploymentStatus = msgspec.field(default_factory=DeploymentStatus)


class ScaleSpec(WireStruct, frozen=True):
    replicas: int = 0


class ScaleStatus(WireStruct, frozen=True):
    replicas: int = 0
    selector: str = ""


class Scale(ApiObject, frozen=True):
    """autoscaling/v1 Scale: the `scale` subresource of Deployments, ReplicaSets and RCs."""

    api_version: str = "autoscaling/v1"
    kind: str = "Scale"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ScaleSpec = msgspec.field(default_factory=ScaleSpec)
    status: ScaleStatus = msgspec.field(default_factory=ScaleStatus)
