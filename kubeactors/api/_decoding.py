"""Decoding client input with Kubernetes' field validation: Strict, Warn or Ignore.

msgspec ignores fields a type does not declare. Kubernetes' `fieldValidation=Strict`
rejects them instead, naming each one, and `Warn` accepts the object but reports
each dropped field as a warning; so an unknown field is never lost without a word
unless the client asked for `Ignore`.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

import msgspec
import msgspec.inspect as mi

from ._kinds import KINDS, ResourceKind
from ._meta import ApiObject
from ._status import bad_request

__all__ = ["FieldValidation", "decode_object", "unknown_fields"]

R = TypeVar("R", bound=ApiObject)

FieldValidation = Literal["Strict", "Warn", "Ignore"]


class _Header(msgspec.Struct, rename="camel"):
    api_version: str = ""
    kind: str = ""


_INFO: dict[type[Any], mi.Type] = {}


def _info(struct_type: type[Any]) -> mi.Type:
    info = _INFO.get(struct_type)
    if info is None:
        info = _INFO[struct_type] = mi.type_info(struct_type)
    return info


def unknown_fields(value: Any, struct_type: type[Any]) -> list[str]:
    """The dotted paths (`spec.containers[0].foo`) of fields `struct_type` does not declare."""
    found: list[str] = []
    _walk(value, _info(struct_type), "", found)
    return found


def _walk(value: Any, info: mi.Type, path: str, found: list[str]) -> None:
    if isinstance(info, mi.StructType):
        if not isinstance(value, dict):
            return
        fields = {f.encode_name: f for f in info.fields}
        for name, item in value.items():
            field = fields.get(name)
            child = f"{path}.{name}" if path else name
            if field is None:
                found.append(child)
            else:
                _walk(item, field.type, child, found)
    elif isinstance(info, mi.ListType) and isinstance(value, list):
        for index, item in enumerate(value):
            _walk(item, info.item_type, f"{path}[{index}]", found)
    elif isinstance(info, mi.DictType) and isinstance(value, dict):
        for key, item in value.items():
            _walk(item, info.value_type, f"{path}.{key}", found)
    elif isinstance(info, mi.UnionType):
        for option in info.types:
            if isinstance(option, mi.StructType | mi.ListType | mi.DictType):
                _walk(value, option, path, found)
                return


def decode_object(
    data: bytes,
    kind: ResourceKind[R] | None = None,
    *,
    field_validation: FieldValidation = "Strict",
) -> tuple[R, list[str]]:
    """Decode a client's JSON object; returns it with the warnings for the client.

    The kind comes from `kind`, or else from the object's `apiVersion` and `kind`.
    Malformed JSON, a wrong type for a field, or (under Strict) an unknown field is
    an `ApiError` 400 BadRequest naming the field.
    """
    try:
        raw = msgspec.json.decode(data)
    except msgspec.DecodeError as error:
        raise bad_request(f"the request body is not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise bad_request("the request body must be a JSON object")
    if kind is None:
        header = msgspec.convert(raw, _Header)
        if not header.api_version or not header.kind:
            raise bad_request("Object 'Kind' or 'apiVersion' is missing in the request body")
        try:
            found: ResourceKind[Any] = KINDS.of_kind(header.api_version, header.kind)
        except TypeError as error:
            raise bad_request(str(error)) from None
        kind = found
    unknown = unknown_fields(raw, kind.type)
    if unknown and field_validation == "Strict":
        detail = ", ".join(f'unknown field "{path}"' for path in unknown)
        raise bad_request(f"strict decoding error: {detail}")
    try:
        obj: R = msgspec.convert(raw, kind.type)
    except msgspec.ValidationError as error:
        raise bad_request(
            f"{kind.kind} in version {kind.version!r} cannot be decoded: {error}"
        ) from None
    warnings = [f'unknown field "{path}"' for path in unknown] if field_validation == "Warn" else []
    return obj, warnings
