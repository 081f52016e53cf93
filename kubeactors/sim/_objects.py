"""The API objects a scenario's workloads create."""

from __future__ import annotations

import msgspec

from ..api import (
    Container,
    Deployment,
    DeploymentSpec,
    LabelSelector,
    ObjectMeta,
    Pod,
    PodSpec,
    PodTemplateSpec,
    ResourceRequirements,
    Toleration,
)
from ..node.runtime import ANNOTATION_PREFIX
from ._observer import APP_LABEL
from .scenario import BatchWorkload, DeploymentWorkload, NodeGroup

__all__ = [
    "CRASH_ANNOTATION",
    "GROUP_LABEL",
    "NAMESPACE",
    "ZONE_LABEL",
    "batch_pod",
    "deployment",
    "node_labels",
    "tolerations",
    "with_crash_loop",
]

NAMESPACE = "default"
GROUP_LABEL = "sim.kubeactors.io/group"
ZONE_LABEL = "topology.kubernetes.io/zone"
IMAGE = "registry.k8s.io/pause:3.9"
CRASH_ANNOTATION = f"{ANNOTATION_PREFIX}failure-probability"
"""On a pod template: its containers fail as they start (a crash loop)."""


def node_labels(group: NodeGroup) -> dict[str, str]:
    labels = {**group.labels, GROUP_LABEL: group.name}
    if group.zone:
        labels[ZONE_LABEL] = group.zone
    return labels


_NODE_GONE = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


def tolerations(own: list[Toleration], seconds: float) -> list[Toleration]:
    """`own`, plus tolerating a not-ready or unreachable node for `seconds` unless
    `own` says otherwise (what upstream's DefaultTolerationSeconds admission adds)."""
    result = list(own)
    for key in _NODE_GONE:
        if not any(t.key == key and t.effect in ("", "NoExecute") for t in own):
            result.append(
                Toleration(
                    key=key,
                    operator="Exists",
                    effect="NoExecute",
                    toleration_seconds=round(seconds),
                )
            )
    return result


def _container(cpu: str, memory: str) -> Container:
    return Container(
        name="app",
        image=IMAGE,
        resources=ResourceRequirements(requests={"cpu": cpu, "memory": memory}),
    )


def deployment(workload: DeploymentWorkload, toleration: float) -> Deployment:
    labels = {APP_LABEL: workload.name}
    annotations = (
        {f"{ANNOTATION_PREFIX}start-seconds": f"{workload.start:g}"} if workload.start else {}
    )
    return Deployment(
        metadata=ObjectMeta(name=workload.name, namespace=NAMESPACE),
        spec=DeploymentSpec(
            replicas=workload.replicas,
            selector=LabelSelector(match_labels=dict(labels)),
            template=PodTemplateSpec(
                metadata=ObjectMeta(labels=labels, annotations=annotations),
                spec=PodSpec(
                    containers=[_container(workload.cpu, workload.memory)],
                    node_selector=dict(workload.node_selector),
                    tolerations=tolerations(workload.tolerations, toleration),
                ),
            ),
        ),
    )


def with_crash_loop(current: Deployment, crashing: bool) -> Deployment:
    """`current` with its pod template made to crash-loop, or mended."""
    template = current.spec.template
    annotations = {k: v for k, v in template.metadata.annotations.items() if k != CRASH_ANNOTATION}
    if crashing:
        annotations[CRASH_ANNOTATION] = "1"
    metadata = msgspec.structs.replace(template.metadata, annotations=annotations)
    template = msgspec.structs.replace(template, metadata=metadata)
    return msgspec.structs.replace(
        current, spec=msgspec.structs.replace(current.spec, template=template)
    )


def batch_pod(workload: BatchWorkload, wave: int, index: int, toleration: float) -> Pod:
    """Pod `index` of wave `wave`: runs for `workload.run`, then succeeds."""
    return Pod(
        metadata=ObjectMeta(
            name=f"{workload.name}-{wave}-{index}",
            namespace=NAMESPACE,
            labels={"batch": workload.name},
            annotations={f"{ANNOTATION_PREFIX}run-seconds": f"{workload.run:g}"},
        ),
        spec=PodSpec(
            containers=[_container(workload.cpu, workload.memory)],
            restart_policy="Never",
            node_selector=dict(workload.node_selector),
            tolerations=tolerations(workload.tolerations, toleration),
        ),
    )
