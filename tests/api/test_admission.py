"""The admission chain skips the plugins a write does not concern: a plugin that says
so must leave every such write alone, and the chain must answer as if it had called
every plugin in turn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kubeactors.api import (
    KINDS,
    ApiError,
    ApiObject,
    Lease,
    LeaseSpec,
    LimitRange,
    LimitRangeItem,
    LimitRangeSpec,
    Namespace,
    NamespaceStatus,
    Node,
    ObjectMeta,
    PriorityClass,
    ResourceQuota,
    ResourceQuotaSpec,
    kind_of,
    node_user,
)
from kubeactors.api._admission import (
    DEFAULT_PLUGINS,
    AdmissionChain,
    AdmissionRequest,
    Operation,
    admission_plugin,
)
from kubeactors.api._auth import ANONYMOUS, UserInfo
from kubeactors.api._state import ClusterState
from kubeactors.testing.strategies import nodes

from .harness import running_api

LEASES = kind_of(Lease)
NODES = kind_of(Node)
OPERATIONS: tuple[Operation, ...] = ("CREATE", "UPDATE", "DELETE")
ADMIN = UserInfo("admin", groups=("system:masters",))
USERS = st.sampled_from([None, ANONYMOUS, ADMIN, node_user("node-1"), node_user("node-2")])
NAMESPACES = st.sampled_from(["default", "kube-system", "kube-node-lease", "closing", "gone"])


@st.composite
def states(draw: st.DrawFn) -> ClusterState:
    """Policy that makes the plugins act where they act at all: a terminating
    namespace, limit ranges that default and bound, a quota with no room left,
    priority classes (one the global default)."""
    state = ClusterState()
    revision = 0

    def put(kind: type[Any], key: str, obj: ApiObject) -> None:
        nonlocal revision
        revision += 1
        state.apply(kind, key, revision, obj)

    for name in ("default", "kube-system", "kube-node-lease"):
        put(Namespace, name, Namespace(metadata=ObjectMeta(name=name)))
    closing = Namespace(
        metadata=ObjectMeta(name="closing"), status=NamespaceStatus(phase="Terminating")
    )
    put(Namespace, "closing", closing)
    for namespace in draw(st.lists(NAMESPACES, max_size=3, unique=True)):
        item = LimitRangeItem(
            type="Container",
            max={"cpu": "1"},
            min={"memory": "1Mi"},
            default={"cpu": "500m"},
            default_request={"memory": "64Mi"},
        )
        ranges = LimitRange(
            metadata=ObjectMeta(name="limits", namespace=namespace),
            spec=LimitRangeSpec(limits=[item]),
        )
        put(LimitRange, f"{namespace}/limits", ranges)
    for namespace in draw(st.lists(NAMESPACES, max_size=3, unique=True)):
        quota = ResourceQuota(
            metadata=ObjectMeta(name="full", namespace=namespace),
            spec=ResourceQuotaSpec(hard={"pods": "0", "count/leases": "0", "count/nodes": "0"}),
        )
        put(ResourceQuota, f"{namespace}/full", quota)
    if draw(st.booleans()):
        high = PriorityClass(metadata=ObjectMeta(name="high"), value=1000, global_default=True)
        put(PriorityClass, "high", high)
    return state


def _answer(write: Any) -> Any:
    """What a write comes to: the object admitted, or the refusal's status."""
    try:
        return write()
    except ApiError as error:
        return error.status


def _every_plugin(chain: AdmissionChain, request: AdmissionRequest) -> ApiObject:
    """The chain as it was before it skipped anything: every plugin, in order."""
    for plugin in chain.plugins:
        request.obj = plugin.admit(request)
    return request.obj


def _request(
    operation: Operation, obj: ApiObject, user: UserInfo | None, state: ClusterState
) -> AdmissionRequest:
    kind = kind_of(type(obj))
    old = None if operation == "CREATE" else obj
    return AdmissionRequest(operation, kind, obj, old, user, state)


@given(
    st.sampled_from(DEFAULT_PLUGINS),
    st.sampled_from(list(KINDS)),
    st.sampled_from(OPERATIONS),
    st.sampled_from(["node-1", "node-2", "default", "kube-system"]),
    NAMESPACES,
    USERS,
    states(),
)
def test_a_plugin_leaves_alone_every_write_it_says_does_not_concern_it(
    name: str,
    kind: Any,
    operation: Operation,
    object_name: str,
    namespace: str,
    user: UserInfo | None,
    state: ClusterState,
) -> None:
    plugin = admission_plugin(name)
    concerns = getattr(plugin, "concerns")  # noqa: B009 (every built-in plugin says)
    assume(not concerns(operation, kind))
    meta = ObjectMeta(name=object_name, namespace=namespace if kind.namespaced else "")
    obj = kind.type(metadata=meta)
    request = AdmissionRequest(operation, kind, obj, obj, user, state)
    assert plugin.admit(request) is obj


@st.composite
def leases(draw: st.DrawFn) -> Lease:
    name = draw(st.sampled_from(["node-1", "node-2"]))
    spec = LeaseSpec(
        holder_identity=draw(st.sampled_from([name, "node-2", ""])),
        lease_duration_seconds=draw(st.sampled_from([None, 40])),
        renew_time=draw(st.sampled_from(["", "2026-01-02T03:04:05.000000Z"])),
    )
    namespace = draw(st.sampled_from(["kube-node-lease", "default", "closing"]))
    return Lease(metadata=ObjectMeta(name=name, namespace=namespace), spec=spec)


@given(
    st.one_of(leases(), nodes(name="node-1"), nodes(name="node-2")),
    st.sampled_from(OPERATIONS),
    USERS,
    states(),
)
def test_heartbeat_writes_get_the_answer_every_plugin_would_give(
    obj: ApiObject, operation: Operation, user: UserInfo | None, state: ClusterState
) -> None:
    """Lease and Node writes, with all of upstream's plugins on (NamespaceLifecycle
    too): the answer, object or refusal, is the one the whole chain gives."""
    chain = AdmissionChain(DEFAULT_PLUGINS)
    reference = AdmissionChain(DEFAULT_PLUGINS)
    skipping = _answer(lambda: chain.admit(_request(operation, obj, user, state)))
    every = _answer(lambda: _every_plugin(reference, _request(operation, obj, user, state)))
    assert skipping == every


def test_a_lease_renewal_meets_no_default_plugin_and_a_node_update_meets_node_restriction() -> None:
    chain = AdmissionChain(DEFAULT_PLUGINS)
    assert chain.concerned("UPDATE", LEASES) == ()
    assert [plugin.name for plugin in chain.concerned("UPDATE", NODES)] == ["NodeRestriction"]
    assert [plugin.name for plugin in chain.concerned("CREATE", LEASES)] == [
        "NamespaceLifecycle",
        "ResourceQuota",
    ]


class _NoLeases:
    """A plugin of a user's that does not say which writes concern it."""

    name = "NoLeases"

    def admit(self, request: AdmissionRequest) -> ApiObject:
        if request.kind.type is Lease and request.operation == "UPDATE":
            raise ApiError.forbidden("leases", request.obj.metadata.name, "no renewals here")
        return request.obj


async def test_a_plugin_that_does_not_say_what_concerns_it_sees_every_write(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path, admission=[*DEFAULT_PLUGINS[1:], _NoLeases()]) as api:
        lease = await api.client.create(
            Lease(metadata=ObjectMeta(name="node-1", namespace="kube-node-lease"))
        )
        with pytest.raises(ApiError) as refused:
            await api.client.update(lease)
        assert refused.value.code == 403
        assert "no renewals here" in refused.value.status.message
