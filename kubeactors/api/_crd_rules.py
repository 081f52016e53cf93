"""The rules of a CustomResourceDefinition: its defaults, its validation, and the
status the API server gives it (`NamesAccepted`, `Established`, `storedVersions`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec

from ._crd import (
    CustomResourceDefinition,
    CustomResourceDefinitionCondition,
    CustomResourceDefinitionNames,
    CustomResourceDefinitionStatus,
)
from ._kinds import ResourceKind
from ._schema import check_structural
from ._status import StatusCause

__all__ = ["crd_defaults", "crd_status", "name_conflict", "terminating", "validate_crd"]

replace = msgspec.structs.replace

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_KIND = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def crd_defaults(crd: CustomResourceDefinition) -> CustomResourceDefinition:
    """Upstream's defaults: `singular` and `listKind` from the kind, conversion None."""
    names = crd.spec.names
    names = replace(
        names,
        singular=names.singular or names.kind.lower(),
        list_kind=names.list_kind or (f"{names.kind}List" if names.kind else ""),
    )
    return replace(crd, spec=replace(crd.spec, names=names))


def _invalid(field: str, value: Any, detail: str) -> StatusCause:
    shown = f'"{value}"' if isinstance(value, str) else repr(value)
    return StatusCause(
        reason="FieldValueInvalid", field=field, message=f"Invalid value: {shown}: {detail}"
    )


def _required(field: str, detail: str = "") -> StatusCause:
    message = f"Required value: {detail}" if detail else "Required value"
    return StatusCause(reason="FieldValueRequired", field=field, message=message)


def _validate_names(names: CustomResourceDefinitionNames, causes: list[StatusCause]) -> None:
    path = "spec.names"
    if not names.plural:
        causes.append(_required(f"{path}.plural"))
    elif not _DNS_LABEL.match(names.plural):
        causes.append(_invalid(f"{path}.plural", names.plural, "must be a DNS-1035 label"))
    if names.singular and not _DNS_LABEL.match(names.singular):
        causes.append(_invalid(f"{path}.singular", names.singular, "must be a DNS-1035 label"))
    if not names.kind:
        causes.append(_required(f"{path}.kind"))
    elif not _KIND.match(names.kind):
        causes.append(
            _invalid(
                f"{path}.kind",
                names.kind,
                "may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?",
            )
        )
    if names.list_kind and names.list_kind == names.kind:
        causes.append(
            _invalid(f"{path}.listKind", names.list_kind, "kind and listKind may not be the same")
        )
    for index, short in enumerate(names.short_names):
        if not _DNS_LABEL.match(short):
            causes.append(
                _invalid(f"{path}.shortNames[{index}]", short, "must be a DNS-1035 label")
            )
    for index, category in enumerate(names.categories):
        if not _DNS_LABEL.match(category):
            causes.append(
                _invalid(f"{path}.categories[{index}]", category, "must be a DNS-1035 label")
            )


def validate_crd(crd: CustomResourceDefinition) -> list[StatusCause]:
    """Every problem with `crd` (metadata name and kind are checked as for any kind)."""
    spec = crd.spec
    causes: list[StatusCause] = []
    if not spec.group:
        causes.append(_required("spec.group"))
    elif "." not in spec.group:
        causes.append(
            _invalid("spec.group", spec.group, "should be a domain with at least one dot")
        )
    _validate_names(spec.names, causes)
    expected = f"{spec.names.plural}.{spec.group}"
    if spec.group and spec.names.plural and crd.metadata.name != expected:
        causes.append(
            _invalid(
                "metadata.name",
                crd.metadata.name,
                f'must be spec.names.plural+"."+spec.group ("{expected}")',
            )
        )
    if spec.scope not in ("Namespaced", "Cluster"):
        causes.append(
            StatusCause(
                reason="FieldValueNotSupported",
                field="spec.scope",
                message=(
                    f'Unsupported value: "{spec.scope}": supported values: "Cluster", "Namespaced"'
                ),
            )
        )
    if spec.conversion is not None and spec.conversion.strategy not in ("", "None"):
        causes.append(
            StatusCause(
                reason="FieldValueNotSupported",
                field="spec.conversion.strategy",
                message=(
                    f'Unsupported value: "{spec.conversion.strategy}": supported values: "None" '
                    "(conversion webhooks are not served)"
                ),
            )
        )
    _validate_versions(crd, causes)
    return causes


def _validate_versions(crd: CustomResourceDefinition, causes: list[StatusCause]) -> None:
    versions = crd.spec.versions
    if not versions:
        causes.append(_required("spec.versions", "must have at least one version"))
        return
    storage = [v.name for v in versions if v.storage]
    if len(storage) != 1:
        causes.append(
            _invalid(
                "spec.versions", storage, "must have exactly one version marked as storage version"
            )
        )
    if not any(v.served for v in versions):
        causes.append(
            _invalid(
                "spec.versions", [v.name for v in versions], "must have at least one served version"
            )
        )
    seen: set[str] = set()
    for index, version in enumerate(versions):
        path = f"spec.versions[{index}]"
        if not _DNS_1035.match(version.name):
            causes.append(_invalid(f"{path}.name", version.name, "must be a DNS-1035 label"))
        if version.name in seen:
            causes.append(
                StatusCause(
                    reason="FieldValueDuplicate",
                    field=f"{path}.name",
                    message=f'Duplicate value: "{version.name}"',
                )
            )
        seen.add(version.name)
        schema = version.schema.open_apiv3_schema if version.schema is not None else None
        if schema is None and not crd.spec.preserve_unknown_fields:
            causes.append(_required(f"{path}.schema.openAPIV3Schema", "schemas are required"))
        elif schema is not None:
            causes += check_structural(schema, f"{path}.schema.openAPIV3Schema")
        scale = version.subresources.scale if version.subresources is not None else None
        if scale is not None:
            scale_path = f"{path}.subresources.scale"
            if not scale.spec_replicas_path.startswith(".spec."):
                causes.append(
                    _invalid(
                        f"{scale_path}.specReplicasPath",
                        scale.spec_replicas_path,
                        "should be a json path under .spec",
                    )
                )
            if not scale.status_replicas_path.startswith(".status."):
                causes.append(
                    _invalid(
                        f"{scale_path}.statusReplicasPath",
                        scale.status_replicas_path,
                        "should be a json path under .status",
                    )
                )
        for column_index, column in enumerate(version.additional_printer_columns):
            column_path = f"{path}.additionalPrinterColumns[{column_index}]"
            if not column.name:
                causes.append(_required(f"{column_path}.name"))
            if column.type not in ("integer", "number", "string", "boolean", "date"):
                causes.append(
                    StatusCause(
                        reason="FieldValueNotSupported",
                        field=f"{column_path}.type",
                        message=(
                            f'Unsupported value: "{column.type}": supported values: "boolean", '
                            '"date", "integer", "number", "string"'
                        ),
                    )
                )
            if not column.json_path:
                causes.append(_required(f"{column_path}.jsonPath"))


def name_conflict(crd: CustomResourceDefinition, served: Iterable[ResourceKind[Any]]) -> str:
    """Why `crd`'s names cannot be served beside the kinds served already, or ""."""
    spec, names = crd.spec, crd.spec.names
    for kind in served:
        if kind.group != spec.group or getattr(kind, "crd_name", None) == crd.metadata.name:
            continue
        if kind.plural == names.plural:
            return f'"{names.plural}" is already in use'
        if kind.kind == names.kind:
            return f'"{names.kind}" is already in use'
        taken = {kind.plural, kind.singular_name, *kind.short_names}
        for name in (names.singular, *names.short_names):
            if name and name in taken:
                return f'"{name}" is already in use'
    return ""


def _condition(
    old: list[CustomResourceDefinitionCondition],
    kind: str,
    status: str,
    reason: str,
    message: str,
    now: str,
) -> CustomResourceDefinitionCondition:
    previous = next((c for c in old if c.type == kind), None)
    since = previous.last_transition_time if previous and previous.status == status else now
    return CustomResourceDefinitionCondition(
        type=kind,
        status=status,  # type: ignore[arg-type]
        reason=reason,
        message=message,
        last_transition_time=since,
    )


def terminating(crd: CustomResourceDefinition, now: str) -> CustomResourceDefinition:
    """`crd` with the `Terminating` condition upstream shows while its objects go."""
    old = crd.status.conditions
    conditions = [c for c in old if c.type != "Terminating"]
    conditions.append(
        _condition(
            old,
            "Terminating",
            "True",
            "InstanceDeletionInProgress",
            "CustomResource deletion is in progress",
            now,
        )
    )
    return replace(crd, status=replace(crd.status, conditions=conditions))


def crd_status(crd: CustomResourceDefinition, conflict: str, now: str) -> CustomResourceDefinition:
    """`crd` with the status the API server keeps: names accepted unless `conflict`
    says otherwise, established once accepted, every storage version remembered."""
    old = crd.status.conditions
    if conflict:
        accepted = _condition(old, "NamesAccepted", "False", "NameConflict", conflict, now)
        established = _condition(
            old, "Established", "False", "NotAccepted", "not all names are accepted", now
        )
        names = crd.status.accepted_names
    else:
        accepted = _condition(
            old, "NamesAccepted", "True", "NoConflicts", "no conflicts found", now
        )
        established = _condition(
            old,
            "Established",
            "True",
            "InitialNamesAccepted",
            "the initial names have been accepted",
            now,
        )
        names = crd.spec.names
    kept = [c for c in old if c.type not in ("NamesAccepted", "Established")]
    stored = list(crd.status.stored_versions)
    for version in crd.spec.versions:
        if version.storage and version.name not in stored:
            stored.append(version.name)
    status = CustomResourceDefinitionStatus(
        conditions=[accepted, established, *kept],
        accepted_names=names,
        stored_versions=stored,
    )
    return replace(crd, status=status)


def established(crd: CustomResourceDefinition) -> bool:
    return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions)
