"""rbac.authorization.k8s.io/v1: Role, ClusterRole and their bindings."""

from __future__ import annotations

import msgspec

from ._base import WireStruct
from ._meta import ApiObject, LabelSelector, ObjectMeta

__all__ = [
    "AggregationRule",
    "ClusterRole",
    "ClusterRoleBinding",
    "PolicyRule",
    "Role",
    "RoleBinding",
    "RoleRef",
    "Subject",
]


class PolicyRule(WireStruct, frozen=True):
    """Grants `verbs` on `resources` ("pods", "pods/status", "*") of `apiGroups`."""

    verbs: list[str]
    api_groups: list[str] = msgspec.field(default_factory=list)
    resources: list[str] = msgspec.field(default_factory=list)
    resource_names: list[str] = msgspec.field(default_factory=list)
    non_resource_urls: list[str] = msgspec.field(default_factory=list, name="nonResourceURLs")


class AggregationRule(WireStruct, frozen=True):
    cluster_role_selectors: list[LabelSelector] = msgspec.field(default_factory=list)


class Role(ApiObject, frozen=True):
    api_version: str = "rbac.authorization.k8s.io/v1"
    kind: str = "Role"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    rules: list[PolicyRule] = msgspec.field(default_factory=list)


class ClusterRole(ApiObject, frozen=True):
    api_version: str = "rbac.authorization.k8s.io/v1"
    kind: str = "ClusterRole"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    rules: list[PolicyRule] = msgspec.field(default_factory=list)
    aggregation_rule: AggregationRule | None = None


class Subject(WireStruct, frozen=True):
    """A User, a Group or a ServiceAccount (which has a namespace)."""

    kind: str
    name: str
    api_group: str = ""
    namespace: str = ""


class RoleRef(WireStruct, frozen=True):
    kind: str
    name: str
    api_group: str = "rbac.authorization.k8s.io"


class RoleBinding(ApiObject, frozen=True):
    api_version: str = "rbac.authorization.k8s.io/v1"
    kind: str = "RoleBinding"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    subjects: list[Subject] = msgspec.field(default_factory=list)
    role_ref: RoleRef = msgspec.field(default_factory=lambda: RoleRef(kind="Role", name=""))


class ClusterRoleBinding(ApiObject, frozen=True):
    api_version: str = "rbac.authorization.k8s.io/v1"
    kind: str = "ClusterRoleBinding"
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    subjects: list[Subject] = msgspec.field(default_factory=list)
    role_ref: RoleRef = msgspec.field(default_factory=lambda: RoleRef(kind="ClusterRole", name=""))
