"""Default roles of an older release are brought up to date at start, as upstream's
RBAC bootstrap does, keeping what an administrator added."""

from __future__ import annotations

from pathlib import Path

import msgspec

from kubeactors.api import (
    ClusterRole,
    ClusterRoleBinding,
    ObjectMeta,
    PolicyRule,
    RoleRef,
    Subject,
    bootstrap_objects,
    default_authorizer,
)
from kubeactors.api._bootstrap import reconciled

from .harness import running_api

EXTRA = PolicyRule(verbs=["get"], api_groups=[""], resources=["configmaps"])


def _basic_user() -> ClusterRole:
    (role,) = [
        o
        for o in bootstrap_objects()
        if isinstance(o, ClusterRole) and o.metadata.name == "system:basic-user"
    ]
    return role


def test_reconciled_adds_missing_rules_and_keeps_extra_ones() -> None:
    wanted = _basic_user()
    old = msgspec.structs.replace(wanted, rules=[wanted.rules[0], EXTRA])
    updated = reconciled(old, wanted)
    assert isinstance(updated, ClusterRole)
    assert updated.rules == [wanted.rules[0], EXTRA, *wanted.rules[1:]]
    assert reconciled(updated, wanted) is None
    frozen = msgspec.structs.replace(
        old,
        metadata=msgspec.structs.replace(
            old.metadata, annotations={"rbac.authorization.kubernetes.io/autoupdate": "false"}
        ),
    )
    assert reconciled(frozen, wanted) is None


def test_reconciled_adds_missing_subjects_of_the_same_role_only() -> None:
    ref = RoleRef(kind="ClusterRole", name="view")
    alice = Subject(kind="User", name="alice")
    bob = Subject(kind="User", name="bob")
    stored = ClusterRoleBinding(metadata=ObjectMeta(name="b"), subjects=[alice], role_ref=ref)
    wanted = msgspec.structs.replace(stored, subjects=[bob])
    updated = reconciled(stored, wanted)
    assert isinstance(updated, ClusterRoleBinding)
    assert updated.subjects == [alice, bob]
    other = msgspec.structs.replace(wanted, role_ref=RoleRef(kind="ClusterRole", name="edit"))
    assert reconciled(stored, other) is None


async def test_a_restart_brings_an_old_default_role_up_to_date(tmp_path: Path) -> None:
    async with running_api(tmp_path, authorizer=default_authorizer()) as h:
        role = await h.client.get(ClusterRole, "system:basic-user")
        assert role.metadata.annotations == {"rbac.authorization.kubernetes.io/autoupdate": "true"}
        # As an older release left it: one rule fewer, and one an administrator added.
        await h.client.update(msgspec.structs.replace(role, rules=[role.rules[0], EXTRA]))
    async with running_api(tmp_path, authorizer=default_authorizer()) as h:
        role = await h.client.get(ClusterRole, "system:basic-user")
        assert role.rules == [_basic_user().rules[0], EXTRA, *_basic_user().rules[1:]]
