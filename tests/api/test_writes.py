"""The merge of an update: metadata sent back as it was answered (the very object)
gives what the same metadata sent as a copy gives, on every path of the merge."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    ApiError,
    Container,
    Lease,
    LeaseSpec,
    Namespace,
    NamespaceSpec,
    Node,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodSpec,
    kind_of,
)
from kubeactors.api._writes import merge_update

replace = msgspec.structs.replace

metas = st.builds(
    ObjectMeta,
    name=st.just("one"),
    namespace=st.just("default"),
    uid=st.sampled_from(["", "u-1"]),
    resource_version=st.sampled_from(["", "7"]),
    generation=st.integers(0, 3),
    deletion_timestamp=st.sampled_from([None, "2026-01-01T00:00:00Z"]),
    deletion_grace_period_seconds=st.sampled_from([None, 0, 30]),
    labels=st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["x", "y"])),
    finalizers=st.lists(st.sampled_from(["f1", "f2"]), max_size=2),
)


def _pair(which: str, meta: ObjectMeta, changed: bool) -> tuple[Any, Any]:
    """An object stored with `meta`, and an update of it (its spec or status
    changed when `changed`) made over that very metadata."""
    if which == "lease":
        old: Any = Lease(metadata=meta, spec=LeaseSpec(holder_identity="one"))
        return old, replace(old, spec=replace(old.spec, renew_time="now" if changed else None))
    if which == "node":
        old = Node(metadata=meta, spec=NodeSpec(pod_cidr="10.0.0.0/24"))
        return old, replace(
            old,
            spec=replace(old.spec, unschedulable=changed),
            status=NodeStatus(phase="Running" if changed else ""),
        )
    if which == "pod":
        old = Pod(metadata=meta, spec=PodSpec(containers=[Container(name="c", image="i")]))
        image = "j" if changed else "i"
        return old, replace(
            old, spec=replace(old.spec, containers=[Container(name="c", image=image)])
        )
    old = Namespace(metadata=meta, spec=NamespaceSpec(finalizers=["kubernetes"]))
    return old, replace(old, spec=NamespaceSpec(finalizers=[] if changed else ["kubernetes"]))


def _merged(kind: Any, old: Any, new: Any, **options: Any) -> Any:
    try:
        return merge_update(kind, old, new, **options)
    except ApiError as error:
        return ("refused", error.status.reason, error.status.message)


@given(
    st.sampled_from(["lease", "node", "pod", "namespace"]),
    metas,
    st.booleans(),
    st.sampled_from(["", "status"]),
    st.booleans(),
    st.booleans(),
)
def test_metadata_sent_back_merges_as_a_copy_of_it_does(
    which: str, meta: ObjectMeta, changed: bool, subresource: str, keep: bool, strict: bool
) -> None:
    old, new = _pair(which, meta, changed)
    if subresource and which in ("lease", "namespace"):
        subresource = ""  # no status subresource
    kind = kind_of(type(old))
    assert new.metadata is old.metadata
    copied = replace(new, metadata=replace(meta))  # equal, not the same object
    assert copied.metadata is not old.metadata
    options = {"subresource": subresource, "keep_status": keep, "strict_pods": strict}
    assert _merged(kind, old, new, **options) == _merged(kind, old, copied, **options)


def test_metadata_sent_back_still_moves_generation_and_drops_the_version() -> None:
    meta = ObjectMeta(name="one", namespace="default", resource_version="7", generation=2)
    old, new = _pair("pod", meta, changed=True)
    merged = merge_update(kind_of(Pod), old, new)
    assert merged.metadata.generation == 3
    assert merged.metadata.resource_version == ""
    old, new = _pair("lease", meta, changed=True)
    merged = merge_update(kind_of(Lease), old, new)
    assert merged.metadata.generation == 2
    assert merged.metadata.resource_version == ""


@pytest.mark.parametrize("subresource", ["", "status"])
def test_a_changed_uid_or_a_new_finalizer_on_a_deleted_object_is_refused(subresource: str) -> None:
    meta = ObjectMeta(name="one", uid="u-1", deletion_timestamp="t", finalizers=["f1"])
    old = Node(metadata=meta)
    with pytest.raises(ApiError, match="UID"):
        merge_update(kind_of(Node), old, replace(old, metadata=replace(meta, uid="u-2")))
    grown = replace(old, metadata=replace(meta, finalizers=["f1", "f2"]))
    with pytest.raises(ApiError, match="finalizers"):
        merge_update(kind_of(Node), old, grown, subresource=subresource)
