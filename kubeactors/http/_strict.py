"""Unknown fields in a request body (`fieldValidation=Strict` refuses them)."""

from __future__ import annotations

from typing import Any

from msgspec import inspect

__all__ = ["unknown_fields"]


_infos: dict[type[Any], inspect.Type] = {}


def _info(resource_type: type[Any]) -> inspect.Type:
    info = _infos.get(resource_type)
    if info is None:
        info = _infos[resource_type] = inspect.type_info(resource_type)
    return info


def unknown_fields(value: Any, resource_type: type[Any]) -> list[str]:
    """The dotted paths of the fields in `value` that `resource_type` does not have."""
    found: list[str] = []
    _walk(value, _info(resource_type), "", found)
    return found


def _walk(value: Any, info: inspect.Type, path: str, found: list[str]) -> None:
    if isinstance(info, inspect.StructType) and isinstance(value, dict):
        fields = {field.encode_name: field.type for field in info.fields}
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if key not in fields:
                found.append(where)
            else:
                _walk(item, fields[key], where, found)
    elif isinstance(info, inspect.ListType | inspect.SetType | inspect.FrozenSetType) and (
        isinstance(value, list)
    ):
        for index, item in enumerate(value):
            _walk(item, info.item_type, f"{path}[{index}]", found)
    elif isinstance(info, inspect.DictType) and isinstance(value, dict):
        for key, item in value.items():
            _walk(item, info.value_type, f"{path}.{key}", found)
    elif isinstance(info, inspect.UnionType):
        for member in info.types:
            if isinstance(member, inspect.StructType) and isinstance(value, dict):
                _walk(value, member, path, found)
                return
            if isinstance(member, inspect.ListType) and isinstance(value, list):
                _walk(value, member, path, found)
                return
