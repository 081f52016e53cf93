"""The pure rules of writes: what an update keeps from the stored object, when
`generation` moves, how a delete marks an object that has finalizers."""

from __future__ import annotations

from typing import Any

import msgspec

from ._apps import Scale, ScaleSpec, ScaleStatus
from ._cluster_kinds import Lease
from ._core import Namespace
from ._kinds import ResourceKind
from ._meta import ApiObject, ObjectMeta
from ._pod import Pod
from ._selectors import selector_from_struct
from ._status import ApiError, StatusCause

__all__ = [
    "FOREGROUND_FINALIZER",
    "ORPHAN_FINALIZER",
    "mark_deleted",
    "merge_update",
    "scale_of",
    "spec_changed",
    "with_replicas",
]

ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"

replace = msgspec.structs.replace

# The fields of a pod's spec an update may change, as upstream's pod validation allows.
_MUTABLE_POD_SPEC = frozenset(
    {"containers", "init_containers", "active_deadline_seconds", "tolerations", "scheduling_gates"}
)


def spec_changed(old: ApiObject, new: ApiObject) -> bool:
    """Whether anything other than metadata and status differs (so generation moves)."""
    fields = _SPEC_FIELDS.get(type(old))
    if fields is None:
        fields = _SPEC_FIELDS[type(old)] = tuple(
            field
            for field in old.__struct_fields__
            if field not in ("metadata", "status", "api_version", "kind")
        )
    for field in fields:  # noqa: SIM110 (a loop: no generator made per update)
        if getattr(old, field) != getattr(new, field):
            return True
    return False


_SPEC_FIELDS: dict[type, tuple[str, ...]] = {}
"""The fields `spec_changed` compares, per type."""

_GENERATION_KEPT: frozenset[type] = frozenset({Lease, Namespace})
"""Kinds whose updates never move `generation`: upstream's update strategy for a
Lease keeps the stored one and counts nothing (so a renewal leaves it as is), and a
namespace's update keeps its stored spec."""


def _forbidden_field(kind: ResourceKind[Any], name: str, field: str, detail: str) -> ApiError:
    cause = StatusCause(reason="FieldValueForbidden", field=field, message=f"Forbidden: {detail}")
    return ApiError.invalid(kind.kind, name, [cause])


def merge_update(
    kind: ResourceKind[Any],
    old: ApiObject,
    new: ApiObject,
    *,
    subresource: str = "",
    keep_status: bool = False,
    strict_pods: bool = False,
) -> ApiObject:
    """The object an update stores: `new`, with what a client may not change kept
    from `old` (identity, creation, deletion marks; the spec for a status update;
    the status for a main-resource update when `keep_status`)."""
    old_meta, new_meta = old.metadata, new.metadata
    # A client that sends back the metadata it was answered with (a heartbeat renews
    # the Lease it got back; a kubelet posts its status over its Node as stored)
    # changes none of it: the checks below cannot fail, and what they keep is kept.
    sent_back = new_meta is old_meta
    if not sent_back:
        if new_meta.uid and new_meta.uid != old_meta.uid:
            raise ApiError.conflict(
                kind.plural,
                old_meta.name,
                f"Precondition failed: UID in object meta: {new_meta.uid}",
            )
        if old_meta.deletion_timestamp is not None:
            added = set(new_meta.finalizers) - set(old_meta.finalizers)
            if added:
                raise _forbidden_field(
                    kind,
                    old_meta.name,
                    "metadata.finalizers",
                    "no new finalizers can be added if the object is being deleted, "
                    f"found new finalizers {sorted(added)}",
                )
    if subresource == "status":
        # A status write changes the status only (labels and annotations too, as upstream).
        # Stored without its resourceVersion, as every write (the store's revision is it).
        meta = (
            replace(old_meta, resource_version="")
            if sent_back
            else replace(
                old_meta,
                labels=new_meta.labels,
                annotations=new_meta.annotations,
                resource_version="",
            )
        )
        status: Any = getattr(new, "status")  # noqa: B009 (every kind with a status subresource has one)
        return replace(old, metadata=meta, status=status)
    # What is merged below differs from `new` in metadata and status only, and for a
    # namespace keeps the stored spec: whether the spec changed is known already.
    changed = type(old) not in _GENERATION_KEPT and spec_changed(old, new)
    generation = old_meta.generation + 1 if changed else old_meta.generation
    if sent_back:
        meta = replace(old_meta, generation=generation, resource_version="")
    else:
        # Compat: a client that marks a live object deleted by update is taken at its word.
        marking = not strict_pods and old_meta.deletion_timestamp is None
        deletion = new_meta if marking else old_meta
        meta = replace(
            new_meta,
            name=old_meta.name,
            namespace=old_meta.namespace,
            uid=old_meta.uid,
            generate_name=old_meta.generate_name,
            creation_timestamp=old_meta.creation_timestamp,
            deletion_timestamp=deletion.deletion_timestamp,
            deletion_grace_period_seconds=deletion.deletion_grace_period_seconds,
            generation=generation,
            resource_version="",
        )
    merged = replace(new, metadata=meta)
    if keep_status and kind.has_status:
        merged = replace(merged, status=getattr(old, "status"))  # noqa: B009
    if strict_pods and isinstance(old, Pod) and isinstance(merged, Pod):
        _check_pod_update(kind, old, merged)
    # The exact type (a kind is served for its type only, never a subclass): a failed
    # `isinstance` of a msgspec Struct costs an `__instancecheck__` call, every update.
    if type(old) is Namespace and type(merged) is Namespace:
        merged = replace(merged, spec=old.spec, status=old.status)
    return merged


def _check_pod_update(kind: ResourceKind[Any], old: Pod, new: Pod) -> None:
    changed = [
        field
        for field in old.spec.__struct_fields__
        if getattr(old.spec, field) != getattr(new.spec, field) and field not in _MUTABLE_POD_SPEC
    ]
    if changed:
        raise _forbidden_field(
            kind,
            old.metadata.name,
            "spec",
            "pod updates may not change fields other than `spec.containers[*].image`, "
            "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, "
            "`spec.tolerations` (only additions to existing tolerations) or "
            f"`spec.schedulingGates` (changed: {', '.join(sorted(changed))})",
        )
    if len(old.spec.containers) != len(new.spec.containers):
        raise _forbidden_field(
            kind, old.metadata.name, "spec.containers", "containers may not be added or removed"
        )
    pairs = zip(old.spec.containers, new.spec.containers, strict=True)
    for index, (before, after) in enumerate(pairs):
        if replace(before, image=after.image) != after:
            raise _forbidden_field(
                kind,
                old.metadata.name,
                f"spec.containers[{index}]",
                "only the image of a container may change",
            )
    if not set(new.spec.scheduling_gates) <= set(old.spec.scheduling_gates):
        raise _forbidden_field(
            kind, old.metadata.name, "spec.schedulingGates", "only deletion is allowed"
        )


def mark_deleted(obj: ApiObject, now: str, propagation_policy: str) -> tuple[ApiObject, bool]:
    """The object a delete leaves behind, and whether it must stay (marked) rather
    than be removed: it has finalizers, or propagation asks a collector to act first."""
    meta = obj.metadata
    finalizers = list(meta.finalizers)
    if propagation_policy == "Orphan" and ORPHAN_FINALIZER not in finalizers:
        finalizers.append(ORPHAN_FINALIZER)
    elif propagation_policy == "Foreground" and FOREGROUND_FINALIZER not in finalizers:
        finalizers.append(FOREGROUND_FINALIZER)
    namespace_pending = isinstance(obj, Namespace) and bool(obj.spec.finalizers)
    if not finalizers and not namespace_pending:
        return obj, False
    meta = replace(
        meta,
        finalizers=finalizers,
        deletion_timestamp=meta.deletion_timestamp or now,
        deletion_grace_period_seconds=0,
    )
    marked = replace(obj, metadata=meta)
    if isinstance(marked, Namespace):
        marked = replace(marked, status=replace(marked.status, phase="Terminating"))
    return marked, True


def scale_of(kind: ResourceKind[Any], obj: Any) -> Scale:
    """The autoscaling/v1 Scale view of a Deployment, ReplicaSet or ReplicationController."""
    meta: ObjectMeta = obj.metadata
    selector = obj.spec.selector
    text = (
        ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        if isinstance(selector, dict)
        else str(selector_from_struct(selector))
    )
    return Scale(
        metadata=ObjectMeta(
            name=meta.name,
            namespace=meta.namespace,
            uid=meta.uid,
            resource_version=meta.resource_version,
            creation_timestamp=meta.creation_timestamp,
        ),
        spec=ScaleSpec(replicas=obj.spec.replicas or 0),
        status=ScaleStatus(replicas=obj.status.replicas, selector=text),
    )


def with_replicas(obj: Any, replicas: int) -> Any:
    if replicas < 0:
        raise ApiError.invalid(
            "Scale",
            obj.metadata.name,
            [
                StatusCause(
                    reason="FieldValueInvalid",
                    field="spec.replicas",
                    message=f"Invalid value: {replicas}: must be greater than or equal to 0",
                )
            ],
        )
    return replace(obj, spec=replace(obj.spec, replicas=replicas))
