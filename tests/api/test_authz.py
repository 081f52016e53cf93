"""The RBAC authoriser's remembered decisions are those a fresh one makes, through
any sequence of changes to roles and bindings."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    ClusterRole,
    ClusterRoleBinding,
    ObjectMeta,
    PolicyRule,
    Role,
    RoleBinding,
    RoleRef,
    Subject,
    UserInfo,
)
from kubeactors.api._authz import Attributes, RBACAuthorizer
from kubeactors.api._state import ClusterState

USERS = (UserInfo("alice"), UserInfo("bob", groups=("team",)))
rules = st.lists(
    st.builds(
        PolicyRule,
        verbs=st.lists(st.sampled_from(["get", "create", "*"]), min_size=1, max_size=2),
        api_groups=st.just([""]),
        resources=st.lists(st.sampled_from(["pods", "nodes", "*"]), min_size=1, max_size=2),
        resource_names=st.sampled_from([[], ["a"]]),
    ),
    max_size=2,
)
subjects = st.lists(
    st.sampled_from([Subject(kind="User", name="alice"), Subject(kind="Group", name="team")]),
    max_size=2,
)
writes = st.one_of(
    st.builds(
        lambda name, r: (
            Role,
            f"ns/{name}",
            Role(metadata=ObjectMeta(name=name, namespace="ns"), rules=r),
        ),
        st.sampled_from(["r1", "r2"]),
        rules,
    ),
    st.builds(
        lambda name, r: (ClusterRole, name, ClusterRole(metadata=ObjectMeta(name=name), rules=r)),
        st.sampled_from(["c1", "c2"]),
        rules,
    ),
    st.builds(
        lambda name, s, ref: (
            RoleBinding,
            f"ns/{name}",
            RoleBinding(
                metadata=ObjectMeta(name=name, namespace="ns"),
                subjects=s,
                role_ref=RoleRef(kind=ref[0], name=ref[1]),
            ),
        ),
        st.sampled_from(["b1", "b2"]),
        subjects,
        st.sampled_from([("Role", "r1"), ("Role", "r2"), ("ClusterRole", "c1")]),
    ),
    st.builds(
        lambda name, s, role: (
            ClusterRoleBinding,
            name,
            ClusterRoleBinding(
                metadata=ObjectMeta(name=name),
                subjects=s,
                role_ref=RoleRef(kind="ClusterRole", name=role),
            ),
        ),
        st.sampled_from(["cb1", "cb2"]),
        subjects,
        st.sampled_from(["c1", "c2"]),
    ),
)
QUESTIONS = [
    Attributes(user, verb, resource=resource, namespace=namespace, name=name)
    for user in USERS
    for verb in ("get", "create")
    for resource in ("pods", "nodes")
    for namespace in ("ns", "other", "")
    for name in ("", "a", "b")
]


@given(st.lists(st.tuples(writes, st.booleans()), max_size=12))
def test_remembered_decisions_follow_every_rbac_change(
    steps: list[tuple[tuple[type[Any], str, Any], bool]],
) -> None:
    """After each write (or deletion), every question is asked twice: the second
    answer comes from memory, and both must be a fresh authoriser's."""
    state = ClusterState()
    remembering = RBACAuthorizer()
    for revision, ((kind, key, obj), deleted) in enumerate(steps, start=1):
        state.apply(kind, key, revision, None if deleted else obj)
        for attributes in QUESTIONS:
            fresh = RBACAuthorizer().authorize(attributes, state)
            assert remembering.authorize(attributes, state) == fresh
            assert remembering.authorize(attributes, state) == fresh


def test_decisions_of_one_state_are_not_taken_for_another() -> None:
    granted = ClusterState()
    granted.apply(
        ClusterRole,
        "c1",
        1,
        ClusterRole(
            metadata=ObjectMeta(name="c1"),
            rules=[PolicyRule(verbs=["*"], api_groups=["*"], resources=["*"])],
        ),
    )
    granted.apply(
        ClusterRoleBinding,
        "cb1",
        2,
        ClusterRoleBinding(
            metadata=ObjectMeta(name="cb1"),
            subjects=[Subject(kind="User", name="alice")],
            role_ref=RoleRef(kind="ClusterRole", name="c1"),
        ),
    )
    authorizer = RBACAuthorizer()
    question = Attributes(USERS[0], "get", resource="pods", namespace="ns")
    assert authorizer.authorize(question, granted) is True
    assert authorizer.authorize(question, ClusterState()) is None
    assert authorizer.authorize(question, granted) is True
