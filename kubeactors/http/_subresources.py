"""The `scale` and `binding` subresources, served over the objects they belong to."""

from __future__ import annotations

from typing import Any

import msgspec

from ..api import (
    PATCH_TYPES,
    ApiError,
    ObjectMeta,
    Scale,
    ScaleSpec,
    ScaleStatus,
    Status,
    StatusDetails,
    apply_patch,
)
from ..client import Client
from ._errors import bad_request

__all__ = ["bind", "patch_scale", "read_scale", "write_scale"]

_RETRIES = 5


def _selector_text(obj: Any) -> str:
    selector = getattr(obj.spec, "selector", None)
    labels = getattr(selector, "match_labels", selector)
    if isinstance(labels, dict):
        return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))
    return ""


def read_scale(obj: Any) -> Scale:
    """The Scale of a Deployment, ReplicaSet or ReplicationController."""
    meta = obj.metadata
    replicas = obj.spec.replicas
    return Scale(
        metadata=ObjectMeta(
            name=meta.name,
            namespace=meta.namespace,
            uid=meta.uid,
            resource_version=meta.resource_version,
            creation_timestamp=meta.creation_timestamp,
        ),
        spec=ScaleSpec(replicas=1 if replicas is None else replicas),
        status=ScaleStatus(replicas=obj.status.replicas, selector=_selector_text(obj)),
    )


async def write_scale(
    client: Client, kind: type[Any], name: str, namespace: str, replicas: int, version: str = ""
) -> Scale:
    """Set `spec.replicas`; a `version` (the Scale's resourceVersion) must be current."""
    if replicas < 0:
        raise bad_request(f"spec.replicas: Invalid value: {replicas}: must be >= 0")
    for attempt in range(_RETRIES):
        current = await client.get(kind, name, namespace)
        if version and version != current.metadata.resource_version:
            raise ApiError.conflict(current.kind.lower() + "s", name)
        spec = msgspec.structs.replace(current.spec, replicas=replicas)
        try:
            return read_scale(await client.update(msgspec.structs.replace(current, spec=spec)))
        except ApiError as error:
            if error.reason != "Conflict" or version or attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")


async def patch_scale(
    client: Client, kind: type[Any], name: str, namespace: str, patch: Any, content_type: str
) -> Scale:
    current = read_scale(await client.get(kind, name, namespace))
    patched = apply_patch(msgspec.to_builtins(current), patch, PATCH_TYPES[content_type])
    try:
        scale = msgspec.convert(patched, Scale)
    except msgspec.ValidationError as error:
        raise bad_request(f"Scale: {error}") from None
    return await write_scale(client, kind, name, namespace, scale.spec.replicas)


async def bind(client: Client, pod_type: type[Any], name: str, namespace: str, body: Any) -> Status:
    """POST pods/<name>/binding: assign a pod to the node its Binding targets."""
    target = body.get("target") if isinstance(body, dict) else None
    node = target.get("name") if isinstance(target, dict) else None
    if not isinstance(node, str) or not node:
        raise bad_request("Binding: target.name (the node) is required")
    for attempt in range(_RETRIES):
        current = await client.get(pod_type, name, namespace)
        if current.spec.node_name:
            message = (
                f'Operation cannot be fulfilled on pods/binding "{name}": pod {name} is '
                f'already assigned to node "{current.spec.node_name}"'
            )
            raise ApiError(
                Status(
                    message=message,
                    reason="Conflict",
                    code=409,
                    details=StatusDetails(name=name, kind="pods/binding"),
                )
            )
        spec = msgspec.structs.replace(current.spec, node_name=node)
        try:
            await client.update(msgspec.structs.replace(current, spec=spec))
        except ApiError as error:
            if error.reason != "Conflict" or attempt == _RETRIES - 1:
                raise
            continue
        return Status(status="Success", code=201, details=StatusDetails())
    raise AssertionError("unreachable")
