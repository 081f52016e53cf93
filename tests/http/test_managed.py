"""The field manager: FieldsV1 sets, Update ownership, Apply conflicts and pruning."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import ApiError, apply_strategic_merge_patch
from kubeactors.http._managed import (
    apply_fields,
    field_set,
    fields_v1,
    format_path,
    manager_of,
    parse_fields_v1,
    update_fields,
    value_at,
)

_names = st.sampled_from(["a", "b", "replicas", "image", "labels", "x-y"])
_scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_names, inner, max_size=3),
    max_leaves=12,
)
_containers = st.lists(
    st.fixed_dictionaries({"name": st.sampled_from(["web", "db", "log"]), "image": _names}),
    max_size=3,
    unique_by=lambda container: container["name"],
)
_documents = st.fixed_dictionaries(
    {
        "apiVersion": st.just("v1"),
        "kind": st.just("Pod"),
        "metadata": st.fixed_dictionaries(
            {"name": st.just("p")},
            optional={
                "labels": st.dictionaries(_names, st.text(max_size=2), max_size=3),
                "finalizers": st.lists(_names, max_size=3, unique=True),
            },
        ),
        "spec": st.dictionaries(_names, _json, max_size=3).flatmap(
            lambda spec: _containers.map(lambda cs: {**spec, "containers": cs} if cs else spec)
        ),
    }
)
_TIME = "2026-11-26T12:00:00Z"


def _owned(entries: list[dict[str, Any]], manager: str) -> set[tuple[str, ...]]:
    return {
        path
        for entry in entries
        if entry["manager"] == manager
        for path in parse_fields_v1(entry["fieldsV1"])
    }


@given(_documents)
def test_fields_v1_round_trips_and_names_only_present_fields(document: dict[str, Any]) -> None:
    fields = field_set(document)
    assert parse_fields_v1(fields_v1(fields)) == fields
    for path in fields:
        assert path[0] in ("f:spec", "f:metadata")
        assert value_at(document, path) is not value_at({}, ("f:nothing",))
    assert ("f:metadata", "f:name") not in fields


@given(_documents, _documents)
def test_an_update_owns_what_it_changed_and_nothing_absent(
    old: dict[str, Any], new: dict[str, Any]
) -> None:
    first = update_fields(None, old, manager="creator", api_version="v1", time=_TIME)
    old = {**old, "metadata": {**old["metadata"], "managedFields": first}}
    entries = update_fields(old, new, manager="editor", api_version="v1", time=_TIME)
    present = field_set(new)
    assert all(_owned(entries, m) <= present for m in ("creator", "editor"))
    edited = _owned(entries, "editor")
    for path in present - edited:
        # What the editor does not own is unchanged and still the creator's.
        assert value_at(new, path) == value_at(old, path) or path[-1] == "."
        assert path in _owned(entries, "creator")
    assert not edited & _owned(entries, "creator")
    assert all(entry["fieldsV1"] for entry in entries)


def _applied(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "w"}, "spec": spec}


def _apply(
    live: dict[str, Any], applied: dict[str, Any], manager: str, *, force: bool = False
) -> dict[str, Any]:
    merged = apply_strategic_merge_patch(copy.deepcopy(live), applied)
    merged["metadata"]["managedFields"] = apply_fields(
        live,
        applied,
        merged,
        manager=manager,
        force=force,
        api_version="apps/v1",
        time=_TIME,
    )
    return dict(merged)


def test_apply_conflicts_name_manager_and_field_and_force_takes_them() -> None:
    live = _applied({"replicas": 2, "paused": False})
    live["metadata"]["managedFields"] = update_fields(
        None, live, manager="kubectl-create", api_version="apps/v1", time=_TIME
    )
    with pytest.raises(ApiError) as refused:
        _apply(live, _applied({"replicas": 3, "paused": False}), "ops")
    status = refused.value.status
    assert (status.code, status.reason) == (409, "Conflict")
    assert status.message == (
        'Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1: .spec.replicas'
    )
    assert [(c.reason, c.field) for c in status.details.causes] == [
        ("FieldManagerConflict", ".spec.replicas")
    ]

    forced = _apply(live, _applied({"replicas": 3, "paused": False}), "ops", force=True)
    entries = forced["metadata"]["managedFields"]
    assert forced["spec"]["replicas"] == 3
    assert ("f:spec", "f:replicas") in _owned(entries, "ops")
    assert ("f:spec", "f:replicas") not in _owned(entries, "kubectl-create")
    # A field applied with the value it has is shared, not taken.
    assert ("f:spec", "f:paused") in _owned(entries, "kubectl-create")


def test_an_object_without_owners_is_adopted_before_the_first_apply() -> None:
    live = _applied({"replicas": 2})
    with pytest.raises(ApiError, match='conflict with "before-first-apply" using apps/v1'):
        _apply(live, _applied({"replicas": 4}), "ops")
    agreed = _apply(live, _applied({"replicas": 2}), "ops")
    assert {e["manager"] for e in agreed["metadata"]["managedFields"]} == {
        "before-first-apply",
        "ops",
    }


def test_apply_prunes_only_fields_no_one_else_owns() -> None:
    containers = [{"name": "web", "image": "a"}, {"name": "log", "image": "b"}]
    first = _apply(_applied({}), _applied({"replicas": 1, "containers": containers}), "me")
    first["metadata"]["managedFields"] = update_fields(
        first,
        {**first, "spec": {**first["spec"], "paused": True}},
        manager="other",
        api_version="apps/v1",
        time=_TIME,
    ) + [e for e in first["metadata"]["managedFields"] if e["manager"] == "me"]
    first["spec"]["paused"] = True
    second = _apply(first, _applied({"containers": containers[:1]}), "me")
    assert second["spec"] == {"containers": containers[:1], "paused": True}


def test_paths_print_as_upstream() -> None:
    path = ("f:spec", "f:containers", 'k:{"name":"web"}', "f:image")
    assert format_path(path) == '.spec.containers[name="web"].image'
    assert format_path(("f:metadata", "f:finalizers", 'v:"x"')) == '.metadata.finalizers[="x"]'


def test_the_manager_comes_from_the_request_or_the_user_agent() -> None:
    assert manager_of({"fieldManager": "ops"}, "kubectl/v1.32") == "ops"
    assert manager_of({}, "kubectl/v1.32.0 (linux/amd64) kubernetes/abc") == "kubectl"
    assert manager_of({}, "") == "unknown"
