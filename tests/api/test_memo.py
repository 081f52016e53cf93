"""The create path's memos: what a pod's spec comes out as is the same whether it
was worked out afresh or looked up, whatever the order of pods and policy changes."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    ApiError,
    Container,
    ObjectMeta,
    Pod,
    PodSpec,
    PodStatus,
    PriorityClass,
    ResourceRequirements,
    Toleration,
    kind_of,
)
from kubeactors.api._admission import AdmissionChain, AdmissionRequest
from kubeactors.api._auth import ANONYMOUS
from kubeactors.api._defaults import _pod_spec, apply_defaults
from kubeactors.api._memo import RecentResults
from kubeactors.api._state import ClusterState
from kubeactors.api._validation import validate_pod

PODS = kind_of(Pod)
PLUGINS = ("LimitRanger", "DefaultTolerationSeconds", "Priority", "ResourceQuota")


def test_recent_results_find_by_identity_or_equality_and_forget_the_oldest() -> None:
    memo: RecentResults[list[int], str] = RecentResults(size=2)
    first, second, third = [1], [2], [3]
    memo.put(first, "one")
    memo.put(second, "two")
    assert memo.same(first) == "one"
    assert memo.same([1]) is None  # equal, not the same
    assert memo.equal([1]) == "one"
    memo.put(third, "three")
    assert memo.same(first) is None
    assert memo.equal([1]) is None
    assert (memo.same(second), memo.same(third)) == ("two", "three")
    with pytest.raises(ValueError, match="size"):
        RecentResults(size=0)


containers = st.lists(
    st.builds(
        Container,
        name=st.sampled_from(["app", "side", ""]),
        image=st.sampled_from(["busybox", "pause:3.9"]),
        resources=st.builds(
            ResourceRequirements, requests=st.dictionaries(st.just("cpu"), st.just("100m"))
        ),
    ),
    min_size=1,
    max_size=2,
)
specs = st.builds(
    PodSpec,
    containers=containers,
    tolerations=st.lists(
        st.builds(
            Toleration, key=st.just("node.kubernetes.io/not-ready"), operator=st.just("Exists")
        ),
        max_size=1,
    ),
    priority_class_name=st.sampled_from(["", "high", "missing"]),
    priority=st.sampled_from([None, 0, 1000]),
)
classes = st.builds(
    PriorityClass,
    metadata=st.builds(ObjectMeta, name=st.sampled_from(["high", "default"])),
    value=st.sampled_from([0, 1000, 5]),
    global_default=st.booleans(),
    preemption_policy=st.sampled_from(["", "Never"]),
)


def _admitted(chain: AdmissionChain, state: ClusterState, pod: Pod) -> Any:
    try:
        obj = chain.admit(AdmissionRequest("CREATE", PODS, pod, None, ANONYMOUS, state))
    except ApiError as error:
        return error.status
    return obj


def _copy(pod: Pod) -> Pod:
    """An equal pod that shares no list with `pod` (so no memo knows its parts)."""
    return msgspec.json.decode(msgspec.json.encode(pod), type=Pod)


@given(
    st.lists(specs, min_size=1, max_size=4),
    st.lists(
        st.tuples(st.integers(0, 3), st.booleans(), st.none() | classes),
        min_size=1,
        max_size=25,
    ),
)
def test_pods_from_shared_specs_come_out_as_if_each_were_the_first(
    pool: list[PodSpec], steps: list[tuple[int, bool, PriorityClass | None]]
) -> None:
    """Each step creates a pod from a spec of the pool, the very object or an equal
    copy, after perhaps writing a priority class; one long-lived chain (with its
    memos) must answer as a new chain does."""
    state = ClusterState()
    chain = AdmissionChain(PLUGINS)
    for revision, (index, copied, written) in enumerate(steps, start=1):
        if written is not None:
            state.apply(PriorityClass, written.metadata.name, revision, written)
        spec = pool[index % len(pool)]
        if copied:
            spec = msgspec.json.decode(msgspec.json.encode(spec), type=PodSpec)
        meta = ObjectMeta(name=f"p{revision}", namespace="default")
        pod = apply_defaults(Pod(spec=spec), meta)
        assert isinstance(pod, Pod)
        fresh = Pod(metadata=meta, spec=_pod_spec(spec), status=PodStatus(phase="Pending"))
        assert pod == fresh
        admitted = _admitted(chain, state, pod)
        assert admitted == _admitted(AdmissionChain(PLUGINS), state, _copy(fresh))
        if isinstance(admitted, Pod):
            assert validate_pod(admitted) == validate_pod(_copy(admitted))
