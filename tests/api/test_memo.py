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
    LimitRange,
    LimitRangeItem,
    LimitRangeSpec,
    ObjectMeta,
    Pod,
    PodSpec,
    PodStatus,
    PriorityClass,
    ResourceQuota,
    ResourceQuotaSpec,
    ResourceRequirements,
    Toleration,
    kind_of,
)
from kubeactors.api._admission import AdmissionChain, AdmissionRequest
from kubeactors.api._auth import ANONYMOUS, NODES_GROUP, UserInfo
from kubeactors.api._defaults import _pod_spec, apply_defaults
from kubeactors.api._memo import RecentResults
from kubeactors.api._state import ClusterState
from kubeactors.api._validation import validate_pod

PODS = kind_of(Pod)
PLUGINS = (
    "LimitRanger",
    "DefaultTolerationSeconds",
    "Priority",
    "NodeRestriction",
    "ResourceQuota",
)
KUBELET = UserInfo(name="system:node:n1", groups=(NODES_GROUP,))


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


limit_ranges = st.builds(
    LimitRange,
    metadata=st.builds(ObjectMeta, name=st.just("limits"), namespace=st.just("default")),
    spec=st.builds(
        LimitRangeSpec,
        limits=st.lists(
            st.builds(
                LimitRangeItem,
                type=st.just("Container"),
                default_request=st.dictionaries(st.just("memory"), st.sampled_from(["1Mi", "2Mi"])),
                max=st.dictionaries(st.just("cpu"), st.sampled_from(["50m", "1"])),
            ),
            max_size=1,
        ),
    ),
)


def _admitted(
    chain: AdmissionChain, state: ClusterState, pod: Pod, user: UserInfo = ANONYMOUS
) -> Any:
    """What a create of `pod` is admitted as (its spec memo and all), or its refusal."""
    try:
        obj = chain.admit_create(PODS, pod, user, state)
    except ApiError as error:
        return error.status
    assert obj is not None  # no quotas here: no usage to read
    return obj


def _copy(pod: Pod) -> Pod:
    """An equal pod that shares no list with `pod` (so no memo knows its parts)."""
    return msgspec.json.decode(msgspec.json.encode(pod), type=Pod)


@given(
    st.lists(specs, min_size=1, max_size=4),
    st.lists(
        st.tuples(
            st.integers(0, 3),
            st.booleans(),
            st.none() | classes | limit_ranges,
            st.sampled_from([ANONYMOUS, KUBELET]),
        ),
        min_size=1,
        max_size=25,
    ),
)
def test_pods_from_shared_specs_come_out_as_if_each_were_the_first(
    pool: list[PodSpec],
    steps: list[tuple[int, bool, PriorityClass | LimitRange | None, UserInfo]],
) -> None:
    """Each step creates a pod from a spec of the pool, the very object or an equal
    copy, by an ordinary user or a kubelet, after perhaps writing a priority class or
    a limit range; one long-lived chain (with its memos) must answer as a new chain
    does."""
    state = ClusterState()
    chain = AdmissionChain(PLUGINS)
    for revision, (index, copied, written, user) in enumerate(steps, start=1):
        if isinstance(written, PriorityClass):
            state.apply(PriorityClass, written.metadata.name, revision, written)
        elif written is not None:
            state.apply(LimitRange, "default/limits", revision, written)
        spec = pool[index % len(pool)]
        if copied:
            spec = msgspec.json.decode(msgspec.json.encode(spec), type=PodSpec)
        meta = ObjectMeta(name=f"p{revision}", namespace="default")
        pod = apply_defaults(Pod(spec=spec), meta)
        assert isinstance(pod, Pod)
        fresh = Pod(metadata=meta, spec=_pod_spec(spec), status=PodStatus(phase="Pending"))
        assert pod == fresh
        admitted = _admitted(chain, state, pod, user)
        assert admitted == _admitted(AdmissionChain(PLUGINS), state, _copy(fresh), user)
        if isinstance(admitted, Pod):
            assert validate_pod(admitted) == validate_pod(_copy(admitted))


def test_a_policy_change_is_seen_by_the_next_pod_of_a_template() -> None:
    """The admitted spec of a template is remembered; a limit range written since
    must still fill the next pod's requests."""
    state = ClusterState()
    chain = AdmissionChain(PLUGINS)
    spec = _pod_spec(PodSpec(containers=[Container(name="app")]))

    def pod(name: str) -> Pod:
        return Pod(metadata=ObjectMeta(name=name, namespace="default"), spec=spec)

    first = _admitted(chain, state, pod("a"))
    assert _admitted(chain, state, pod("b")).spec is first.spec  # remembered
    item = LimitRangeItem(type="Container", default_request={"memory": "1Mi"})
    limits = LimitRange(
        metadata=ObjectMeta(name="limits", namespace="default"),
        spec=LimitRangeSpec(limits=[item]),
    )
    state.apply(LimitRange, "default/limits", 1, limits)
    third = _admitted(chain, state, pod("c"))
    assert third.spec.containers[0].resources.requests == {"memory": "1Mi"}
    refused = _admitted(chain, state, pod("d"), KUBELET)
    assert refused.code == 403
    other = _admitted(chain, state, replace_namespace(pod("e"), "other"))
    assert other.spec.containers[0].resources.requests == {}
    quota = ResourceQuota(
        metadata=ObjectMeta(name="pods", namespace="default"),
        spec=ResourceQuotaSpec(hard={"pods": "10"}),
    )
    state.apply(ResourceQuota, "default/pods", 2, quota)
    assert chain.admit_create(PODS, pod("f"), ANONYMOUS, state) is None  # count first


def test_a_chain_with_a_plugin_of_its_own_remembers_nothing() -> None:
    class Labeler:
        name = "Labeler"
        calls = 0

        def admit(self, request: AdmissionRequest) -> Any:
            self.calls += 1
            return request.obj

    labeler = Labeler()
    chain = AdmissionChain(["Priority", labeler])
    state = ClusterState()
    pod = Pod(metadata=ObjectMeta(name="a", namespace="default"), spec=PodSpec())
    _admitted(chain, state, pod)
    _admitted(chain, state, pod)
    assert labeler.calls == 2


def replace_namespace(pod: Pod, namespace: str) -> Pod:
    return msgspec.structs.replace(
        pod, metadata=msgspec.structs.replace(pod.metadata, namespace=namespace)
    )
