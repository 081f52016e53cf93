"""Structural schemas (a CRD's `openAPIV3Schema`): pruning, defaulting, validation.

Each works on decoded JSON (dicts, lists, strings, numbers), as upstream works on
unstructured objects, and names fields as upstream does (`spec.replicas`,
`spec.items[0].name`). What is covered: `type` (and `nullable`,
`x-kubernetes-int-or-string`), `properties`, `additionalProperties`, `items`,
`required`, `enum`, `minimum`/`maximum` (and their exclusive forms),
`multipleOf`, `minLength`/`maxLength`, `pattern`, `minItems`/`maxItems`,
`uniqueItems`, `minProperties`/`maxProperties`, `allOf`/`anyOf`/`oneOf`/`not`,
`default`, `x-kubernetes-preserve-unknown-fields` and
`x-kubernetes-embedded-resource`. CEL rules (`x-kubernetes-validations`) and
`format` are not checked.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeGuard

import msgspec

from ._status import StatusCause

__all__ = ["check_structural", "default", "prune", "validate_value"]

_PRESERVE = "x-kubernetes-preserve-unknown-fields"
_INT_OR_STRING = "x-kubernetes-int-or-string"
_EMBEDDED = "x-kubernetes-embedded-resource"
_TYPES = ("object", "array", "string", "integer", "number", "boolean")
_OBJECT_HEADER = ("apiVersion", "kind", "metadata")


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _shown(value: Any) -> str:
    """A value as upstream's messages show it: strings quoted, the rest as JSON."""
    return msgspec.json.encode(value).decode()


def _is_integer(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
}


# -- pruning ------------------------------------------------------------------------


def prune(value: Any, schema: Any, *, root: bool = True) -> tuple[Any, list[str]]:
    """`value` without the fields `schema` does not specify (unless it preserves
    unknown fields there), and the paths of the fields dropped."""
    dropped: list[str] = []
    return _prune(value, schema, "", dropped, root), dropped


def _prune(value: Any, schema: Any, path: str, dropped: list[str], header: bool) -> Any:
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        additional = schema.get("additionalProperties")
        preserve = schema.get(_PRESERVE) is True
        header = header or schema.get(_EMBEDDED) is True
        kept: dict[str, Any] = {}
        for key, item in value.items():
            child = _child(path, key)
            if key in properties:
                kept[key] = _prune(item, properties[key], child, dropped, False)
            elif isinstance(additional, dict):
                kept[key] = _prune(item, additional, child, dropped, False)
            elif additional is True or preserve or (header and key in _OBJECT_HEADER):
                kept[key] = item
            else:
                dropped.append(child)
        return kept
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, dict):
            return [
                _prune(item, items, f"{path}[{index}]", dropped, False)
                for index, item in enumerate(value)
            ]
    return value


# -- defaulting ---------------------------------------------------------------------


def default(value: Any, schema: Any) -> Any:
    """`value` with each absent property that has a `default` set to it, and each
    null that its schema does not allow (`nullable`) defaulted or removed."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        properties = schema.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        additional = schema.get("additionalProperties")
        result: dict[str, Any] = {}
        for key, item in value.items():
            sub = properties.get(key, additional if isinstance(additional, dict) else None)
            if item is None and isinstance(sub, dict) and not sub.get("nullable"):
                if "default" in sub:
                    result[key] = copy.deepcopy(sub["default"])
                continue
            result[key] = default(item, sub)
        for key, sub in properties.items():
            if key not in value and isinstance(sub, dict) and "default" in sub:
                result[key] = default(copy.deepcopy(sub["default"]), sub)
        return result
    if isinstance(value, list):
        items = schema.get("items")
        return [default(item, items) for item in value]
    return value


# -- validation ---------------------------------------------------------------------


def _cause(reason: str, field: str, message: str) -> StatusCause:
    return StatusCause(reason=reason, field=field, message=message)


def _invalid(field: str, value: Any, detail: str) -> StatusCause:
    return _cause("FieldValueInvalid", field, f"Invalid value: {_shown(value)}: {detail}")


@lru_cache(maxsize=512)
def _pattern(text: str) -> re.Pattern[str] | None:
    try:
        return re.compile(text)
    except re.error:
        return None


def validate_value(value: Any, schema: Any, path: str = "") -> list[StatusCause]:
    """Every way `value` breaks `schema`, each cause naming its field."""
    causes: list[StatusCause] = []
    _validate(value, schema, path, causes)
    return causes


def _validate(value: Any, schema: Any, path: str, causes: list[StatusCause]) -> None:
    if not isinstance(schema, dict):
        return
    where = path or "<root>"
    if value is None:
        if not schema.get("nullable") and (schema.get("type") or schema.get(_INT_OR_STRING)):
            wanted = "integer or string" if schema.get(_INT_OR_STRING) else schema.get("type")
            causes.append(
                _cause(
                    "FieldValueTypeInvalid",
                    where,
                    f'Invalid value: "null": {where} in body must be of type {wanted}: "null"',
                )
            )
        return
    if not _type_matches(value, schema, where, causes):
        return
    _validate_common(value, schema, where, causes)
    if isinstance(value, dict):
        _validate_object(value, schema, path, causes)
    elif isinstance(value, list):
        _validate_array(value, schema, path, causes)
    elif isinstance(value, str):
        _validate_string(value, schema, where, causes)
    elif _is_number(value):
        _validate_number(value, schema, where, causes)
    _validate_combinations(value, schema, path, causes)


def _type_matches(
    value: Any, schema: dict[str, Any], where: str, causes: list[StatusCause]
) -> bool:
    if schema.get(_INT_OR_STRING):
        if _is_integer(value) or isinstance(value, str):
            return True
        wanted = "integer or string"
    else:
        wanted = schema.get("type", "")
        check = _TYPE_CHECKS.get(wanted)
        if check is None or check(value):
            return True
    actual = _shown(value)
    causes.append(
        _cause(
            "FieldValueTypeInvalid",
            where,
            f"Invalid value: {actual}: {where} in body must be of type {wanted}: {actual}",
        )
    )
    return False


def _validate_common(
    value: Any, schema: dict[str, Any], where: str, causes: list[StatusCause]
) -> None:
    enum = schema.get("enum")
    if isinstance(enum, list) and value not in enum:
        supported = ", ".join(_shown(option) for option in enum)
        causes.append(
            _cause(
                "FieldValueNotSupported",
                where,
                f"Unsupported value: {_shown(value)}: supported values: {supported}",
            )
        )


def _validate_object(
    value: dict[str, Any], schema: dict[str, Any], path: str, causes: list[StatusCause]
) -> None:
    where = path or "<root>"
    for name in schema.get("required") or ():
        if name not in value:
            causes.append(_cause("FieldValueRequired", _child(path, name), "Required value"))
    limit = schema.get("maxProperties")
    if _is_integer(limit) and len(value) > limit:
        causes.append(
            _cause(
                "FieldValueTooMany",
                where,
                f"Too many: {len(value)}: must have at most {limit} items",
            )
        )
    limit = schema.get("minProperties")
    if _is_integer(limit) and len(value) < limit:
        causes.append(
            _invalid(where, value, f"{where} in body should have at least {limit} properties")
        )
    properties = schema.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    additional = schema.get("additionalProperties")
    for key, item in value.items():
        sub = properties.get(key)
        if sub is None and isinstance(additional, dict):
            sub = additional
        if sub is not None:
            _validate(item, sub, _child(path, key), causes)


def _validate_array(
    value: list[Any], schema: dict[str, Any], path: str, causes: list[StatusCause]
) -> None:
    where = path or "<root>"
    limit = schema.get("maxItems")
    if _is_integer(limit) and len(value) > limit:
        causes.append(
            _cause(
                "FieldValueTooMany",
                where,
                f"Too many: {len(value)}: must have at most {limit} items",
            )
        )
    limit = schema.get("minItems")
    if _is_integer(limit) and len(value) < limit:
        causes.append(_invalid(where, value, f"{where} in body should have at least {limit} items"))
    if schema.get("uniqueItems") is True:
        seen: list[Any] = []
        for index, item in enumerate(value):
            if item in seen:
                causes.append(
                    _cause(
                        "FieldValueDuplicate",
                        f"{where}[{index}]",
                        f"Duplicate value: {_shown(item)}",
                    )
                )
            seen.append(item)
    items = schema.get("items")
    if isinstance(items, dict):
        for index, item in enumerate(value):
            _validate(item, items, f"{where}[{index}]", causes)


def _validate_string(
    value: str, schema: dict[str, Any], where: str, causes: list[StatusCause]
) -> None:
    limit = schema.get("maxLength")
    if _is_integer(limit) and len(value) > limit:
        causes.append(
            _cause("FieldValueTooLong", where, f"Too long: may not be longer than {limit}")
        )
    limit = schema.get("minLength")
    if _is_integer(limit) and len(value) < limit:
        causes.append(
            _invalid(where, value, f"{where} in body should be at least {limit} chars long")
        )
    pattern = schema.get("pattern")
    if isinstance(pattern, str):
        compiled = _pattern(pattern)
        if compiled is not None and compiled.search(value) is None:
            causes.append(_invalid(where, value, f"{where} in body should match '{pattern}'"))


def _validate_number(
    value: float, schema: dict[str, Any], where: str, causes: list[StatusCause]
) -> None:
    low = schema.get("minimum")
    if _is_number(low):
        if schema.get("exclusiveMinimum") is True and value <= low:
            causes.append(_invalid(where, value, f"{where} in body should be greater than {low}"))
        elif value < low:
            causes.append(
                _invalid(where, value, f"{where} in body should be greater than or equal to {low}")
            )
    high = schema.get("maximum")
    if _is_number(high):
        if schema.get("exclusiveMaximum") is True and value >= high:
            causes.append(_invalid(where, value, f"{where} in body should be less than {high}"))
        elif value > high:
            causes.append(
                _invalid(where, value, f"{where} in body should be less than or equal to {high}")
            )
    factor = schema.get("multipleOf")
    if _is_number(factor) and factor > 0 and (value / factor) != int(value / factor):
        causes.append(_invalid(where, value, f"{where} in body should be a multiple of {factor}"))


def _validate_combinations(
    value: Any, schema: dict[str, Any], path: str, causes: list[StatusCause]
) -> None:
    where = path or "<root>"
    for sub in schema.get("allOf") or ():
        _validate(value, sub, path, causes)
    options = schema.get("anyOf")
    if (
        isinstance(options, list)
        and options
        and not any(not validate_value(value, option, path) for option in options)
    ):
        causes.append(_invalid(where, value, f"{where} in body must be valid against anyOf"))
    options = schema.get("oneOf")
    if isinstance(options, list) and options:
        passing = sum(1 for option in options if not validate_value(value, option, path))
        if passing != 1:
            causes.append(
                _invalid(
                    where, value, f"{where} in body must validate one and only one schema (oneOf)"
                )
            )
    negated = schema.get("not")
    if isinstance(negated, dict) and not validate_value(value, negated, path):
        causes.append(_invalid(where, value, f"{where} in body must not validate the schema (not)"))


# -- the schema itself --------------------------------------------------------------


def check_structural(schema: Any, path: str) -> list[StatusCause]:
    """Why `schema` is not a structural schema upstream would accept (empty if it is)."""
    causes: list[StatusCause] = []
    if not isinstance(schema, dict):
        return [_cause("FieldValueRequired", path, "Required value: schemas are required")]
    if schema.get("type") != "object":
        causes.append(
            _cause(
                "FieldValueInvalid",
                f"{path}.type",
                f"Invalid value: {_shown(schema.get('type', ''))}: must be object at the root",
            )
        )
    _check_node(schema, path, causes)
    return causes


def _check_node(schema: dict[str, Any], path: str, causes: list[StatusCause]) -> None:
    kind = schema.get("type")
    if "$ref" in schema:
        causes.append(
            _cause("FieldValueForbidden", f"{path}.$ref", "Forbidden: $ref is not supported")
        )
    if kind is None or kind == "":
        if not schema.get(_INT_OR_STRING) and not schema.get(_PRESERVE):
            causes.append(
                _cause(
                    "FieldValueRequired",
                    f"{path}.type",
                    "Required value: must not be empty for specified object fields",
                )
            )
    elif kind not in _TYPES:
        supported = ", ".join(f'"{t}"' for t in _TYPES)
        causes.append(
            _cause(
                "FieldValueNotSupported",
                f"{path}.type",
                f"Unsupported value: {_shown(kind)}: supported values: {supported}",
            )
        )
    properties = schema.get("properties")
    additional = schema.get("additionalProperties")
    if properties is not None and additional not in (None, False):
        causes.append(
            _cause(
                "FieldValueForbidden",
                f"{path}.additionalProperties",
                "Forbidden: additionalProperties and properties are mutual exclusive",
            )
        )
    if isinstance(properties, dict):
        for name, sub in properties.items():
            if isinstance(sub, dict):
                _check_node(sub, f"{path}.properties[{name}]", causes)
    if isinstance(additional, dict):
        _check_node(additional, f"{path}.additionalProperties", causes)
    items = schema.get("items")
    if kind == "array" and not isinstance(items, dict):
        causes.append(
            _cause("FieldValueRequired", f"{path}.items", "Required value: must be specified")
        )
    if isinstance(items, dict):
        _check_node(items, f"{path}.items", causes)
    if "pattern" in schema and (
        not isinstance(schema["pattern"], str) or _pattern(schema["pattern"]) is None
    ):
        causes.append(
            _invalid(f"{path}.pattern", schema["pattern"], "must be a valid regular expression")
        )
    if "default" in schema and kind is not None:
        pruned, _ = prune(schema["default"], schema, root=False)
        for cause in validate_value(default(pruned, schema), schema, f"{path}.default"):
            causes.append(cause)
