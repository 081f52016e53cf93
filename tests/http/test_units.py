"""The pure parts of the HTTP layer: selectors, ages, patches, media ranges."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    ApiError,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
)
from kubeactors.http import human_duration
from kubeactors.http._media import parse_accept, wants
from kubeactors.http._selectors import parse_field_selector, parse_label_selector

keys = st.sampled_from(["app", "tier", "zone"])
values = st.sampled_from(["a", "b", "c"])
label_sets = st.dictionaries(keys, values, max_size=3)


def _obj(labels: dict[str, str]) -> dict[str, Any]:
    return {"metadata": {"labels": labels}, "spec": {"nodeName": "n1"}}


@given(label_sets, keys, values)
def test_equality_and_inequality_are_complements(
    labels: dict[str, str], key: str, value: str
) -> None:
    equal = parse_label_selector(f"{key}={value}")
    unequal = parse_label_selector(f"{key}!={value}")
    assert equal is not None
    assert unequal is not None
    assert equal(_obj(labels)) != unequal(_obj(labels))
    assert equal(_obj(labels)) == (labels.get(key) == value)


@given(label_sets, keys, st.sets(values, min_size=1))
def test_set_requirements(labels: dict[str, str], key: str, members: set[str]) -> None:
    listed = ",".join(sorted(members))
    inside = parse_label_selector(f"{key} in ({listed}),{key}")
    outside = parse_label_selector(f"{key} notin ({listed})")
    assert inside is not None
    assert outside is not None
    assert inside(_obj(labels)) == (labels.get(key) in members)
    assert outside(_obj(labels)) == (labels.get(key) not in members)


def test_existence_and_bad_selectors() -> None:
    exists, absent = parse_label_selector("app"), parse_label_selector("!app")
    assert exists is not None
    assert absent is not None
    assert exists(_obj({"app": "x"}))
    assert absent(_obj({}))
    assert parse_label_selector("") is None
    with pytest.raises(ApiError) as caught:
        parse_label_selector("app in a")
    assert caught.value.code == 400
    with pytest.raises(ApiError, match="can't understand"):
        parse_field_selector("spec.nodeName")


def test_field_selectors_read_dotted_paths() -> None:
    selector = parse_field_selector("spec.nodeName=n1,status.phase!=Failed")
    assert selector is not None
    assert selector(_obj({}))
    assert not selector({"spec": {"nodeName": "n1"}, "status": {"phase": "Failed"}})


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (59, "59s"),
        (119, "119s"),
        (120, "2m"),
        (185, "3m5s"),
        (600, "10m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 60, "3h1m"),
        (9 * 3600, "9h"),
        (3 * 86400, "3d"),
        (3 * 86400 + 3600, "3d1h"),
        (30 * 86400, "30d"),
        (3 * 365 * 86400, "3y"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration_matches_kubectl(seconds: int, shown: str) -> None:
    assert human_duration(seconds) == shown


json_values = st.recursive(
    st.none() | st.integers() | st.text(max_size=3),
    lambda children: st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=8,
)


@given(
    st.dictionaries(st.text(max_size=3), json_values, max_size=4),
    st.dictionaries(st.text(max_size=3), json_values, max_size=4),
)
def test_merge_patch_is_idempotent_and_keeps_its_input(
    target: dict[str, Any], patch: dict[str, Any]
) -> None:
    before = repr(target)
    once = apply_merge_patch(target, patch)
    assert apply_merge_patch(once, patch) == once
    assert repr(target) == before
    for key, value in patch.items():
        if value is None:
            assert key not in once


def test_strategic_merge_merges_lists_by_key_and_deletes() -> None:
    pod = {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}}
    patch = {
        "spec": {
            "containers": [{"name": "b", "image": "2"}, {"name": "a", "$patch": "delete"}],
            "$setElementOrder/containers": [{"name": "b"}],
        }
    }
    assert apply_strategic_merge_patch(pod, patch) == {
        "spec": {"containers": [{"name": "b", "image": "2"}]}
    }


def test_json_patch_operations() -> None:
    doc = {"a": [1, 2], "b": {"c": 1}}
    ops = [
        {"op": "add", "path": "/a/-", "value": 3},
        {"op": "move", "from": "/b/c", "path": "/d"},
        {"op": "copy", "from": "/d", "path": "/e"},
        {"op": "remove", "path": "/a/0"},
        {"op": "test", "path": "/e", "value": 1},
    ]
    assert apply_json_patch(doc, ops) == {"a": [2, 3], "b": {}, "d": 1, "e": 1}
    assert doc == {"a": [1, 2], "b": {"c": 1}}
    with pytest.raises(ApiError) as caught:
        apply_json_patch(doc, [{"op": "replace", "path": "/missing", "value": 1}])
    assert caught.value.code == 422


def test_accept_headers_choose_the_special_forms_only_when_named() -> None:
    table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    assert wants(parse_accept(table), "Table", "meta.k8s.io", ("v1", "v1beta1")) == "v1"
    plain = parse_accept("application/json, */*")
    assert wants(plain, "Table", "meta.k8s.io", ("v1",)) is None
