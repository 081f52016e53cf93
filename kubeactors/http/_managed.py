"""Field management: who set which field (`metadata.managedFields`), and apply conflicts.

Each write over HTTP records, per field manager, the fields it set, as upstream's
FieldsV1 trees (`{"f:spec": {"f:replicas": {}}}`). An Update takes over the fields
it changed from everyone else; an Apply owns exactly the fields of its configuration,
fails with a 409 listing the fields another manager set to a different value (unless
forced, which takes them over), and removes the fields it applied before and no longer
does when no one else owns them.

Choices: writes by in-process components (controllers, the scheduler, kubelets) are not
tracked, for speed; their objects keep the entries they had, and an object first
applied to without any entries is adopted by a `before-first-apply` manager owning all
its fields, as upstream does. Keyed lists are keyed by the one merge key the strategic
merge patch uses (`k:{"name":"web"}`), lists of scalars merged as sets by value
(`v:"x"`), other lists are atomic (one field).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..api import ApiError, Status, StatusCause, StatusDetails, list_merge_key

__all__ = [
    "FieldPath",
    "apply_fields",
    "field_set",
    "fields_v1",
    "format_path",
    "manager_of",
    "parse_fields_v1",
    "update_fields",
    "value_at",
]

FieldPath = tuple[str, ...]
"""One field as FieldsV1 tokens: `("f:spec", "f:containers", 'k:{"name":"web"}', "f:image")`."""

_MISSING = object()
_ITSELF = "."
# Metadata the server sets or names the object by: nobody manages these.
_UNMANAGED_METADATA = frozenset(
    {
        "name",
        "namespace",
        "generateName",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "managedFields",
        "selfLink",
    }
)
_BEFORE_FIRST_APPLY = "before-first-apply"


def manager_of(params: Mapping[str, str], user_agent: str) -> str:
    """The request's field manager: `fieldManager`, else the client's name from its
    User-Agent (`kubectl/v1.32.0 (linux/amd64)` -> `kubectl`), as upstream defaults it."""
    manager = params.get("fieldManager", "")
    if manager:
        return manager
    return user_agent.split("/", 1)[0].strip() or "unknown"


# -- field sets ------------------------------------------------------------------


def field_set(document: Mapping[str, Any], subresource: str = "") -> set[FieldPath]:
    """The managed fields `document` sets: its leaves, keyed list items and set members.

    Through the main resource `status` is not managed (the status subresource writes
    it); through `status`, only `status` is.
    """
    fields: set[FieldPath] = set()
    for key, value in document.items():
        if key in ("apiVersion", "kind"):
            continue
        if (key == "status") != (subresource == "status"):
            continue
        if key == "metadata" and isinstance(value, Mapping):
            for name, item in value.items():
                if name not in _UNMANAGED_METADATA:
                    _walk(item, ("f:metadata", f"f:{name}"), name, fields)
        else:
            _walk(value, (f"f:{key}",), key, fields)
    return fields


def _walk(value: Any, path: FieldPath, name: str, fields: set[FieldPath]) -> None:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            _walk(item, (*path, f"f:{key}"), key, fields)
        return
    if isinstance(value, list) and value:
        merge = list_merge_key(name, value)
        if merge == "$set":
            fields.update((*path, "v:" + _encode(item)) for item in value)
            return
        if merge is not None:
            for item in value:
                item_path = (*path, "k:" + _encode({merge: item[merge]}))
                fields.add((*item_path, _ITSELF))
                for key, field in item.items():
                    _walk(field, (*item_path, f"f:{key}"), key, fields)
            return
    fields.add(path)


def _encode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def value_at(document: Any, path: FieldPath) -> Any:
    """The value of one field in `document` (a private marker when it is absent)."""
    node = document
    for token in path:
        kind, _, name = token.partition(":")
        if token == _ITSELF:
            return node
        if kind == "f":
            if not isinstance(node, Mapping) or name not in node:
                return _MISSING
            node = node[name]
        elif kind == "k":
            if not isinstance(node, list):
                return _MISSING
            key = json.loads(name)
            node = next((item for item in node if _keyed(item, key)), _MISSING)
            if node is _MISSING:
                return _MISSING
        elif kind == "v":
            member = json.loads(name)
            return True if isinstance(node, list) and member in node else _MISSING
        else:
            return _MISSING
    return node


def _keyed(item: Any, key: Mapping[str, Any]) -> bool:
    """Whether a list item is the one a `k:` token names."""
    return isinstance(item, Mapping) and all(item.get(k) == v for k, v in key.items())


def _differs(one: Any, other: Any, path: FieldPath) -> bool:
    """Whether a field has another value in `other`; a list item's own membership (`.`)
    differs only by being there or not."""
    if path[-1] == _ITSELF:
        return (value_at(one, path) is _MISSING) != (value_at(other, path) is _MISSING)
    return bool(value_at(one, path) != value_at(other, path))


def _remove(document: dict[str, Any], path: FieldPath) -> None:
    """Remove one field from `document` in place; a field already gone is no error."""
    if path[-1] == _ITSELF:
        path = path[:-1]
    parent = value_at(document, path[:-1])
    kind, _, name = path[-1].partition(":")
    if kind == "f" and isinstance(parent, dict):
        parent.pop(name, None)
    elif kind == "k" and isinstance(parent, list):
        key = json.loads(name)
        parent[:] = [item for item in parent if not _keyed(item, key)]
    elif kind == "v" and isinstance(parent, list):
        member = json.loads(name)
        parent[:] = [item for item in parent if item != member]


def format_path(path: FieldPath) -> str:
    """A field as upstream prints it: `.spec.containers[name="web"].image`."""
    text = []
    for token in path:
        kind, _, name = token.partition(":")
        if kind == "f":
            text.append(f".{name}")
        elif kind == "k":
            pairs = ",".join(f"{k}={json.dumps(v)}" for k, v in json.loads(name).items())
            text.append(f"[{pairs}]")
        elif kind == "v":
            text.append(f"[={name}]")
    return "".join(text)


# -- FieldsV1 --------------------------------------------------------------------


def fields_v1(fields: Iterable[FieldPath]) -> dict[str, Any]:
    """The FieldsV1 tree of a set of fields."""
    tree: dict[str, Any] = {}
    for path in sorted(fields):
        node = tree
        for token in path:
            node = node.setdefault(token, {})
    return tree


def parse_fields_v1(tree: Mapping[str, Any], prefix: FieldPath = ()) -> set[FieldPath]:
    """The fields of a FieldsV1 tree (its leaves)."""
    fields: set[FieldPath] = set()
    for token, child in tree.items():
        path = (*prefix, token)
        if isinstance(child, Mapping) and child:
            fields |= parse_fields_v1(child, path)
        else:
            fields.add(path)
    return fields


# -- operations ------------------------------------------------------------------


def _entries(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    metadata = document.get("metadata") or {}
    return [dict(entry) for entry in metadata.get("managedFields") or []]


def _owned(entry: Mapping[str, Any]) -> set[FieldPath]:
    return parse_fields_v1(entry.get("fieldsV1") or {})


def _is(entry: Mapping[str, Any], manager: str, operation: str, subresource: str) -> bool:
    return (
        entry.get("manager") == manager
        and entry.get("operation") == operation
        and entry.get("subresource", "") == subresource
    )


def _entry(
    manager: str, operation: str, api_version: str, time: str, subresource: str
) -> dict[str, Any]:
    entry = {
        "manager": manager,
        "operation": operation,
        "apiVersion": api_version,
        "time": time,
        "fieldsType": "FieldsV1",
        "fieldsV1": {},
    }
    if subresource:
        entry["subresource"] = subresource
    return entry


def _store(entries: list[dict[str, Any]], owned: list[set[FieldPath]]) -> list[dict[str, Any]]:
    """The entries with their new field sets; entries left owning nothing are dropped."""
    kept = []
    for entry, fields in zip(entries, owned, strict=True):
        if fields:
            kept.append({**entry, "fieldsV1": fields_v1(fields)})
    return kept


def update_fields(
    old: Mapping[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    api_version: str,
    time: str,
    subresource: str = "",
) -> list[dict[str, Any]]:
    """The managedFields of `new` after an Update by `manager` from `old` (None: a create).

    The manager takes the fields it changed or added from everyone; fields that went
    away leave every entry.
    """
    entries = _entries(old) if old is not None else []
    before = field_set(old, subresource) if old is not None else set()
    after = field_set(new, subresource)
    changed = {path for path in after if _differs(new, old, path)}
    gone = before - after
    if not any(_is(entry, manager, "Update", subresource) for entry in entries):
        entries.append(_entry(manager, "Update", api_version, time, subresource))
    owned = []
    for entry in entries:
        fields = _owned(entry) - gone
        if _is(entry, manager, "Update", subresource):
            fields |= changed
            if changed:
                entry["time"] = time
        else:
            fields -= changed
        owned.append(fields)
    return _store(entries, owned)


def apply_fields(
    live: dict[str, Any],
    applied: Mapping[str, Any],
    merged: dict[str, Any],
    *,
    manager: str,
    force: bool,
    api_version: str,
    time: str,
) -> list[dict[str, Any]]:
    """Field management of an Apply: checks conflicts, prunes `merged` in place of the
    fields `manager` no longer applies, and returns the new managedFields.

    `merged` is `applied` merged into `live`. Raises the 409 Conflict listing every
    field another manager set to a different value, unless `force`.
    """
    entries = _entries(live)
    if not entries:
        adopted = _entry(_BEFORE_FIRST_APPLY, "Update", api_version, time, "")
        entries = [{**adopted, "fieldsV1": fields_v1(field_set(live))}]
    wanted = field_set(applied)
    conflicts: list[tuple[str, FieldPath]] = []
    for entry in entries:
        if _is(entry, manager, "Apply", ""):
            continue
        for path in sorted(_owned(entry) & wanted):
            if _differs(applied, live, path):
                conflicts.append((_describe(entry), path))
    if conflicts and not force:
        raise _conflict_error(conflicts)
    contested = {path for _, path in conflicts}
    owned, previous = [], set[FieldPath]()
    for entry in entries:
        fields = _owned(entry)
        if _is(entry, manager, "Apply", ""):
            previous = fields
            fields = set()
        owned.append(fields - contested)
    others = set().union(*owned)
    # Whole list items first (they are found by their key, which a field removal
    # could take away), then fields, deepest first.
    dropped = previous - wanted - others
    for path in sorted(dropped, key=lambda path: (path[-1] != _ITSELF, -len(path))):
        _remove(merged, path)
    mine = next((i for i, entry in enumerate(entries) if _is(entry, manager, "Apply", "")), None)
    if mine is None:
        entries.append(_entry(manager, "Apply", api_version, time, ""))
        owned.append(wanted)
    else:
        entries[mine] = {**entries[mine], "time": time, "apiVersion": api_version}
        owned[mine] = wanted
    return _store(entries, owned)


def _describe(entry: Mapping[str, Any]) -> str:
    name = json.dumps(entry.get("manager", ""))
    if entry.get("subresource"):
        name += f" with subresource {json.dumps(entry['subresource'])}"
    if entry.get("operation") == "Update":
        name += f" using {entry.get('apiVersion', '')}"
    return name


def _conflict_error(conflicts: list[tuple[str, FieldPath]]) -> ApiError:
    causes = [
        StatusCause(
            reason="FieldManagerConflict",
            message=f"conflict with {manager}",
            field=format_path(path),
        )
        for manager, path in conflicts
    ]
    if len(conflicts) == 1:
        manager, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {manager}: {format_path(path)}"
    else:
        lines = []
        for manager in sorted({manager for manager, _ in conflicts}):
            lines.append(f"conflicts with {manager}:")
            lines += [f"- {format_path(path)}" for owner, path in conflicts if owner == manager]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(
        Status(
            status="Failure",
            message=message,
            reason="Conflict",
            code=409,
            details=StatusDetails(causes=causes),
        )
    )
