"""Defaulting: the values Kubernetes fills in on create when a client leaves them out."""

from __future__ import annotations

import functools
from typing import Any

import msgspec

from ._apps import (
    Deployment,
    DeploymentStrategy,
    ReplicaSet,
    RollingUpdateDeployment,
)
from ._batch import CONTROLLER_UID_LABEL, JOB_NAME_LABEL, Job
from ._core import Namespace, ReplicationController, Secret, Service
from ._memo import RecentResults
from ._meta import ApiObject, LabelSelector, ObjectMeta
from ._pod import EMPTY_POD_STATUS, Container, Pod, PodSpec, PodStatus

__all__ = ["PENDING_POD_STATUS", "apply_defaults", "has_defaults"]

replace = msgspec.structs.replace


@functools.lru_cache(maxsize=1024)
def _pull_policy(image: str) -> str:
    """Upstream's default: Always for an untagged or `:latest` image (not by digest)."""
    name = image.rsplit("/", 1)[-1]
    latest = ":" not in name or name.endswith(":latest")
    return "Always" if latest and "@" not in name else "IfNotPresent"


def _container(container: Container) -> Container:
    if (
        container.image_pull_policy
        and container.termination_message_path
        and container.termination_message_policy
    ):
        return container
    return replace(
        container,
        image_pull_policy=container.image_pull_policy or _pull_policy(container.image),
        termination_message_path=container.termination_message_path or "/dev/termination-log",
        termination_message_policy=container.termination_message_policy or "File",
    )


def _containers(containers: list[Container]) -> list[Container] | None:
    """The containers defaulted, or None when none needs a default."""
    defaulted = None
    for index, container in enumerate(containers):
        new = _container(container)
        if new is not container:
            if defaulted is None:
                defaulted = list(containers)
            defaulted[index] = new
    return defaulted


def _pod_spec(spec: PodSpec) -> PodSpec:
    containers = _containers(spec.containers)
    init_containers = _containers(spec.init_containers) if spec.init_containers else None
    if (
        containers is None
        and init_containers is None
        and spec.restart_policy
        and spec.termination_grace_period_seconds is not None
        and spec.dns_policy
        and spec.scheduler_name
        and spec.enable_service_links is not None
    ):
        return spec
    # One copy of the spec with every default, whichever were missing: a create pays
    # for each copy and for each step of building keyword arguments.
    grace = spec.termination_grace_period_seconds
    links = spec.enable_service_links
    return replace(
        spec,
        containers=spec.containers if containers is None else containers,
        init_containers=spec.init_containers if init_containers is None else init_containers,
        restart_policy=spec.restart_policy or "Always",
        termination_grace_period_seconds=30 if grace is None else grace,
        dns_policy=spec.dns_policy or "ClusterFirst",
        scheduler_name=spec.scheduler_name or "default-scheduler",
        enable_service_links=True if links is None else links,
    )


PENDING_POD_STATUS = PodStatus(phase="Pending")
"""The defaulted status of every pod created without one (`EMPTY_POD_STATUS`)."""

# Pods from one template have equal specs: defaulted once, shared by all of them.
_DEFAULTED_SPECS: RecentResults[PodSpec, PodSpec] = RecentResults()


def _pod(pod: Pod, metadata: ObjectMeta | None = None) -> Pod:
    spec = _DEFAULTED_SPECS.equal(pod.spec)
    if spec is None:
        spec = _pod_spec(pod.spec)
        _DEFAULTED_SPECS.put(pod.spec, spec)
    status = pod.status
    if status is EMPTY_POD_STATUS:
        status = PENDING_POD_STATUS
    elif not status.phase:
        status = replace(status, phase="Pending")
    if metadata is None:
        if spec is pod.spec and status is pod.status:
            return pod
        metadata = pod.metadata
    return replace(pod, metadata=metadata, spec=spec, status=status)


def _namespace(namespace: Namespace) -> Namespace:
    spec = namespace.spec
    if not spec.finalizers:
        spec = replace(spec, finalizers=["kubernetes"])
    return replace(namespace, spec=spec, status=replace(namespace.status, phase="Active"))


def _service(service: Service) -> Service:
    spec = service.spec
    changes: dict[str, Any] = {}
    if not spec.type:
        changes["type"] = "ClusterIP"
    if not spec.session_affinity:
        changes["session_affinity"] = "None"
    if spec.ports and any(p.target_port is None for p in spec.ports):
        changes["ports"] = [
            p if p.target_port is not None else replace(p, target_port=p.port) for p in spec.ports
        ]
    return replace(service, spec=replace(spec, **changes)) if changes else service


def _deployment(deployment: Deployment) -> Deployment:
    spec = deployment.spec
    strategy = spec.strategy
    if not strategy.type:
        strategy = DeploymentStrategy(type="RollingUpdate")
    if strategy.type == "RollingUpdate":
        rolling = strategy.rolling_update or RollingUpdateDeployment()
        rolling = replace(
            rolling,
            max_surge=rolling.max_surge if rolling.max_surge is not None else "25%",
            max_unavailable=(
                rolling.max_unavailable if rolling.max_unavailable is not None else "25%"
            ),
        )
        strategy = replace(strategy, rolling_update=rolling)
    spec = replace(
        spec,
        strategy=strategy,
        replicas=1 if spec.replicas is None else spec.replicas,
        revision_history_limit=(
            10 if spec.revision_history_limit is None else spec.revision_history_limit
        ),
        progress_deadline_seconds=(
            600 if spec.progress_deadline_seconds is None else spec.progress_deadline_seconds
        ),
        template=replace(spec.template, spec=_pod_spec(spec.template.spec)),
    )
    return replace(deployment, spec=spec)


def _replica_set(replica_set: ReplicaSet) -> ReplicaSet:
    spec = replica_set.spec
    spec = replace(
        spec,
        replicas=1 if spec.replicas is None else spec.replicas,
        template=replace(spec.template, spec=_pod_spec(spec.template.spec)),
    )
    return replace(replica_set, spec=spec)


def _replication_controller(controller: ReplicationController) -> ReplicationController:
    spec = controller.spec
    changes: dict[str, Any] = {"replicas": 1 if spec.replicas is None else spec.replicas}
    if spec.template is not None:
        template = spec.template
        changes["template"] = replace(template, spec=_pod_spec(template.spec))
        if not spec.selector:
            changes["selector"] = dict(template.metadata.labels)
    return replace(controller, spec=replace(spec, **changes))


def _job(job: Job) -> Job:
    """Upstream's Job defaults; and, unless `manualSelector`, the selector on the Job's
    UID with the labels it matches added to the template (upstream does this at
    validation, once the UID is known: here defaulting runs after the UID is set)."""
    spec = job.spec
    completions, parallelism = spec.completions, spec.parallelism
    if completions is None and parallelism is None:
        completions = 1
    template = replace(spec.template, spec=_pod_spec(spec.template.spec))
    selector = spec.selector
    uid = job.metadata.uid
    if not spec.manual_selector and selector is None and uid:
        selector = LabelSelector(match_labels={CONTROLLER_UID_LABEL: uid})
        labels = {
            **template.metadata.labels,
            CONTROLLER_UID_LABEL: uid,
            JOB_NAME_LABEL: job.metadata.name,
            "controller-uid": uid,
            "job-name": job.metadata.name,
        }
        template = replace(template, metadata=replace(template.metadata, labels=labels))
    spec = replace(
        spec,
        completions=completions,
        parallelism=1 if parallelism is None else parallelism,
        backoff_limit=6 if spec.backoff_limit is None else spec.backoff_limit,
        completion_mode=spec.completion_mode or "NonIndexed",
        suspend=False if spec.suspend is None else spec.suspend,
        selector=selector,
        template=template,
    )
    return replace(job, spec=spec)


def _secret(secret: Secret) -> Secret:
    data = dict(secret.data)
    for key, text in secret.string_data.items():
        data[key] = text.encode()
    return replace(secret, type=secret.type or "Opaque", data=data, string_data={})


_DEFAULTERS: dict[type[Any], Any] = {
    Pod: _pod,
    Namespace: _namespace,
    Service: _service,
    Deployment: _deployment,
    ReplicaSet: _replica_set,
    ReplicationController: _replication_controller,
    Secret: _secret,
    Job: _job,
}


def apply_defaults(obj: ApiObject, metadata: ObjectMeta | None = None) -> ApiObject:
    """`obj` with Kubernetes' defaults filled in (the same object if it has none), and
    with `metadata` instead of its own if given (one copy of a pod for both)."""
    if type(obj) is Pod:
        return _pod(obj, metadata)
    if metadata is not None:
        obj = replace(obj, metadata=metadata)
    defaulter = _DEFAULTERS.get(type(obj))
    if defaulter is None:
        return obj
    defaulted: ApiObject = defaulter(obj)
    return defaulted


def has_defaults(object_type: type[Any]) -> bool:
    """Whether `apply_defaults` may change an object of `object_type` (for any other
    it returns the object itself: a Lease, a Node)."""
    return object_type is Pod or object_type in _DEFAULTERS
