"""What the API server creates at start when missing: the system namespaces, the
built-in priority classes, and the default RBAC roles and bindings of the components."""

from __future__ import annotations

from msgspec.structs import replace

from ._auth import AUTHENTICATED, NODE_SIMULATOR, SYSTEM_MASTERS, UNAUTHENTICATED
from ._cluster_kinds import PriorityClass
from ._core import Namespace
from ._meta import ApiObject, ObjectMeta
from ._rbac import ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject

__all__ = ["SYSTEM_NAMESPACES", "bootstrap_objects", "reconciled"]

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")

_READ = ["get", "list", "watch"]
_WRITE = ["create", "update", "patch", "delete"]
_BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
_AUTOUPDATE = "rbac.authorization.kubernetes.io/autoupdate"
_BOOTSTRAP_ANNOTATIONS = {_AUTOUPDATE: "true"}


def _rule(verbs: list[str], groups: list[str], resources: list[str]) -> PolicyRule:
    return PolicyRule(verbs=verbs, api_groups=groups, resources=resources)


_WORKLOADS = ["deployments", "replicasets", "statefulsets", "daemonsets"]

_ROLES: dict[str, list[PolicyRule]] = {
    "cluster-admin": [
        _rule(["*"], ["*"], ["*"]),
        PolicyRule(verbs=["*"], non_resource_urls=["*"]),
    ],
    "system:discovery": [
        PolicyRule(
            verbs=["get"],
            non_resource_urls=[
                "/api",
                "/api/*",
                "/apis",
                "/apis/*",
                "/healthz",
                "/livez",
                "/openapi",
                "/openapi/*",
                "/readyz",
                "/version",
                "/version/",
            ],
        )
    ],
    "system:public-info-viewer": [
        PolicyRule(
            verbs=["get"],
            non_resource_urls=["/healthz", "/livez", "/readyz", "/version", "/version/"],
        )
    ],
    "system:basic-user": [
        _rule(
            ["create"],
            ["authorization.k8s.io"],
            ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
        ),
        _rule(["create"], ["authentication.k8s.io"], ["selfsubjectreviews"]),
    ],
    "view": [
        _rule(
            _READ,
            [""],
            [
                "pods",
                "services",
                "endpoints",
                "configmaps",
                "events",
                "replicationcontrollers",
                "serviceaccounts",
            ],
        ),
        _rule(_READ, ["apps"], _WORKLOADS),
        _rule(_READ, ["batch"], ["jobs"]),
        _rule(_READ, ["policy"], ["poddisruptionbudgets"]),
        _rule(_READ, ["discovery.k8s.io"], ["endpointslices"]),
    ],
    "edit": [
        _rule(
            _READ + _WRITE,
            [""],
            [
                "pods",
                "services",
                "endpoints",
                "configmaps",
                "secrets",
                "replicationcontrollers",
                "serviceaccounts",
            ],
        ),
        _rule(_READ + _WRITE, ["apps"], [*_WORKLOADS, "deployments/scale", "replicasets/scale"]),
        _rule(_READ + _WRITE, ["batch"], ["jobs"]),
        _rule(_READ + _WRITE, ["policy"], ["poddisruptionbudgets"]),
        _rule(["create"], [""], ["pods/eviction"]),
        _rule(_READ, [""], ["events"]),
    ],
    "system:kube-scheduler": [
        _rule([*_READ, "delete"], [""], ["pods"]),
        _rule(["create"], [""], ["pods/binding", "bindings"]),
        _rule(["update", "patch"], [""], ["pods/status"]),
        _rule(_READ, [""], ["nodes", "namespaces", "services", "replicationcontrollers"]),
        _rule(_READ, [""], ["persistentvolumes", "persistentvolumeclaims"]),
        _rule(_READ, ["apps"], ["replicasets", "statefulsets"]),
        _rule(_READ, ["scheduling.k8s.io"], ["priorityclasses"]),
        _rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
        _rule(_READ + _WRITE, ["coordination.k8s.io"], ["leases"]),
    ],
    "system:kube-controller-manager": [
        _rule(
            ["*"], ["", "apps", "batch", "policy", "discovery.k8s.io", "coordination.k8s.io"], ["*"]
        ),
        _rule(_READ, ["*"], ["*"]),
        # The garbage collector's share (upstream's generic-garbage-collector role):
        # dependents and owners of any kind, custom ones included.
        _rule(["delete", "patch", "update"], ["*"], ["*"]),
    ],
    "system:node-proxier": [
        _rule(_READ, [""], ["services", "endpoints", "nodes"]),
        _rule(_READ, ["discovery.k8s.io"], ["endpointslices"]),
        _rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
    ],
    # kubeactors' own: the shared watches that hand each simulated kubelet its pods,
    # its Node and the Services of its pods' environment.
    NODE_SIMULATOR: [
        _rule(_READ, [""], ["pods", "nodes", "services"]),
    ],
    "system:node": [
        _rule(_READ, [""], ["pods", "nodes", "services", "endpoints", "configmaps", "secrets"]),
        _rule(["create", "update", "patch"], [""], ["nodes", "nodes/status"]),
        _rule(["update", "patch"], [""], ["pods/status"]),
        _rule(["delete"], [""], ["pods"]),
        _rule(_READ + _WRITE, ["coordination.k8s.io"], ["leases"]),
        _rule(["create", "patch", "update"], ["", "events.k8s.io"], ["events"]),
    ],
}

_BINDINGS: dict[str, list[Subject]] = {
    "cluster-admin": [
        Subject(kind="Group", name=SYSTEM_MASTERS, api_group="rbac.authorization.k8s.io")
    ],
    "system:discovery": [
        Subject(kind="Group", name=AUTHENTICATED, api_group="rbac.authorization.k8s.io")
    ],
    "system:public-info-viewer": [
        Subject(kind="Group", name=AUTHENTICATED, api_group="rbac.authorization.k8s.io"),
        Subject(kind="Group", name=UNAUTHENTICATED, api_group="rbac.authorization.k8s.io"),
    ],
    "system:basic-user": [
        Subject(kind="Group", name=AUTHENTICATED, api_group="rbac.authorization.k8s.io")
    ],
    "system:kube-scheduler": [
        Subject(kind="User", name="system:kube-scheduler", api_group="rbac.authorization.k8s.io")
    ],
    "system:kube-controller-manager": [
        Subject(
            kind="User",
            name="system:kube-controller-manager",
            api_group="rbac.authorization.k8s.io",
        )
    ],
    "system:node-proxier": [
        Subject(kind="User", name="system:kube-proxy", api_group="rbac.authorization.k8s.io")
    ],
    NODE_SIMULATOR: [
        Subject(kind="User", name=NODE_SIMULATOR, api_group="rbac.authorization.k8s.io")
    ],
}


def bootstrap_objects() -> list[ApiObject]:
    """The objects every cluster starts with, in the order they are created."""
    objects: list[ApiObject] = [Namespace(metadata=ObjectMeta(name=n)) for n in SYSTEM_NAMESPACES]
    objects += [
        PriorityClass(
            metadata=ObjectMeta(name="system-node-critical"),
            value=2_000_001_000,
            description="Used for system critical pods that must not be moved from their node.",
        ),
        PriorityClass(
            metadata=ObjectMeta(name="system-cluster-critical"),
            value=2_000_000_000,
            description="Used for system critical pods that must run in the cluster.",
        ),
    ]
    objects += [
        ClusterRole(metadata=_bootstrap_meta(name), rules=rules) for name, rules in _ROLES.items()
    ]
    objects += [
        ClusterRoleBinding(
            metadata=_bootstrap_meta(name),
            subjects=subjects,
            role_ref=RoleRef(kind="ClusterRole", name=name),
        )
        for name, subjects in _BINDINGS.items()
    ]
    return objects


def _bootstrap_meta(name: str) -> ObjectMeta:
    return ObjectMeta(name=name, labels=_BOOTSTRAP_LABELS, annotations=_BOOTSTRAP_ANNOTATIONS)


def reconciled(stored: ApiObject, wanted: ApiObject) -> ApiObject | None:
    """A stored default ClusterRole or ClusterRoleBinding with the rules or subjects
    of `wanted` it lacks added (what an older release made is brought up to date, what
    an administrator added is kept); None when nothing is missing, when the object
    says `rbac.authorization.kubernetes.io/autoupdate: "false"`, or for other kinds."""
    if stored.metadata.annotations.get(_AUTOUPDATE) == "false":
        return None
    if isinstance(stored, ClusterRole) and isinstance(wanted, ClusterRole):
        rules = [r for r in wanted.rules if r not in stored.rules]
        return replace(stored, rules=[*stored.rules, *rules]) if rules else None
    if isinstance(stored, ClusterRoleBinding) and isinstance(wanted, ClusterRoleBinding):
        subjects = [s for s in wanted.subjects if s not in stored.subjects]
        if not subjects or stored.role_ref != wanted.role_ref:
            return None
        return replace(stored, subjects=[*stored.subjects, *subjects])
    return None
