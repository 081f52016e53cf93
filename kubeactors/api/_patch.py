"""Patches applied to an object's JSON: merge patch (RFC 7386), JSON patch (RFC 6902)
and strategic merge patch, which merges built-in lists (containers, env, conditions)
by their key the way kubectl's `patch` does."""

from __future__ import annotations

import copy
from typing import Any, Literal

from ._status import ApiError, Status, bad_request

__all__ = [
    "PATCH_TYPES",
    "PatchType",
    "apply_json_patch",
    "apply_merge_patch",
    "apply_patch",
    "apply_strategic_merge_patch",
    "list_merge_key",
]

PatchType = Literal["json", "merge", "strategic"]

PATCH_TYPES: dict[str, PatchType] = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
}

# List fields merged by key in a strategic merge patch, by field name; lists not
# named here are replaced whole (as atomic lists are upstream). Where one name means
# different lists, the key is chosen by what the items carry.
_MERGE_KEYS: dict[str, tuple[str, ...]] = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "imagePullSecrets": ("name",),
    "ports": ("containerPort", "port"),
    "conditions": ("type",),
    "addresses": ("type",),
    "ownerReferences": ("uid",),
    "tolerations": ("key",),
    "taints": ("key",),
    "schedulingGates": ("name",),
    "volumeDevices": ("devicePath",),
    "hostAliases": ("ip",),
    "topologySpreadConstraints": ("topologyKey",),
    "containerStatuses": ("name",),
    "initContainerStatuses": ("name",),
}
# Lists of scalars merged as sets.
_SET_LISTS = frozenset({"finalizers"})


def apply_patch(document: dict[str, Any], patch: Any, patch_type: PatchType) -> dict[str, Any]:
    """`document` (not changed) with `patch` applied; malformed patches are a 400/422."""
    if patch_type == "json":
        result = apply_json_patch(document, patch)
    elif patch_type == "merge":
        result = apply_merge_patch(document, patch)
    else:
        result = apply_strategic_merge_patch(document, patch)
    if not isinstance(result, dict):
        raise bad_request("the patched object is not a JSON object")
    return result


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, `null` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


def apply_strategic_merge_patch(target: Any, patch: Any, field: str = "") -> Any:
    """Merge patch, except that keyed lists merge item by item and `$patch` directives
    (`replace`, `delete`) and `$retainKeys` are honoured."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    if directive is not None:
        raise bad_request(f"unknown patch directive {directive!r}")
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            name = key.partition("/")[2]
            if isinstance(value, list) and isinstance(result.get(name), list):
                result[name] = [item for item in result[name] if item not in value]
            continue
        if key.startswith("$setElementOrder/") or key == "$retainKeys":
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list(key, result[key], value)
        else:
            merged = apply_strategic_merge_patch(result.get(key), value, key)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
    return result


def list_merge_key(field: str, items: list[Any]) -> str | None:
    """How the list `field` holding `items` merges: the key its items merge by, `"$set"`
    for a list of scalars merged as a set, or None for an atomic list."""
    if field in _SET_LISTS and not any(isinstance(item, dict | list) for item in items):
        return "$set"
    return _merge_key(field, items)


def _merge_key(field: str, items: list[Any]) -> str | None:
    for candidate in _MERGE_KEYS.get(field, ()):
        if all(isinstance(item, dict) and candidate in item for item in items):
            return candidate
    return None


def _merge_list(field: str, current: list[Any], patch: list[Any]) -> list[Any]:
    if field in _SET_LISTS:
        merged = list(current)
        merged += [item for item in patch if item not in merged]
        return merged
    if not all(isinstance(item, dict) for item in patch):
        return copy.deepcopy(patch)
    key = _merge_key(field, [*current, *patch])
    if key is None:
        return copy.deepcopy(patch)
    result = list(current)
    for item in patch:
        position = next(
            (i for i, existing in enumerate(result) if existing.get(key) == item.get(key)), None
        )
        if item.get("$patch") == "delete":
            if position is not None:
                del result[position]
        elif position is None:
            result.append(apply_strategic_merge_patch({}, item, field))
        else:
            result[position] = apply_strategic_merge_patch(result[position], item, field)
    return result


# -- JSON patch -----------------------------------------------------------------


def _unapplicable(message: str) -> ApiError:
    """422: a well-formed JSON patch that does not apply to the object (a failed test,
    a missing path), as kube-apiserver answers; clients such as kopf rely on it."""
    return ApiError(Status(message=message, reason="Invalid", code=422))


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request(f"json patch path must start with '/': {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], token: str, path: str, *, adding: bool) -> int:
    if adding and token == "-":
        return len(container)
    if not token.isdigit() or (token != "0" and token.startswith("0")):
        raise _unapplicable(f"json patch: invalid array index {token!r} in {path!r}")
    index = int(token)
    if index > len(container) or (not adding and index == len(container)):
        raise _unapplicable(f"json patch: index {index} out of range in {path!r}")
    return index


def _parent(document: Any, parts: list[str], path: str) -> Any:
    node = document
    for token in parts[:-1]:
        if isinstance(node, dict):
            if token not in node:
                raise _unapplicable(f"json patch: path {path!r} does not exist")
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, path, adding=False)]
        else:
            raise _unapplicable(f"json patch: path {path!r} does not exist")
    return node


def _get(document: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return document
    parent = _parent(document, parts, path)
    token = parts[-1]
    if isinstance(parent, dict) and token in parent:
        return parent[token]
    if isinstance(parent, list):
        return parent[_index(parent, token, path, adding=False)]
    raise _unapplicable(f"json patch: path {path!r} does not exist")


def _remove(document: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        raise _unapplicable("json patch: cannot remove the whole document")
    parent = _parent(document, parts, path)
    token = parts[-1]
    if isinstance(parent, dict) and token in parent:
        return parent.pop(token)
    if isinstance(parent, list):
        return parent.pop(_index(parent, token, path, adding=False))
    raise _unapplicable(f"json patch: path {path!r} does not exist")


def _add(document: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(document, parts, path)
    token = parts[-1]
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, path, adding=True), value)
    else:
        raise _unapplicable(f"json patch: path {path!r} does not exist")
    return document


def apply_json_patch(document: Any, patch: Any) -> Any:
    """RFC 6902: add, remove, replace, move, copy and test, applied in order."""
    if not isinstance(patch, list):
        raise bad_request("json patch must be a list of operations")
    result = copy.deepcopy(document)
    for operation in patch:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise bad_request(f"json patch: malformed operation {operation!r}")
        op, path = operation["op"], operation["path"]
        if op in ("add", "replace", "test") and "value" not in operation:
            raise bad_request(f"json patch: {op} at {path!r} needs a value")
        if op == "add":
            result = _add(result, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            _remove(result, path)
        elif op == "replace":
            _get(result, path)
            if _pointer(path):
                _remove(result, path)
            result = _add(result, path, copy.deepcopy(operation["value"]))
        elif op in ("move", "copy"):
            source = operation.get("from")
            if not isinstance(source, str):
                raise bad_request(f"json patch: {op} needs 'from'")
            value = _remove(result, source) if op == "move" else copy.deepcopy(_get(result, source))
            result = _add(result, path, value)
        elif op == "test":
            if _get(result, path) != operation["value"]:
                raise _unapplicable(f"json patch: test failed at {path!r}")
        else:
            raise bad_request(f"json patch: unknown operation {op!r}")
    return result
