"""Validation of objects, with causes that name the field (`spec.containers[0].name`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from ._apps import Deployment, ReplicaSet
from ._batch import Job
from ._cluster_kinds import Lease
from ._core import Service
from ._kinds import ResourceKind
from ._memo import RecentResults
from ._meta import ApiObject
from ._node import Node
from ._pod import Container, Pod
from ._policy import PodDisruptionBudget
from ._quantity import QuantityError, parse_quantity
from ._rbac import ClusterRoleBinding, RoleBinding
from ._status import StatusCause

__all__ = [
    "Validator",
    "is_dns_subdomain",
    "validate",
    "validate_node",
    "validate_pod",
    "validator",
]

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
# Upstream's pattern: `fullmatch`, as Go's `$` is the end of the text (Python's also
# matches before a final newline).
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")


def is_dns_subdomain(name: str) -> bool:
    """Whether `name` is a lowercase RFC 1123 subdomain of at most 253 characters:
    dot-separated labels of `[a-z0-9]`, with `-` inside a label only."""
    return len(name) <= 253 and _DNS_SUBDOMAIN.fullmatch(name) is not None


def _invalid(field: str, value: object, detail: str) -> StatusCause:
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    return StatusCause(
        reason="FieldValueInvalid", field=field, message=f"Invalid value: {shown}: {detail}"
    )


def _required(field: str, detail: str) -> StatusCause:
    return StatusCause(
        reason="FieldValueRequired", field=field, message=f"Required value: {detail}"
    )


# RBAC objects are named by path segments (upstream's ValidateRBACName), so that
# `system:kube-scheduler` is a valid ClusterRole.
_PATH_SEGMENT_NAMED = frozenset({"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"})


def _path_segment_causes(name: str) -> list[StatusCause]:
    if name in (".", "..") or "/" in name or "%" in name:
        return [_invalid("metadata.name", name, "may not be '.' or '..' or contain '/' or '%'")]
    return []


def _validate_name(
    name: str, namespace: str, namespaced: bool, *, path_segment: bool = False
) -> list[StatusCause]:
    causes: list[StatusCause] = []
    if name in _SUBDOMAINS:
        pass  # found valid before (a valid subdomain is a valid path segment too)
    elif not name:
        causes.append(_required("metadata.name", "name or generateName is required"))
    elif path_segment:
        causes += _path_segment_causes(name)
    elif not _subdomain(name):
        causes.append(
            _invalid(
                "metadata.name",
                name,
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                "characters, '-' or '.', and must start and end with an alphanumeric character",
            )
        )
    if namespaced and not _valid_namespace(namespace):
        causes.append(_invalid("metadata.namespace", namespace, "not a valid namespace name"))
    return causes


_SUBDOMAINS: set[str] = set()
"""Names found to be valid RFC 1123 subdomains: a node's Lease and status are
validated again at every heartbeat, under the same name."""
_SUBDOMAINS_KEPT = 65_536


def _subdomain(name: str) -> bool:
    """Whether `name` is a valid RFC 1123 subdomain (remembered if so)."""
    if not is_dns_subdomain(name):
        return False
    if len(_SUBDOMAINS) >= _SUBDOMAINS_KEPT:
        _SUBDOMAINS.clear()
    _SUBDOMAINS.add(name)
    return True


@functools.lru_cache(maxsize=4096)
def _quantity_problem(text: str) -> str:
    """What is wrong with a quantity string ("" if nothing): pods and nodes repeat a
    handful of them, so each is judged once."""
    try:
        value = parse_quantity(text)
    except QuantityError as error:
        return str(error)
    return "must be greater than or equal to 0" if value < 0 else ""


def _validate_quantities(field: str, quantities: dict[str, str]) -> list[StatusCause]:
    if _VALID_QUANTITIES.equal(quantities) is not None:
        return []  # as a node's status posts bring them, again and again
    causes: list[StatusCause] = []
    for resource, text in quantities.items():
        problem = _quantity_problem(text)
        if problem:
            causes.append(_invalid(f"{field}.{resource}", text, problem))
    if not causes:
        # A copy: a dict in a frozen object can still be changed in place.
        _VALID_QUANTITIES.put(dict(quantities), True)
    return causes


_VALID_QUANTITIES: RecentResults[dict[str, str], bool] = RecentResults(8)
"""The last few sets of quantities found valid (nodes of a shape share theirs)."""


@functools.lru_cache(maxsize=1024)
def _valid_namespace(namespace: str) -> bool:
    return len(namespace) <= 63 and _DNS_LABEL.match(namespace) is not None


def validate_pod(pod: Pod) -> list[StatusCause]:
    """Every problem with `pod` (an empty list when it is valid)."""
    meta = pod.metadata
    causes = _validate_name(meta.name, meta.namespace, namespaced=True)
    if pod.kind != "Pod":
        causes.append(_invalid("kind", pod.kind, "must be Pod"))
    containers = pod.spec.containers
    if not containers:
        causes.append(_required("spec.containers", "at least one container is required"))
        return causes
    # Pods from one template share their (defaulted) list of containers.
    found = _CONTAINER_CAUSES.same(containers)
    if found is None:
        found = tuple(_container_causes(containers))
        _CONTAINER_CAUSES.put(containers, found)
    causes += found
    return causes


_CONTAINER_CAUSES: RecentResults[list[Container], tuple[StatusCause, ...]] = RecentResults()


def _container_causes(containers: list[Container]) -> list[StatusCause]:
    causes: list[StatusCause] = []
    seen: set[str] = set()
    # Field paths are made only for a problem: most pods have none.
    for index, container in enumerate(containers):
        name = container.name
        if not name:
            causes.append(_required(f"spec.containers[{index}].name", "a container needs a name"))
        elif name in seen:
            causes.append(
                StatusCause(
                    reason="FieldValueDuplicate",
                    field=f"spec.containers[{index}].name",
                    message=f'Duplicate value: "{name}"',
                )
            )
        seen.add(name)
        resources = container.resources
        if resources.requests:
            causes += _quantity_causes(index, "requests", resources.requests)
        if resources.limits:
            causes += _quantity_causes(index, "limits", resources.limits)
    return causes


def _quantity_causes(index: int, which: str, quantities: dict[str, str]) -> list[StatusCause]:
    causes: list[StatusCause] = []
    for resource, text in quantities.items():
        problem = _quantity_problem(text)
        if problem:
            field = f"spec.containers[{index}].resources.{which}.{resource}"
            causes.append(_invalid(field, text, problem))
    return causes


def validate_node(node: Node) -> list[StatusCause]:
    """Every problem with `node` (an empty list when it is valid)."""
    meta = node.metadata
    causes = _validate_name(meta.name, "", namespaced=False)
    if node.kind != "Node":
        causes.append(_invalid("kind", node.kind, "must be Node"))
    causes += _validate_quantities("status.capacity", node.status.capacity)
    causes += _validate_quantities("status.allocatable", node.status.allocatable)
    return causes


def validate(kind: ResourceKind[Any], obj: ApiObject) -> list[StatusCause]:
    """Every problem with `obj` as an object of `kind` (empty when it is valid)."""
    if isinstance(obj, Pod):
        return validate_pod(obj)
    if isinstance(obj, Node):
        return validate_node(obj)
    return _object_validator(kind, type(obj))(obj)


Validator = Callable[[Any], list[StatusCause]]
"""What `validate(kind, obj)` finds wrong with an object of one kind."""


def validator(kind: ResourceKind[Any]) -> Validator:
    """`validate(kind, obj)` for every `obj` of `kind`'s type, with what depends on the
    kind alone worked out once: the API server checks every Lease renewal and node
    status post with its kind's."""
    if issubclass(kind.type, Pod):
        return validate_pod
    if issubclass(kind.type, Node):
        return validate_node
    return _object_validator(kind, kind.type)


def _object_validator(kind: ResourceKind[Any], object_type: type[Any]) -> Validator:
    """The checks of an object of `object_type` (neither a pod nor a node) as `kind`."""
    namespaced = kind.namespaced
    path_segment = kind.kind in _PATH_SEGMENT_NAMED
    kind_name = kind.kind
    extra = _VALIDATORS.get(object_type)

    def check(obj: Any) -> list[StatusCause]:
        meta = obj.metadata
        causes = _validate_name(meta.name, meta.namespace, namespaced, path_segment=path_segment)
        if obj.kind != kind_name:
            causes.append(_invalid("kind", obj.kind, f"must be {kind_name}"))
        if extra is not None:
            causes += extra(obj)
        return causes

    return check


def _validate_service(service: Any) -> list[StatusCause]:
    causes: list[StatusCause] = []
    spec = service.spec
    if not spec.ports and spec.type != "ExternalName" and spec.cluster_ip != "None":
        causes.append(_required("spec.ports", "at least one port is required"))
    names: set[str] = set()
    for index, port in enumerate(spec.ports):
        path = f"spec.ports[{index}]"
        if not 1 <= port.port <= 65535:
            causes.append(_invalid(f"{path}.port", port.port, "must be between 1 and 65535"))
        if len(spec.ports) > 1 and not port.name:
            causes.append(_required(f"{path}.name", "a name is required when there are ports"))
        if port.name in names:
            causes.append(
                StatusCause(
                    reason="FieldValueDuplicate",
                    field=f"{path}.name",
                    message=f'Duplicate value: "{port.name}"',
                )
            )
        names.add(port.name)
        target = port.target_port
        if isinstance(target, int) and not 0 <= target <= 65535:
            causes.append(_invalid(f"{path}.targetPort", target, "must be between 1 and 65535"))
    return causes


def _validate_replicated(obj: Any) -> list[StatusCause]:
    """Deployments and ReplicaSets: replicas >= 0, a selector that selects the template."""
    causes: list[StatusCause] = []
    spec = obj.spec
    if spec.replicas is not None and spec.replicas < 0:
        causes.append(
            _invalid("spec.replicas", spec.replicas, "must be greater than or equal to 0")
        )
    return causes + _selects_template(spec.selector, spec.template.metadata.labels)


def _selects_template(selector: Any, labels: dict[str, str]) -> list[StatusCause]:
    """A workload's selector must be there and select its own template's labels."""
    if selector is None or (not selector.match_labels and not selector.match_expressions):
        return [_required("spec.selector", "a selector is required")]
    if any(labels.get(key) != value for key, value in selector.match_labels.items()):
        return [
            _invalid(
                "spec.template.metadata.labels",
                ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
                "`selector` does not match template `labels`",
            )
        ]
    return []


def _validate_role_binding(binding: Any) -> list[StatusCause]:
    causes: list[StatusCause] = []
    if not binding.role_ref.name:
        causes.append(_required("roleRef.name", "the role to bind is required"))
    if binding.role_ref.kind not in ("Role", "ClusterRole"):
        causes.append(
            _invalid("roleRef.kind", binding.role_ref.kind, "must be Role or ClusterRole")
        )
    for index, subject in enumerate(binding.subjects):
        if subject.kind not in ("User", "Group", "ServiceAccount"):
            causes.append(
                _invalid(
                    f"subjects[{index}].kind", subject.kind, "must be User, Group or ServiceAccount"
                )
            )
        if not subject.name:
            causes.append(_required(f"subjects[{index}].name", "a subject needs a name"))
    return causes


def _validate_job(job: Any) -> list[StatusCause]:
    """As upstream's: counts not negative, pods that end (restartPolicy OnFailure or
    Never), a selector that selects the template. Indexed completion is not run here."""
    causes: list[StatusCause] = []
    spec = job.spec
    for field, value in (
        ("parallelism", spec.parallelism),
        ("completions", spec.completions),
        ("backoffLimit", spec.backoff_limit),
    ):
        if value is not None and value < 0:
            causes.append(_invalid(f"spec.{field}", value, "must be greater than or equal to 0"))
    if spec.active_deadline_seconds is not None and spec.active_deadline_seconds <= 0:
        causes.append(
            _invalid(
                "spec.activeDeadlineSeconds", spec.active_deadline_seconds, "must be greater than 0"
            )
        )
    if spec.completion_mode == "Indexed":
        causes.append(
            StatusCause(
                reason="FieldValueNotSupported",
                field="spec.completionMode",
                message='Unsupported value: "Indexed": supported values: "NonIndexed"',
            )
        )
    policy = spec.template.spec.restart_policy
    if policy not in ("OnFailure", "Never"):
        causes.append(
            StatusCause(
                reason="FieldValueNotSupported",
                field="spec.template.spec.restartPolicy",
                message=f'Unsupported value: "{policy}": supported values: "OnFailure", "Never"',
            )
        )
    return causes + _selects_template(spec.selector, spec.template.metadata.labels)


_PERCENT_MESSAGE = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)


_PERCENT_MESSAGE = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)


def _int_or_percent(field: str, value: int | str | None) -> list[StatusCause]:
    if value is None:
        return []
    if isinstance(value, int):
        if value < 0:
            return [_invalid(field, value, "must be greater than or equal to 0")]
        return []
    number = value[:-1] if value.endswith("%") else ""
    if not number.isdigit():
        return [_invalid(field, value, _PERCENT_MESSAGE)]
    if int(number) > 100:
        return [_invalid(field, value, "must not be greater than 100%")]
    return []


def _validate_disruption_budget(budget: Any) -> list[StatusCause]:
    """As upstream's: minAvailable or maxUnavailable (not both), each a count or a
    percentage of at most 100%."""
    spec = budget.spec
    causes = _int_or_percent("spec.minAvailable", spec.min_available)
    causes += _int_or_percent("spec.maxUnavailable", spec.max_unavailable)
    if spec.min_available is not None and spec.max_unavailable is not None:
        causes.append(_invalid("spec", "", "minAvailable and maxUnavailable cannot be both set"))
    return causes


def _validate_lease(lease: Any) -> list[StatusCause]:
    """As upstream's: a duration, when given, above 0; transitions not negative."""
    spec = lease.spec
    duration, transitions = spec.lease_duration_seconds, spec.lease_transitions
    if (duration is None or duration > 0) and (transitions is None or transitions >= 0):
        return []
    causes: list[StatusCause] = []
    if duration is not None and duration <= 0:
        causes.append(_invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    if transitions is not None and transitions < 0:
        causes.append(
            _invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0")
        )
    return causes


_VALIDATORS: dict[type, Any] = {
    Lease: _validate_lease,
    Service: _validate_service,
    Deployment: _validate_replicated,
    ReplicaSet: _validate_replicated,
    RoleBinding: _validate_role_binding,
    ClusterRoleBinding: _validate_role_binding,
    Job: _validate_job,
    PodDisruptionBudget: _validate_disruption_budget,
}
"""The checks of each built-in type beyond its name and kind (by type: a custom kind
may share a built-in kind's name, never its type)."""
