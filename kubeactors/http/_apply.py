"""Server-side apply (`application/apply-patch+yaml`): create when missing, else merge.

The applied configuration is merged into the live object with the strategic merge
rules (lists by their merge keys), so the fields it sets take its values and the
fields it leaves out keep theirs; field ownership (`managedFields`, conflicts between
managers, fields no longer applied) is the field manager's (`_managed.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from ..api import ApiError, apply_strategic_merge_patch
from ..client import Client
from ._errors import bad_request
from ._managed import apply_fields, field_set, fields_v1

__all__ = ["APPLY", "parse_apply", "server_side_apply"]

APPLY = "application/apply-patch+yaml"
_RETRIES = 5
_MAX_MANAGER = 128


def parse_apply(body: bytes, params: Mapping[str, str]) -> dict[str, Any]:
    """The applied configuration (YAML or JSON), after checking the request's options."""
    manager = params.get("fieldManager", "")
    if not manager:
        raise bad_request(
            "PatchOptions.meta.k8s.io: fieldManager: Required value: is required for apply patch"
        )
    if len(manager) > _MAX_MANAGER:
        raise bad_request(
            "PatchOptions.meta.k8s.io: fieldManager: Too long: "
            f"may not be longer than {_MAX_MANAGER}"
        )
    if params.get("force", "false") not in ("true", "false", "True", "False", "1", "0"):
        raise bad_request(f"force: Invalid value: {params['force']!r}: must be a boolean")
    try:
        applied = msgspec.yaml.decode(body)
    except msgspec.DecodeError as error:
        raise bad_request(f"error decoding YAML: {error}") from None
    if not isinstance(applied, dict):
        raise bad_request("the applied configuration must be an object")
    for field in ("apiVersion", "kind"):
        if not applied.get(field):
            raise bad_request(f"{field} must be set in an applied configuration")
    return applied


async def server_side_apply(
    client: Client,
    kind: type[Any],
    name: str,
    namespace: str,
    applied: dict[str, Any],
    convert: Callable[[Any], Any],
    *,
    manager: str,
    force: bool,
    time: str,
) -> tuple[Any, bool]:
    """Apply `applied` to the object `name` as `manager`: (the stored object, whether
    it was created).

    `convert` turns a wire dict into the kind's struct, checking it against the path.
    """
    metadata = applied.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise bad_request("metadata: Invalid value: must be an object")
    precondition = metadata.get("resourceVersion", "")
    # Ownership is the server's to record: an applied configuration cannot set it.
    applied = {**applied, "metadata": {k: v for k, v in metadata.items() if k != "managedFields"}}
    api_version = str(applied["apiVersion"])
    for attempt in range(_RETRIES):
        try:
            current = await client.get(kind, name, namespace)
        except ApiError as error:
            if error.code != 404 or precondition:
                raise
            entry = {
                "manager": manager,
                "operation": "Apply",
                "apiVersion": api_version,
                "time": time,
                "fieldsType": "FieldsV1",
                "fieldsV1": fields_v1(field_set(applied)),
            }
            created = {**applied, "metadata": {**applied["metadata"], "managedFields": [entry]}}
            try:
                return await client.create(convert(created)), True
            except ApiError as refused:
                if refused.reason != "AlreadyExists" or attempt == _RETRIES - 1:
                    raise
                continue
        live = msgspec.to_builtins(current)
        merged = apply_strategic_merge_patch(live, applied)
        managed = apply_fields(
            live,
            applied,
            merged,
            manager=manager,
            force=force,
            api_version=api_version,
            time=time,
        )
        merged["metadata"] = {
            **merged.get("metadata", {}),
            "managedFields": managed,
            "resourceVersion": precondition or current.metadata.resource_version,
        }
        try:
            return await client.update(convert(merged)), False
        except ApiError as error:
            if error.reason != "Conflict" or precondition or attempt == _RETRIES - 1:
                raise
    raise AssertionError("unreachable")
