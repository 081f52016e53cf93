"""Custom resources: the kinds a CustomResourceDefinition serves, one per served version.

Each version gets a struct type made at runtime (so the API server, the client and
the HTTP layer handle custom objects as they handle built-in ones): `apiVersion`,
`kind`, `metadata`, then one field per top-level property of the version's schema
(always `spec` and `status`), each holding decoded JSON. Writes are pruned,
defaulted and validated against the schema (`_schema`).
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass
from typing import Any

import msgspec

from ._apps import Scale, ScaleSpec, ScaleStatus
from ._crd import (
    CRD_GROUP,
    CustomResourceColumnDefinition,
    CustomResourceDefinition,
    CustomResourceDefinitionSpec,
    CustomResourceSubresourceScale,
)
from ._decoding import unknown_fields
from ._kinds import ResourceKind
from ._meta import ApiObject, ObjectMeta
from ._schema import default, prune, validate_value
from ._status import ApiError, StatusCause

__all__ = [
    "CRD_FINALIZER",
    "CustomObject",
    "CustomResourceKind",
    "custom_kinds",
    "custom_scale",
    "custom_with_replicas",
    "normalize_custom",
    "unknown_fields_of",
    "validate_custom",
]

CRD_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
"""Held by a CRD being deleted until every one of its custom objects is gone."""

_HEADER = ("apiVersion", "kind", "metadata")
_RESERVED = ("api_version", "kind", "metadata")
_ANY_OBJECT: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


class CustomObject(ApiObject, frozen=True):
    """The base of every custom resource type (each CRD version makes a subclass)."""


@dataclass(frozen=True, eq=False)
class CustomResourceKind(ResourceKind[Any]):
    """A kind served for a CustomResourceDefinition: its schema, printer columns and
    scale paths besides what every kind has. Every version of one CRD shares one
    storage prefix; an object read through a version carries that `apiVersion`."""

    crd_name: str = ""
    spec: CustomResourceDefinitionSpec | None = None
    """The CRD spec this kind was made from (to tell whether a CRD write changes it)."""
    schema: Any = None
    columns: tuple[CustomResourceColumnDefinition, ...] = ()
    scale: CustomResourceSubresourceScale | None = None

    def decode(self, data: bytes, revision: int) -> Any:
        obj = super().decode(data, revision)
        if obj.api_version != self.api_version:
            obj = msgspec.structs.replace(obj, api_version=self.api_version)
        return obj

    def to_document(self, obj: Any) -> dict[str, Any]:
        document: dict[str, Any] = msgspec.to_builtins(obj)
        return document

    def from_document(self, document: dict[str, Any]) -> Any:
        return msgspec.convert(document, self.type)


def _python_name(name: str, index: int) -> str:
    if (
        name.isidentifier()
        and not keyword.iskeyword(name)
        and not name.startswith("_")
        and name not in _RESERVED
    ):
        return name
    return f"field_{index}"


def _custom_type(group: str, version: str, kind: str, schema: Any) -> type[CustomObject]:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    names = [name for name in (properties or {}) if name not in _HEADER]
    for name in ("spec", "status"):
        if name not in names:
            names.append(name)
    fields: list[tuple[str, Any, Any]] = [
        ("api_version", str, f"{group}/{version}"),
        ("kind", str, kind),
        ("metadata", ObjectMeta, msgspec.field(default_factory=ObjectMeta)),
    ]
    for index, name in enumerate(names):
        fields.append(
            (_python_name(name, index), Any, msgspec.field(default=msgspec.UNSET, name=name))
        )
    made: type[CustomObject] = msgspec.defstruct(  # type: ignore[assignment]
        kind,
        fields,
        bases=(CustomObject,),
        frozen=True,
        kw_only=True,
        module="kubeactors.api.custom",
    )
    return made


def custom_kinds(crd: CustomResourceDefinition) -> list[CustomResourceKind]:
    """The kinds `crd` serves: one per served version, the storage version first."""
    spec, names = crd.spec, crd.spec.names
    registry = f"/registry/{spec.group}/{names.plural}/".encode()
    versions = sorted(
        (v for v in spec.versions if v.served),
        key=lambda v: (not v.storage, spec.versions.index(v)),
    )
    kinds = []
    for version in versions:
        schema = version.schema.open_apiv3_schema if version.schema is not None else None
        if spec.preserve_unknown_fields or not isinstance(schema, dict):
            schema = schema if isinstance(schema, dict) else _ANY_OBJECT
            schema = {**schema, "x-kubernetes-preserve-unknown-fields": True}
        subresources = version.subresources
        served: list[str] = []
        scale = None
        if subresources is not None and subresources.status is not None:
            served.append("status")
        if subresources is not None and subresources.scale is not None:
            served.append("scale")
            scale = subresources.scale
        kinds.append(
            CustomResourceKind(
                _custom_type(spec.group, version.name, names.kind, schema),
                names.kind,
                names.plural,
                spec.scope == "Namespaced",
                registry,
                group=spec.group,
                version=version.name,
                singular=names.singular or names.kind.lower(),
                short_names=tuple(names.short_names),
                categories=tuple(names.categories),
                subresources=tuple(served),
                crd_name=crd.metadata.name,
                spec=spec,
                schema=schema,
                columns=tuple(version.additional_printer_columns),
                scale=scale,
            )
        )
    return kinds


def qualified(kind: ResourceKind[Any]) -> str:
    """`Widget.example.com`, as upstream names a custom kind in its errors."""
    return f"{kind.kind}.{kind.group}" if kind.group else kind.kind


# -- writes -------------------------------------------------------------------------


def normalize_custom(kind: CustomResourceKind, obj: Any, *, creating: bool) -> Any:
    """`obj` as it is stored: pruned of unspecified fields, defaulted from the schema,
    and on create without a status when the status subresource is on (as upstream)."""
    document = kind.to_document(obj)
    if creating and kind.has_status:
        document.pop("status", None)
    header = {key: document.pop(key) for key in _HEADER if key in document}
    pruned, _ = prune(document, kind.schema)
    defaulted = default(pruned, kind.schema)
    try:
        return kind.from_document({**header, **defaulted})
    except msgspec.ValidationError as error:
        raise ApiError.invalid(
            qualified(kind),
            obj.metadata.name,
            [StatusCause(reason="FieldValueInvalid", field="", message=str(error))],
        ) from None


def validate_custom(kind: CustomResourceKind, obj: Any) -> list[StatusCause]:
    """Every way `obj` breaks its version's schema (metadata is checked as for any kind)."""
    document = kind.to_document(obj)
    for key in _HEADER:
        document.pop(key, None)
    return validate_value(document, kind.schema)


def unknown_fields_of(kind: ResourceKind[Any], raw: Any) -> list[str]:
    """The paths of the fields in a client's `raw` object that `kind` does not know
    (and would drop): the schema's pruning for a custom kind."""
    if not isinstance(kind, CustomResourceKind):
        return unknown_fields(raw, kind.type)
    if not isinstance(raw, dict):
        return []
    body = {key: value for key, value in raw.items() if key not in _HEADER}
    _, dropped = prune(body, kind.schema)
    metadata = raw.get("metadata")
    dropped += [f"metadata.{path}" for path in unknown_fields(metadata, ObjectMeta)]
    return dropped


# -- the scale subresource ------------------------------------------------------------


def _path(text: str) -> list[str]:
    return [part for part in text.strip().lstrip(".").split(".") if part]


def _read(document: Any, path: str) -> Any:
    for part in _path(path):
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document


def custom_scale(kind: CustomResourceKind, obj: Any) -> Scale:
    """The autoscaling/v1 Scale of a custom object, read at the CRD's scale paths."""
    assert kind.scale is not None
    document = kind.to_document(obj)
    replicas = _read(document, kind.scale.spec_replicas_path)
    current = _read(document, kind.scale.status_replicas_path)
    selector = _read(document, kind.scale.label_selector_path or "")
    meta: ObjectMeta = obj.metadata
    return Scale(
        metadata=ObjectMeta(
            name=meta.name,
            namespace=meta.namespace,
            uid=meta.uid,
            resource_version=meta.resource_version,
            creation_timestamp=meta.creation_timestamp,
        ),
        spec=ScaleSpec(replicas=replicas if isinstance(replicas, int) else 0),
        status=ScaleStatus(
            replicas=current if isinstance(current, int) else 0,
            selector=selector if isinstance(selector, str) else "",
        ),
    )


def custom_with_replicas(kind: CustomResourceKind, obj: Any, replicas: int) -> Any:
    """`obj` with `replicas` written at the CRD's `specReplicasPath`."""
    assert kind.scale is not None
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
    document = kind.to_document(obj)
    parts = _path(kind.scale.spec_replicas_path)
    node = document
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = node[part] = {}
        node = child
    node[parts[-1]] = replicas
    return kind.from_document(document)


def is_crd(kind: ResourceKind[Any]) -> bool:
    return kind.group == CRD_GROUP and kind.plural == "customresourcedefinitions"
