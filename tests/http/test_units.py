"""The pure parts of the HTTP layer: ages, patches, media ranges (selectors are the
API server's, tested in tests/api/test_selectors.py)."""

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
