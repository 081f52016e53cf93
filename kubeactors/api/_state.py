"""What the API server keeps in memory of the objects that steer its own decisions:
namespaces, RBAC, priority classes, quotas and limit ranges."""

from __future__ import annotations

from typing import Any

from ._cluster_kinds import PriorityClass
from ._core import LimitRange, Namespace, ResourceQuota
from ._meta import ApiObject
from ._rbac import ClusterRole, ClusterRoleBinding, Role, RoleBinding

__all__ = ["POLICY_KINDS", "ClusterState"]

POLICY_KINDS: tuple[type[ApiObject], ...] = (
    Namespace,
    Role,
    ClusterRole,
    RoleBinding,
    ClusterRoleBinding,
    PriorityClass,
    ResourceQuota,
    LimitRange,
)
_TRACKED = frozenset(POLICY_KINDS)
_RBAC_KINDS = frozenset({Role, ClusterRole, RoleBinding, ClusterRoleBinding})


class ClusterState:
    """The policy objects by kind and "namespace/name", each at its latest revision.

    The API server loads them at start and applies each of its own successful writes,
    so a decision always sees the writes that were answered before it.
    """

    def __init__(self) -> None:
        self._objects: dict[type[Any], dict[str, tuple[int, ApiObject | None]]] = {
            kind: {} for kind in POLICY_KINDS
        }
        # Every pod's create asks for it: found once per change of the classes.
        self._default_priority_class: tuple[PriorityClass | None] | None = None
        # The objects of a kind by namespace, made on first use after each change of
        # the kind: every create asks for its namespace's quotas and limit ranges
        # (mostly none), and each such question would otherwise scan them all.
        self._by_namespace: dict[type[Any], dict[str, list[Any]]] = {}
        self.generation = 0
        """Counts the changes to any policy object: a decision made from the policy
        holds while it stays the same."""
        self.rbac_generation = 0
        """Counts the changes to Roles, ClusterRoles and their bindings: a decision
        made from them holds while it stays the same."""

    @staticmethod
    def tracks(kind: type[Any]) -> bool:
        return kind in _TRACKED

    def apply(self, kind: type[Any], key: str, revision: int, obj: ApiObject | None) -> None:
        """Record `obj` (None: deleted) at `revision`, unless a newer state is known."""
        objects = self._objects.get(kind)
        if objects is None:
            return
        known = objects.get(key)
        if known is None or known[0] <= revision:
            objects[key] = (revision, obj)
            self.generation += 1
            self._by_namespace.pop(kind, None)
            if kind is PriorityClass:
                self._default_priority_class = None
            elif kind in _RBAC_KINDS:
                self.rbac_generation += 1

    def _all(self, kind: type[Any]) -> list[Any]:
        objects = self._objects[kind]
        if not objects:
            return []
        return [obj for _, obj in objects.values() if obj is not None]

    def _namespaces(self, kind: type[Any]) -> dict[str, list[Any]]:
        index = self._by_namespace.get(kind)
        if index is None:
            index = self._by_namespace[kind] = {}
            for _, obj in self._objects[kind].values():
                if obj is not None:
                    index.setdefault(obj.metadata.namespace, []).append(obj)
        return index

    def _in_namespace(self, kind: type[Any], namespace: str) -> list[Any]:
        found = self._namespaces(kind).get(namespace)
        return list(found) if found else []

    def _one(self, kind: type[Any], key: str) -> Any:
        found = self._objects[kind].get(key)
        return None if found is None else found[1]

    def namespace(self, name: str) -> Namespace | None:
        found: Namespace | None = self._one(Namespace, name)
        return found

    def roles(self, namespace: str) -> dict[str, Role]:
        return {r.metadata.name: r for r in self._in_namespace(Role, namespace)}

    def role(self, namespace: str, name: str) -> Role | None:
        found: Role | None = self._one(Role, f"{namespace}/{name}")
        return found

    def cluster_role(self, name: str) -> ClusterRole | None:
        found: ClusterRole | None = self._one(ClusterRole, name)
        return found

    def role_bindings(self, namespace: str) -> list[RoleBinding]:
        found: list[RoleBinding] = self._in_namespace(RoleBinding, namespace)
        return found

    def cluster_role_bindings(self) -> list[ClusterRoleBinding]:
        found: list[ClusterRoleBinding] = self._all(ClusterRoleBinding)
        return found

    def priority_class(self, name: str) -> PriorityClass | None:
        found: PriorityClass | None = self._one(PriorityClass, name)
        return found

    def priority_classes(self) -> list[PriorityClass]:
        found: list[PriorityClass] = self._all(PriorityClass)
        return found

    def default_priority_class(self) -> PriorityClass | None:
        """The class marked `globalDefault` (the first, if several are), if any."""
        cached = self._default_priority_class
        if cached is None:
            found = next((c for c in self.priority_classes() if c.global_default), None)
            cached = self._default_priority_class = (found,)
        return cached[0]

    def quotas(self, namespace: str) -> list[ResourceQuota]:
        found: list[ResourceQuota] = self._in_namespace(ResourceQuota, namespace)
        return found

    def has_quotas(self, namespace: str) -> bool:
        """Whether `namespace` has a ResourceQuota (asked of every create, the answer
        mostly no)."""
        return namespace in self._namespaces(ResourceQuota)

    def has_limit_ranges(self, namespace: str) -> bool:
        return namespace in self._namespaces(LimitRange)

    def limit_ranges(self, namespace: str) -> list[LimitRange]:
        found: list[LimitRange] = self._in_namespace(LimitRange, namespace)
        return found
