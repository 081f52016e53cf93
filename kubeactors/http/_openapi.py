"""OpenAPI v3 documents generated from the resource types (msgspec's JSON Schema).

Enough for `kubectl apply`/`create` (which looks for the `fieldValidation` parameter
on each kind's PATCH operation to choose server-side validation) and for
`kubectl explain` (which finds a kind's schema by `x-kubernetes-group-version-kind`).
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from ..api import CustomResourceKind, ObjectMeta, ResourceKind, Status
from ._kinds import KindIndex

__all__ = ["openapi_document", "openapi_root"]

_REF = "#/components/schemas/{name}"
_GVK = "x-kubernetes-group-version-kind"
_WRITE_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation", "pretty")
_encoder = msgspec.json.Encoder(order="sorted")
_API_VERSION = (
    "APIVersion defines the versioned schema of this representation of an object. "
    "Servers should convert recognized schemas to the latest internal value, and may "
    "reject unrecognized values."
)
_KIND = (
    "Kind is a string value representing the REST resource this object represents. "
    "Servers may infer this from the endpoint the client submits requests to."
)


def _simplify(schema: Any) -> Any:
    """OpenAPI 3.0 has no `null` type: `anyOf [X, null]` becomes X."""
    if isinstance(schema, list):
        return [_simplify(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    options = schema.get("anyOf")
    if isinstance(options, list):
        rest = [option for option in options if option != {"type": "null"}]
        if len(rest) == 1 and len(rest) < len(options):
            merged = {key: value for key, value in schema.items() if key != "anyOf"}
            merged.update(rest[0])
            schema = merged
    return {key: _simplify(value) for key, value in schema.items()}


def _gvk(kind: ResourceKind[Any]) -> dict[str, str]:
    return {"group": kind.group, "version": kind.version, "kind": kind.kind}


def _operation(
    kind: ResourceKind[Any], action: str, schema: str, params: tuple[str, ...]
) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": _REF.format(name=schema)}}}
    return {
        "operationId": f"{action}{kind.kind}",
        "x-kubernetes-action": action,
        _GVK: _gvk(kind),
        "parameters": [
            {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for name in params
        ],
        "responses": {"200": {"description": "OK", "content": content}},
    }


def _paths(kind: ResourceKind[Any], name: str) -> dict[str, Any]:
    prefix = "/api/v1" if not kind.group else f"/apis/{kind.group}/{kind.version}"
    scope = "/namespaces/{namespace}" if kind.namespaced else ""
    body = {"content": {"application/json": {"schema": {"$ref": _REF.format(name=name)}}}}
    create = _operation(kind, "post", name, _WRITE_PARAMETERS) | {"requestBody": body}
    replace = _operation(kind, "put", name, _WRITE_PARAMETERS) | {"requestBody": body}
    patch = _operation(kind, "patch", name, (*_WRITE_PARAMETERS, "force")) | {
        "requestBody": {"content": {"application/merge-patch+json": {"schema": {"type": "object"}}}}
    }
    collection = f"{prefix}{scope}/{kind.plural}"
    return {
        collection: {
            "get": _operation(kind, "list", name, ("labelSelector", "fieldSelector", "watch")),
            "post": create,
        },
        f"{collection}/{{name}}": {
            "get": _operation(kind, "get", name, ("pretty",)),
            "put": replace,
            "patch": patch,
            "delete": _operation(kind, "delete", "Status", ("dryRun",)),
        },
    }


def _custom_schema(kind: CustomResourceKind) -> dict[str, Any]:
    """A custom kind's schema as upstream publishes it: the CRD's, with the object
    header every kind has."""
    schema: dict[str, Any] = {"type": "object"}
    if isinstance(kind.schema, dict):
        schema = dict(kind.schema)
    properties = dict(schema.get("properties") or {})
    properties["apiVersion"] = {"type": "string", "description": _API_VERSION}
    properties["kind"] = {"type": "string", "description": _KIND}
    properties["metadata"] = {
        "allOf": [{"$ref": _REF.format(name="ObjectMeta")}],
        "description": "Standard object's metadata.",
    }
    schema["properties"] = properties
    schema[_GVK] = [_gvk(kind)]
    return schema


def _custom_name(kind: ResourceKind[Any]) -> str:
    """`com.example.v1.Widget`, as upstream names a custom kind's schema."""
    reversed_group = ".".join(reversed(kind.group.split(".")))
    return f"{reversed_group}.{kind.version}.{kind.kind}"


def openapi_document(kinds: KindIndex, group: str, version: str) -> bytes | None:
    """The OpenAPI v3 document of one group-version, or None if nothing is served there."""
    served = kinds.in_group_version(group, version)
    if not served:
        return None
    custom = [kind for kind in served if isinstance(kind, CustomResourceKind)]
    typed = [kind for kind in served if not isinstance(kind, CustomResourceKind)]
    extra: list[type[Any]] = [Status, ObjectMeta] if custom else [Status]
    refs, components = msgspec.json.schema_components(
        [kind.type for kind in typed] + extra, ref_template=_REF
    )
    schemas = _simplify(components)
    paths: dict[str, Any] = {}
    for kind, ref in zip(typed, refs, strict=False):
        name = ref["$ref"].rsplit("/", 1)[-1]
        schemas[name][_GVK] = [_gvk(kind)]
        paths.update(_paths(kind, name))
    for custom_kind in custom:
        name = _custom_name(custom_kind)
        schemas[name] = _custom_schema(custom_kind)
        paths.update(_paths(custom_kind, name))
    document = {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.31.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    }
    return _encoder.encode(document)


def openapi_root(kinds: KindIndex) -> dict[str, Any]:
    """`/openapi/v3`: each group-version's document, with a hash that changes with it."""
    paths = {}
    for group, versions in kinds.groups().items():
        for version in versions:
            document = openapi_document(kinds, group, version)
            assert document is not None
            digest = hashlib.sha512(document).hexdigest()[:64].upper()
            path = f"api/{version}" if not group else f"apis/{group}/{version}"
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}
