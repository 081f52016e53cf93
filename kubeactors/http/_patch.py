"""Patches over wire objects: JSON merge patch, JSON patch and strategic merge patch."""

from __future__ import annotations

import copy
from typing import Any

from ..api import ApiError, Status, StatusDetails
from ._errors import bad_request

__all__ = ["PATCH_TYPES", "apply_patch"]

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
PATCH_TYPES = (MERGE, JSON_PATCH, STRATEGIC)

# The merge keys of the built-in kinds' lists (upstream's `patchMergeKey` tags).
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "ports": "containerPort",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "conditions": "type",
    "addresses": "type",
    "imagePullSecrets": "name",
    "tolerations": "key",
    "taints": "key",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Kubernetes' strategic merge: lists with a merge key merge element by element."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue  # $setElementOrder, $retainKeys: ordering hints only here
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and key in _MERGE_KEYS:
            current = result.get(key)
            result[key] = _merge_list(current if isinstance(current, list) else [], value, key)
        else:
            result[key] = strategic_merge_patch(result.get(key), value)
    return result


def _merge_list(current: list[Any], patch: list[Any], field: str) -> list[Any]:
    merge_key = _MERGE_KEYS[field]
    merged = list(current)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise bad_request(f"{field}: each element of the patch needs its {merge_key!r}")
        index = next(
            (
                i
                for i, old in enumerate(merged)
                if isinstance(old, dict) and old.get(merge_key) == item[merge_key]
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                merged.pop(index)
        elif index is None:
            merged.append({k: v for k, v in item.items() if k != "$patch"})
        else:
            merged[index] = strategic_merge_patch(merged[index], item)
    return merged


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"JSON patch path must start with '/': {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _parent(document: Any, parts: list[str], path: str) -> tuple[Any, str]:
    node = document
    for part in parts[:-1]:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise _unprocessable(f"JSON patch path not found: {path!r}") from None
    return node, parts[-1]


def _unprocessable(message: str) -> ApiError:
    return ApiError(Status(message=message, reason="Invalid", code=422, details=StatusDetails()))


def json_patch(document: Any, operations: Any) -> Any:
    """RFC 6902: add, remove, replace, move, copy and test; a failed test is a 422."""
    if not isinstance(operations, list):
        raise bad_request("a JSON patch must be a list of operations")
    result = copy.deepcopy(document)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise bad_request(f"not a JSON patch operation: {operation!r}")
        op, path = operation["op"], operation["path"]
        if op in ("move", "copy"):
            source = _get(result, operation.get("from", ""))
            if op == "move":
                result = _remove(result, operation["from"])
            result = _add(result, path, copy.deepcopy(source))
        elif op == "test":
            if _get(result, path) != operation.get("value"):
                raise _unprocessable(f"the test at {path!r} failed: values differ")
        elif op == "remove":
            result = _remove(result, path)
        elif op in ("add", "replace"):
            if op == "replace":
                _get(result, path)
                result = _remove(result, path)
            result = _add(result, path, copy.deepcopy(operation.get("value")))
        else:
            raise bad_request(f"unknown JSON patch operation: {op!r}")
    return result


def _get(document: Any, path: str) -> Any:
    node = document
    for part in _pointer(path):
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise _unprocessable(f"JSON patch path not found: {path!r}") from None
    return node


def _add(document: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent, last = _parent(document, parts, path)
    if isinstance(parent, list):
        index = len(parent) if last == "-" else _index(last, len(parent) + 1, path)
        parent.insert(index, value)
    elif isinstance(parent, dict):
        parent[last] = value
    else:
        raise _unprocessable(f"JSON patch path not found: {path!r}")
    return document


def _remove(document: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return None
    parent, last = _parent(document, parts, path)
    if isinstance(parent, list):
        parent.pop(_index(last, len(parent), path))
    elif isinstance(parent, dict) and last in parent:
        del parent[last]
    else:
        raise _unprocessable(f"JSON patch path not found: {path!r}")
    return document


def _index(text: str, size: int, path: str) -> int:
    try:
        index = int(text)
    except ValueError:
        raise _unprocessable(f"not a list index in {path!r}: {text!r}") from None
    if not 0 <= index < size:
        raise _unprocessable(f"list index out of range in {path!r}: {index}")
    return index


def apply_patch(document: dict[str, Any], patch: Any, content_type: str) -> Any:
    """`document` with `patch` of `content_type` applied (a new value: the input is kept)."""
    if content_type == MERGE:
        return merge_patch(document, patch)
    if content_type == STRATEGIC:
        return strategic_merge_patch(document, patch)
    if content_type == JSON_PATCH:
        return json_patch(document, patch)
    raise bad_request(f"unsupported patch type: {content_type!r}")
