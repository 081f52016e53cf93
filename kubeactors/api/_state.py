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

    @staticmethod
    def tracks(kind: type[Any]) -> bool:
        return kind in POLICY_KINDS

    def apply(self, kind: type[Any], key: str, revision: int, obj: ApiObject | None) -> None:
        """Record `obj` (None: deleted) at `revision`, unless a newer state is known."""
        objects = self._objects.get(kind)
        if objects is None:
            return
        known = objects.get(key)
        if known is None or known[0] <= revision:
            objects[key] = (revision, obj)
            if kind is PriorityClass:
                self._default_priority_class = None

    def _all(self, kind: type[Any]) -> list[Any]:
        objects = self._objects[kind]
        if not objects:
            return []
        return [obj for _, obj in objects.values() if obj is not None]

    def _one(self, kind: type[Any], key: str) -> Any:
        found = self._objects[kind].get(key)
        return None if found is None else found[1]

    def namespace(self, name: str) -> Namespace | None:
        found: Namespace | None = self._one(Namespace, name)
        return found

    def roles(self, namespace: str) -> dict[str, Role]:
        return {r.metadata.name: r for r in self._all(Role) if r.metadata.namespace == namespace}

    def role(self, namespace: str, name: str) -> Role | None:
        found: Role | None = self._one(Role, f"{namespace}/{name}")
        return found

    def cluster_role(self, name: str) -> ClusterRole | None:
        found: ClusterRole | None = self._one(ClusterRole, name)
        return found

    def role_bindings(self, namespace: str) -> list[RoleBinding]:
        return [b for b in self._all(RoleBinding) if b.metadata.namespace == namespace]

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
        return [q for q in self._all(ResourceQuota) if q.metadata.namespace == namespace]

    def limit_ranges(self, namespace: str) -> list[LimitRange]:
        return [r for r in self._all(LimitRange) if r.metadata.namespace == namespace]
