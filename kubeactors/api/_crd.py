"""apiextensions.k8s.io/v1 CustomResourceDefinition: a kind defined at runtime.

The schema of each version (`openAPIV3Schema`) is kept as decoded JSON: it is a JSON
Schema document that the API server interprets (see `_schema`), not a shape that
a typed struct would help with.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from ._base import WireStruct
from ._meta import ApiObject, ObjectMeta

__all__ = [
    "CRD_GROUP",
    "CustomResourceColumnDefinition",
    "CustomResourceConversion",
    "CustomResourceDefinition",
    "CustomResourceDefinitionCondition",
    "CustomResourceDefinitionNames",
    "CustomResourceDefinitionSpec",
    "CustomResourceDefinitionStatus",
    "CustomResourceDefinitionVersion",
    "CustomResourceSubresourceScale",
    "CustomResourceSubresources",
    "CustomResourceValidation",
]

CRD_GROUP = "apiextensions.k8s.io"


class CustomResourceDefinitionNames(WireStruct, frozen=True):
    """How the kind is called: `plural` names its path, `kind` its objects."""

    plural: str = ""
    singular: str = ""
    kind: str = ""
    list_kind: str = ""
    short_names: list[str] = msgspec.field(default_factory=list)
    categories: list[str] = msgspec.field(default_factory=list)


class CustomResourceValidation(WireStruct, frozen=True):
    open_apiv3_schema: dict[str, Any] | None = msgspec.field(default=None, name="openAPIV3Schema")


class CustomResourceSubresourceScale(WireStruct, frozen=True):
    """Where the `scale` subresource finds the replicas (`.spec.replicas`, say)."""

    spec_replicas_path: str = ""
    status_replicas_path: str = ""
    label_selector_path: str | None = None


class CustomResourceSubresources(WireStruct, frozen=True):
    # `status: {}` turns the subresource on: an empty object, not an absent one.
    status: dict[str, Any] | None = None
    scale: CustomResourceSubresourceScale | None = None


class CustomResourceColumnDefinition(WireStruct, frozen=True):
    """One `additionalPrinterColumns` entry: a `kubectl get` column read by JSONPath."""

    name: str = ""
    type: str = ""
    json_path: str = ""
    format: str = ""
    description: str = ""
    priority: int = 0


class CustomResourceDefinitionVersion(WireStruct, frozen=True):
    name: str = ""
    served: bool = False
    storage: bool = False
    deprecated: bool = False
    deprecation_warning: str | None = None
    schema: CustomResourceValidation | None = None
    subresources: CustomResourceSubresources | None = None
    additional_printer_columns: list[CustomResourceColumnDefinition] = msgspec.field(
        default_factory=list
    )


class CustomResourceConversion(WireStruct, frozen=True):
    """Only `None` is served: versions differ in their `apiVersion` alone."""

    strategy: str = "None"
    webhook: dict[str, Any] | None = None


class CustomResourceDefinitionSpec(WireStruct, frozen=True):
    group: str = ""
    names: CustomResourceDefinitionNames = msgspec.field(
        default_factory=CustomResourceDefinitionNames
    )
    scope: Literal["Namespaced", "Cluster", ""] = ""
    versions: list[CustomResourceDefinitionVersion] = msgspec.field(default_factory=list)
    conversion: CustomResourceConversion | None = None
    preserve_unknown_fields: bool | None = None


class CustomResourceDefinitionCondition(WireStruct, frozen=True):
    type: str
    status: Literal["True", "False", "Unknown"]
    last_transition_time: str | None = None
    reason: str = ""
    message: str = ""


class CustomResourceDefinitionStatus(WireStruct, frozen=True):
    conditions: list[CustomResourceDefinitionCondition] = msgspec.field(default_factory=list)
    accepted_names: CustomResourceDefinitionNames = msgspec.field(
        default_factory=CustomResourceDefinitionNames
    )
    stored_versions: list[str] = msgspec.field(default_factory=list)


class CustomResourceDefinition(ApiObject, frozen=True):
    """A kind the API server serves from the moment this object is created."""

    api_version: str = f"{CRD_GROUP}/v1"
    kind: str = "CustomResourceDefinition"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: CustomResourceDefinitionSpec = msgspec.field(default_factory=CustomResourceDefinitionSpec)
    status: CustomResourceDefinitionStatus = msgspec.field(
        default_factory=CustomResourceDefinitionStatus
    )
