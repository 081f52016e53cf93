"""Builders for the objects controller tests create."""

from __future__ import annotations

import msgspec

from kubeactors.api import (
    ApiError,
    Container,
    LabelSelector,
    ObjectMeta,
    Pod,
    PodCondition,
    PodSpec,
    PodStatus,
    PodTemplateSpec,
    ReplicaSet,
    ReplicaSetSpec,
    ResourceRequirements,
)
from kubeactors.client import Client

LABELS = {"app": "web"}


def template(labels: dict[str, str] | None = None) -> PodTemplateSpec:
    container = Container(
        name="app",
        image="busybox",
        resources=ResourceRequirements(requests={"cpu": "10m", "memory": "16Mi"}),
    )
    return PodTemplateSpec(
        metadata=ObjectMeta(labels=dict(labels or LABELS)), spec=PodSpec(containers=[container])
    )


def replica_set(name: str, replicas: int, *, min_ready_seconds: int = 0) -> ReplicaSet:
    return ReplicaSet(
        metadata=ObjectMeta(name=name, namespace="default"),
        spec=ReplicaSetSpec(
            replicas=replicas,
            min_ready_seconds=min_ready_seconds,
            selector=LabelSelector(match_labels=dict(LABELS)),
            template=template(),
        ),
    )


def with_replicas(obj: ReplicaSet, replicas: int) -> ReplicaSet:
    return msgspec.structs.replace(obj, spec=msgspec.structs.replace(obj.spec, replicas=replicas))


def running(pod: Pod, *, node: str = "n1", ready: bool = True, since: str | None = None) -> Pod:
    """`pod` bound to `node`, Running, and Ready (or not) since `since`."""
    condition = PodCondition(
        type="Ready", status="True" if ready else "False", last_transition_time=since
    )
    return msgspec.structs.replace(
        pod,
        spec=msgspec.structs.replace(pod.spec, node_name=node),
        status=PodStatus(phase="Running", conditions=[condition]),
    )


async def scale(client: Client, name: str, replicas: int) -> ReplicaSet:
    """Set a ReplicaSet's replicas, retrying while the controller's status writes race it."""
    while True:
        current = await client.get(ReplicaSet, name, "default")
        try:
            return await client.update(with_replicas(current, replicas))
        except ApiError as error:
            if error.code != 409:
                raise
