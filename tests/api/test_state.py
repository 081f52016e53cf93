"""ClusterState's per-namespace answers stay those of a plain scan of what was applied."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import LimitRange, ObjectMeta, ResourceQuota, Role, RoleBinding, RoleRef
from kubeactors.api._state import ClusterState

NAMESPACES = ("a", "b", "c")
KINDS: tuple[type[Any], ...] = (ResourceQuota, LimitRange, Role, RoleBinding)


def _make(kind: type[Any], namespace: str, name: str) -> Any:
    meta = ObjectMeta(name=name, namespace=namespace)
    if kind is RoleBinding:
        return RoleBinding(metadata=meta, role_ref=RoleRef(kind="Role", name="r"))
    return kind(metadata=meta)


writes = st.lists(
    st.tuples(
        st.sampled_from(KINDS),
        st.sampled_from(NAMESPACES),
        st.sampled_from(("x", "y")),
        st.integers(1, 20),  # the revision: older than a known one is ignored
        st.booleans(),  # deleted
    ),
    max_size=30,
)


@given(writes)
def test_namespaced_lookups_match_a_scan_after_every_write(
    steps: list[tuple[type[Any], str, str, int, bool]],
) -> None:
    state = ClusterState()
    applied: dict[tuple[type[Any], str], tuple[int, Any]] = {}
    for kind, namespace, name, revision, deleted in steps:
        key = f"{namespace}/{name}"
        obj = None if deleted else _make(kind, namespace, name)
        state.apply(kind, key, revision, obj)
        known = applied.get((kind, key))
        if known is None or known[0] <= revision:
            applied[(kind, key)] = (revision, obj)
        for namespace_asked in NAMESPACES:

            def scan(wanted: type[Any], ns: str = namespace_asked) -> list[Any]:
                return [
                    o
                    for (k, _), (_, o) in applied.items()
                    if k is wanted and o is not None and o.metadata.namespace == ns
                ]

            assert sorted(q.metadata.name for q in state.quotas(namespace_asked)) == sorted(
                q.metadata.name for q in scan(ResourceQuota)
            )
            assert sorted(r.metadata.name for r in state.limit_ranges(namespace_asked)) == sorted(
                r.metadata.name for r in scan(LimitRange)
            )
            assert sorted(state.roles(namespace_asked)) == sorted(
                r.metadata.name for r in scan(Role)
            )
            assert sorted(b.metadata.name for b in state.role_bindings(namespace_asked)) == sorted(
                b.metadata.name for b in scan(RoleBinding)
            )


def test_a_lookup_answer_is_the_callers_own() -> None:
    state = ClusterState()
    state.apply(ResourceQuota, "a/x", 1, _make(ResourceQuota, "a", "x"))
    state.quotas("a").clear()
    assert [q.metadata.name for q in state.quotas("a")] == ["x"]
