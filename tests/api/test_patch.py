from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    ApiError,
    Pod,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
)

from .harness import make_pod

scalars = st.one_of(st.integers(-5, 5), st.text("abc", max_size=3), st.booleans())
documents = st.recursive(
    scalars,
    lambda children: st.dictionaries(st.text("xyz", min_size=1, max_size=2), children, max_size=3),
    max_leaves=8,
).filter(lambda d: isinstance(d, dict))


def _merge_diff(old: Any, new: Any) -> Any:
    """The RFC 7386 patch that takes `old` to `new` (no nulls in documents)."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return new
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            patch[key] = _merge_diff(old[key], value)
    return patch


@given(documents, documents)
def test_merge_patch_of_the_difference_reaches_the_target(old: Any, new: Any) -> None:
    assert apply_merge_patch(old, _merge_diff(old, new)) == new


@given(documents, documents)
def test_strategic_merge_without_lists_is_merge_patch(old: Any, new: Any) -> None:
    patch = _merge_diff(old, new)
    assert apply_strategic_merge_patch(old, patch) == apply_merge_patch(old, patch)


@given(documents, documents)
def test_json_patch_replacing_the_root_then_testing(old: Any, new: Any) -> None:
    patched = apply_json_patch(old, [{"op": "replace", "path": "", "value": new}])
    assert patched == new
    assert apply_json_patch(patched, [{"op": "test", "path": "", "value": new}]) == new


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True), st.sampled_from(["a", "e"]))
def test_strategic_merge_of_a_pod_round_trips_through_json(
    names: list[str], patched_name: str
) -> None:
    pod = make_pod("web")
    containers = [msgspec.structs.replace(pod.spec.containers[0], name=n) for n in names]
    pod = msgspec.structs.replace(
        pod, spec=msgspec.structs.replace(pod.spec, containers=containers)
    )
    document = msgspec.to_builtins(pod)
    patch = {"spec": {"containers": [{"name": patched_name, "image": "nginx"}]}}
    result = apply_strategic_merge_patch(document, patch)
    decoded = msgspec.convert(result, Pod)
    # The patch's meaning survives a JSON round trip of the result.
    assert msgspec.json.decode(msgspec.json.encode(decoded), type=Pod) == decoded
    by_name = {c.name: c for c in decoded.spec.containers}
    assert by_name[patched_name].image == "nginx"
    assert [c.name for c in decoded.spec.containers] == names + (
        [patched_name] if patched_name not in names else []
    )
    for name in names:
        if name != patched_name:
            assert by_name[name].image == "busybox"


def test_strategic_merge_directives() -> None:
    doc = {
        "spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b"}]},
        "metadata": {"finalizers": ["f"]},
    }
    deleted = apply_strategic_merge_patch(
        doc, {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}
    )
    assert deleted["spec"]["containers"] == [{"name": "b"}]
    replaced = apply_strategic_merge_patch(doc, {"spec": {"$patch": "replace", "containers": []}})
    assert replaced["spec"] == {"containers": []}
    finalizers = apply_strategic_merge_patch(doc, {"metadata": {"finalizers": ["g", "f"]}})
    assert finalizers["metadata"]["finalizers"] == ["f", "g"]
    removed = apply_strategic_merge_patch(
        doc, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["f"]}}
    )
    assert removed["metadata"]["finalizers"] == []
    # Lists the table does not key are replaced whole.
    args = apply_strategic_merge_patch({"args": ["1", "2"]}, {"args": ["3"]})
    assert args == {"args": ["3"]}


def test_json_patch_operations_and_errors() -> None:
    doc = {"a": [1, 2], "b": {"c": 1}}
    result = apply_json_patch(
        doc,
        [
            {"op": "add", "path": "/a/-", "value": 3},
            {"op": "move", "from": "/b/c", "path": "/d"},
            {"op": "copy", "from": "/a/0", "path": "/e"},
            {"op": "replace", "path": "/a/1", "value": 9},
        ],
    )
    assert result == {"a": [1, 9, 3], "b": {}, "d": 1, "e": 1}
    assert doc == {"a": [1, 2], "b": {"c": 1}}  # the input is not changed
    # As kube-apiserver: a malformed patch is a 400, one that does not apply a 422.
    for bad, code in (
        ([{"op": "remove", "path": "/missing"}], 422),
        ([{"op": "test", "path": "/a/0", "value": 5}], 422),
        ([{"op": "add", "path": "/a/7", "value": 1}], 422),
        ([{"op": "jump", "path": "/a"}], 400),
        ({"op": "add"}, 400),
    ):
        with pytest.raises(ApiError) as caught:
            apply_json_patch(doc, bad)
        assert caught.value.code == code
