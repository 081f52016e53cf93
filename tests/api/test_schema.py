"""Structural schemas: properties of pruning, defaulting and validation over
generated schemas and values, and upstream's messages for each rule."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api._schema import check_structural, default, prune, validate_value

_NAMES = st.text(alphabet="abcdefgh", min_size=1, max_size=4)
_UNKNOWN = "zzz"  # never one of `_NAMES`

_integers = st.tuples(st.integers(-50, 50), st.integers(0, 50), st.booleans()).map(
    lambda t: (
        {"type": "integer", "minimum": t[0], "maximum": t[0] + t[1]}
        | ({"default": t[0]} if t[2] else {})
    )
)
_enums = st.lists(
    st.text(alphabet="rgb", min_size=1, max_size=3), min_size=1, max_size=4, unique=True
)
_leaves = st.one_of(
    _integers,
    st.just({"type": "boolean"}),
    st.just({"type": "number"}),
    _enums.map(lambda options: {"type": "string", "enum": options, "default": options[0]}),
    st.just({"type": "string", "pattern": "^[a-z]*$", "maxLength": 5}),
)
_schemas = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.dictionaries(_NAMES, children, max_size=4).map(
            lambda props: {"type": "object", "properties": props}
        ),
        children.map(lambda items: {"type": "array", "items": items}),
        children.map(lambda values: {"type": "object", "additionalProperties": values}),
    ),
    max_leaves=8,
)
_roots = st.dictionaries(_NAMES, _schemas, min_size=1, max_size=4).map(
    lambda props: {"type": "object", "properties": props}
)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_NAMES, children, max_size=3),
    max_leaves=8,
)


def _values(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that satisfy `schema`."""
    kind = schema["type"]
    if kind == "integer":
        return st.integers(schema["minimum"], schema["maximum"])
    if kind == "boolean":
        return st.booleans()
    if kind == "number":
        return st.integers(-9, 9) | st.floats(-1e6, 1e6, allow_nan=False)
    if kind == "string":
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        return st.text(alphabet="abcxyz", max_size=5)
    if kind == "array":
        return st.lists(_values(schema["items"]), max_size=3)
    if "additionalProperties" in schema:
        return st.dictionaries(_NAMES, _values(schema["additionalProperties"]), max_size=3)
    properties = schema["properties"]
    return st.fixed_dictionaries({}, optional={k: _values(s) for k, s in properties.items()})


def _object_nodes(value: Any, schema: dict[str, Any], path: str = "") -> list[tuple[Any, str]]:
    """Every dict in `value` whose schema lists its properties, with its path."""
    found = []
    if isinstance(value, dict):
        if "properties" in schema:
            found.append((value, path))
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                found += _object_nodes(item, schema["properties"][key], child)
        elif "additionalProperties" in schema:
            for key, item in value.items():
                found += _object_nodes(item, schema["additionalProperties"], f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _object_nodes(item, schema["items"], f"{path}[{index}]")
    return found


@given(st.data(), _roots)
def test_a_value_the_schema_allows_is_valid_and_kept_whole(
    data: st.DataObject, schema: Any
) -> None:
    value = data.draw(_values(schema))
    assert validate_value(value, schema) == []
    assert prune(value, schema) == (value, [])
    assert check_structural(schema, "schema") == []


@given(_roots, _json)
def test_pruning_twice_is_pruning_once(schema: Any, value: Any) -> None:
    once, _ = prune(value, schema)
    assert prune(once, schema) == (once, [])


@given(st.data(), _roots)
def test_pruning_drops_exactly_the_unknown_field_and_names_it(
    data: st.DataObject, schema: Any
) -> None:
    value = data.draw(_values(schema))
    node, path = data.draw(st.sampled_from(_object_nodes(value, schema)))
    node[_UNKNOWN] = data.draw(_json)
    pruned, dropped = prune(value, schema)
    assert dropped == [f"{path}.{_UNKNOWN}" if path else _UNKNOWN]
    del node[_UNKNOWN]
    assert pruned == value


_WRONG = {"integer": "1", "number": "1", "string": 1, "boolean": "true", "object": 1, "array": {}}


@given(st.data(), _roots)
def test_a_value_of_the_wrong_type_is_one_cause_naming_its_field(
    data: st.DataObject, schema: Any
) -> None:
    value = data.draw(_values(schema))
    name = data.draw(st.sampled_from(sorted(schema["properties"])))
    wanted = schema["properties"][name]["type"]
    value[name] = _WRONG[wanted]
    [cause] = validate_value(value, schema)
    assert (cause.field, cause.reason) == (name, "FieldValueTypeInvalid")
    assert cause.message.endswith(f"{name} in body must be of type {wanted}: {_shown(value[name])}")


def _shown(value: Any) -> str:
    return '"1"' if value == "1" else '"true"' if value == "true" else str(value).replace("'", '"')


@given(st.data(), _roots)
def test_defaulting_yields_a_valid_value_and_is_idempotent(
    data: st.DataObject, schema: Any
) -> None:
    value = data.draw(_values(schema))
    defaulted = default(value, schema)
    assert validate_value(defaulted, schema) == []
    assert default(defaulted, schema) == defaulted
    # A value given is never replaced by a default.
    assert _contains(defaulted, value)


def _contains(big: Any, small: Any) -> bool:
    if isinstance(small, dict):
        return isinstance(big, dict) and all(
            key in big and _contains(big[key], item) for key, item in small.items()
        )
    if isinstance(small, list):
        return (
            isinstance(big, list)
            and len(big) == len(small)
            and all(_contains(b, s) for b, s in zip(big, small, strict=True))
        )
    return bool(big == small)


@pytest.mark.parametrize(
    ("schema", "value", "field", "message"),
    [
        (
            {"type": "integer", "minimum": 1},
            0,
            "x",
            "Invalid value: 0: x in body should be greater than or equal to 1",
        ),
        (
            {"type": "integer", "maximum": 3, "exclusiveMaximum": True},
            3,
            "x",
            "Invalid value: 3: x in body should be less than 3",
        ),
        ({"type": "string", "maxLength": 2}, "abc", "x", "Too long: may not be longer than 2"),
        (
            {"type": "string", "minLength": 2},
            "a",
            "x",
            'Invalid value: "a": x in body should be at least 2 chars long',
        ),
        (
            {"type": "array", "items": {"type": "integer"}, "maxItems": 1},
            [1, 2],
            "x",
            "Too many: 2: must have at most 1 items",
        ),
        (
            {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
            [1, 1],
            "x[1]",
            "Duplicate value: 1",
        ),
        (
            {"type": "integer", "multipleOf": 5},
            7,
            "x",
            "Invalid value: 7: x in body should be a multiple of 5",
        ),
        (
            {"x-kubernetes-int-or-string": True},
            1.5,
            "x",
            "Invalid value: 1.5: x in body must be of type integer or string: 1.5",
        ),
        (
            {"type": "string"},
            None,
            "x",
            'Invalid value: "null": x in body must be of type string: "null"',
        ),
    ],
)
def test_each_rule_is_worded_as_upstream(schema: Any, value: Any, field: str, message: str) -> None:
    root = {"type": "object", "properties": {"x": schema}}
    [cause] = validate_value({"x": value}, root)
    assert (cause.field, cause.message) == (field, message)


def test_nullable_fields_and_int_or_string_accept_their_values() -> None:
    root: dict[str, Any] = {
        "type": "object",
        "properties": {
            "port": {"x-kubernetes-int-or-string": True},
            "note": {"type": "string", "nullable": True},
        },
    }
    assert validate_value({"port": 80, "note": None}, root) == []
    assert validate_value({"port": "http"}, root) == []
    # A null the schema does not allow is dropped before validation, or defaulted.
    root["properties"]["size"] = {"type": "integer", "default": 3}
    assert default({"note": None, "size": None, "port": None}, root) == {"note": None, "size": 3}


def test_embedded_resources_and_preserved_fields_keep_what_they_hold() -> None:
    schema = {
        "type": "object",
        "properties": {
            "template": {
                "type": "object",
                "x-kubernetes-embedded-resource": True,
                "properties": {
                    "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
                },
            }
        },
    }
    value = {
        "template": {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"anything": [1]},
            "other": 1,
        }
    }
    pruned, dropped = prune(value, schema)
    assert dropped == ["template.other"]
    assert pruned["template"]["spec"] == {"anything": [1]}
    assert pruned["template"]["metadata"] == {"name": "p"}


def test_a_schema_that_is_not_structural_is_refused_naming_where() -> None:
    schema = {
        "type": "object",
        "properties": {
            "spec": {"properties": {"a": {"type": "string"}}},
            "list": {"type": "array"},
            "both": {
                "type": "object",
                "properties": {},
                "additionalProperties": {"type": "string"},
            },
            "kind": {"type": "str"},
        },
    }
    causes = {cause.field: cause.message for cause in check_structural(schema, "s")}
    assert causes == {
        "s.properties[spec].type": "Required value: must not be empty for specified object fields",
        "s.properties[list].items": "Required value: must be specified",
        "s.properties[both].additionalProperties": (
            "Forbidden: additionalProperties and properties are mutual exclusive"
        ),
        "s.properties[kind].type": (
            'Unsupported value: "str": supported values: "object", "array", "string", '
            '"integer", "number", "boolean"'
        ),
    }
