"""The kind registry: each kind's type, group/version, names, scope, storage prefix and codec.

The API server routes requests by it and the HTTP layer builds discovery from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import msgspec

from ._apps import Deployment, ReplicaSet
from ._batch import Job
from ._cluster_kinds import EndpointSlice, Lease, PriorityClass
from ._core import (
    ConfigMap,
    Endpoints,
    Event,
    LimitRange,
    Namespace,
    ReplicationController,
    ResourceQuota,
    Secret,
    Service,
    ServiceAccount,
)
from ._crd import CRD_GROUP, CustomResourceDefinition
from ._meta import ApiObject, ObjectMeta
from ._node import Node
from ._pod import Pod
from ._policy import PodDisruptionBudget
from ._rbac import ClusterRole, ClusterRoleBinding, Role, RoleBinding
from ._resource_version import with_resource_version as with_resource_version
from ._reviews import (
    LocalSubjectAccessReview,
    SelfSubjectAccessReview,
    SelfSubjectReview,
    SelfSubjectRulesReview,
    SubjectAccessReview,
    TokenReview,
)

__all__ = [
    "KINDS",
    "NODES",
    "PODS",
    "KindListener",
    "KindRegistry",
    "Resource",
    "ResourceKind",
    "UnknownKindError",
    "kind_of",
    "object_key",
]

Resource = ApiObject
R = TypeVar("R", bound=ApiObject)

_ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True, eq=False)
class ResourceKind(Generic[R]):
    """One kind of resource: how it is named, stored and (de)serialised.

    Objects are stored without `resourceVersion` (the store's mod_revision is the
    version, as in Kubernetes' etcd3 storage), so one encoding serves every reader.
    """

    type: type[R]
    kind: str
    plural: str
    namespaced: bool
    registry: bytes
    group: str = ""
    version: str = "v1"
    singular: str = ""
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = _ALL_VERBS

    def __post_init__(self) -> None:
        encoder = msgspec.json.Encoder()
        object.__setattr__(self, "_encoder", encoder)
        object.__setattr__(self, "_decoder", msgspec.json.Decoder(self.type))
        if type(self).encode is ResourceKind.encode:
            # `encode` is the encoder's own: a write's encoding costs no Python call.
            object.__setattr__(self, "encode", encoder.encode)

    @property
    def api_version(self) -> str:
        """ "v1" for the core group, "apps/v1" for the others."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources

    def prefix(self, namespace: str = "") -> bytes:
        """The key prefix of every object of this kind (in `namespace`, if given)."""
        if self.namespaced and namespace:
            return self.registry + namespace.encode() + b"/"
        return self.registry

    def key(self, namespace: str, name: str) -> bytes:
        if self.namespaced:
            return self.registry + f"{namespace}/{name}".encode()
        return self.registry + name.encode()

    def encode(self, obj: R) -> bytes:
        encoder: msgspec.json.Encoder = getattr(self, "_encoder")  # noqa: B009
        return encoder.encode(obj)

    def decode(self, data: bytes, revision: int) -> R:
        """Decode a stored object and stamp it with the revision it was stored at."""
        decoder: msgspec.json.Decoder[Any] = getattr(self, "_decoder")  # noqa: B009
        obj: R = decoder.decode(data)
        return with_resource_version(obj, revision)


def without_resource_version(obj: R) -> R:
    if not obj.metadata.resource_version:
        return obj
    meta: ObjectMeta = msgspec.structs.replace(obj.metadata, resource_version="")
    return msgspec.structs.replace(obj, metadata=meta)


class UnknownKindError(TypeError):
    """A type or name that is not one of the kinds the API server serves."""


KindListener = Callable[[list["ResourceKind[Any]"], list["ResourceKind[Any]"]], None]
"""Called with the kinds added and the kinds removed by each change to a registry."""


class KindRegistry:
    """Every served kind, found by type, by (group, plural), by kind or by short name.

    A registry can change while it serves: `add` and `remove` are how a
    CustomResourceDefinition comes and goes. Listeners (the HTTP layer's index)
    hear of each change; `generation` counts them.
    """

    def __init__(self, kinds: Iterable[ResourceKind[Any]]) -> None:
        self._kinds = list(kinds)
        self._listeners: list[KindListener] = []
        self.generation = 0
        self._index()
        if len(self._by_type) != len(self._kinds) or len(self._by_version) != len(self._kinds):
            raise ValueError("every kind needs its own type and its own (group, version, plural)")

    def _index(self) -> None:
        kinds = self._kinds
        self._by_type: dict[type[Any], ResourceKind[Any]] = {k.type: k for k in kinds}
        self._by_version = {(k.group, k.version, k.plural): k for k in kinds}
        self._by_resource: dict[tuple[str, str], ResourceKind[Any]] = {}
        self._by_kind: dict[tuple[str, str], ResourceKind[Any]] = {}
        self._by_name: dict[str, ResourceKind[Any]] = {}
        for k in kinds:
            self._by_resource.setdefault((k.group, k.plural), k)
            self._by_kind.setdefault((k.group, k.kind), k)
            for name in (k.plural, k.singular_name, *k.short_names):
                self._by_name.setdefault(name, k)

    def __iter__(self) -> Iterator[ResourceKind[Any]]:
        return iter(list(self._kinds))

    def __len__(self) -> int:
        return len(self._kinds)

    def subscribe(self, listener: KindListener) -> None:
        """Call `listener(added, removed)` after each change from now on."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: KindListener) -> None:
        """Stop calling `listener` (a listener not subscribed is no error)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def add(self, kinds: Iterable[ResourceKind[Any]]) -> None:
        """Serve `kinds`, each replacing any served at its group, version and plural."""
        added = list(kinds)
        if not added:
            return
        paths = {(k.group, k.version, k.plural) for k in added}
        removed = [k for k in self._kinds if (k.group, k.version, k.plural) in paths]
        self._change(added, removed)

    def remove(self, kinds: Iterable[ResourceKind[Any]]) -> None:
        """Stop serving `kinds` (those no longer served are ignored)."""
        removed = [k for k in kinds if self._by_type.get(k.type) is k]
        if removed:
            self._change([], removed)

    def _change(self, added: list[ResourceKind[Any]], removed: list[ResourceKind[Any]]) -> None:
        gone = {id(k) for k in removed}
        self._kinds = [k for k in self._kinds if id(k) not in gone] + added
        self._index()
        self.generation += 1
        for listener in list(self._listeners):
            listener(added, removed)

    def of_type(self, resource_type: type[R]) -> ResourceKind[R]:
        try:
            return self._by_type[resource_type]
        except (KeyError, TypeError):
            raise UnknownKindError(
                f"not a resource type the API server serves: {resource_type!r}"
            ) from None

    def of_resource(self, group: str, plural: str, version: str = "") -> ResourceKind[Any]:
        """The kind served at `/apis/<group>/<version>/<plural>` (`""` is the core
        group; without a version, the preferred one)."""
        if version:
            found = self._by_version.get((group, version, plural))
        else:
            found = self._by_resource.get((group, plural))
        if found is None:
            raise UnknownKindError(f'the server could not find the resource "{plural}"')
        return found

    def of_kind(self, api_version: str, kind: str) -> ResourceKind[Any]:
        group, _, version = api_version.rpartition("/")
        found = next(
            (k for k in self._kinds if (k.group, k.version, k.kind) == (group, version, kind)),
            None,
        ) or self._by_kind.get((group, kind))
        if found is None:
            raise UnknownKindError(f'no kind "{kind}" is registered for version "{api_version}"')
        return found

    def of_name(self, name: str) -> ResourceKind[Any]:
        """By plural, singular or short name, as kubectl resolves `po` or `deploy`."""
        found = self._by_name.get(name.lower())
        if found is None:
            raise UnknownKindError(f'the server does not have a resource type "{name}"')
        return found

    def groups(self) -> dict[str, list[str]]:
        """Each group ("" for core) with its versions, in registry order."""
        groups: dict[str, list[str]] = {}
        for kind in self._kinds:
            versions = groups.setdefault(kind.group, [])
            if kind.version not in versions:
                versions.append(kind.version)
        return groups


_STATUS = ("status",)
_CREATE_ONLY = ("create",)
_AUTHZ = "authorization.k8s.io"
_AUTHN = "authentication.k8s.io"
_SCALED = ("status", "scale")
_RBAC = "rbac.authorization.k8s.io"

PODS: ResourceKind[Pod] = ResourceKind(
    Pod,
    "Pod",
    "pods",
    True,
    b"/registry/pods/",
    short_names=("po",),
    categories=("all",),
    subresources=("status", "binding", "eviction"),
)
NODES: ResourceKind[Node] = ResourceKind(
    Node, "Node", "nodes", False, b"/registry/minions/", short_names=("no",), subresources=_STATUS
)

KINDS = KindRegistry(
    [
        PODS,
        NODES,
        ResourceKind(
            Namespace,
            "Namespace",
            "namespaces",
            False,
            b"/registry/namespaces/",
            short_names=("ns",),
            subresources=_STATUS,
        ),
        ResourceKind(
            Service,
            "Service",
            "services",
            True,
            b"/registry/services/specs/",
            short_names=("svc",),
            categories=("all",),
            subresources=_STATUS,
        ),
        ResourceKind(
            Endpoints,
            "Endpoints",
            "endpoints",
            True,
            b"/registry/services/endpoints/",
            singular="endpoints",
            short_names=("ep",),
        ),
        ResourceKind(Event, "Event", "events", True, b"/registry/events/", short_names=("ev",)),
        ResourceKind(
            ReplicationController,
            "ReplicationController",
            "replicationcontrollers",
            True,
            b"/registry/controllers/",
            short_names=("rc",),
            categories=("all",),
            subresources=_SCALED,
        ),
        ResourceKind(
            ConfigMap,
            "ConfigMap",
            "configmaps",
            True,
            b"/registry/configmaps/",
            short_names=("cm",),
        ),
        ResourceKind(Secret, "Secret", "secrets", True, b"/registry/secrets/"),
        ResourceKind(
            ServiceAccount,
            "ServiceAccount",
            "serviceaccounts",
            True,
            b"/registry/serviceaccounts/",
            short_names=("sa",),
        ),
        ResourceKind(
            ResourceQuota,
            "ResourceQuota",
            "resourcequotas",
            True,
            b"/registry/resourcequotas/",
            short_names=("quota",),
            subresources=_STATUS,
        ),
        ResourceKind(
            LimitRange,
            "LimitRange",
            "limitranges",
            True,
            b"/registry/limitranges/",
            short_names=("limits",),
        ),
        ResourceKind(
            ReplicaSet,
            "ReplicaSet",
            "replicasets",
            True,
            b"/registry/replicasets/",
            group="apps",
            short_names=("rs",),
            categories=("all",),
            subresources=_SCALED,
        ),
        ResourceKind(
            Deployment,
            "Deployment",
            "deployments",
            True,
            b"/registry/deployments/",
            group="apps",
            short_names=("deploy",),
            categories=("all",),
            subresources=_SCALED,
        ),
        ResourceKind(
            Job,
            "Job",
            "jobs",
            True,
            b"/registry/jobs/",
            group="batch",
            categories=("all",),
            subresources=_STATUS,
        ),
        ResourceKind(
            Lease, "Lease", "leases", True, b"/registry/leases/", group="coordination.k8s.io"
        ),
        ResourceKind(
            PriorityClass,
            "PriorityClass",
            "priorityclasses",
            False,
            b"/registry/priorityclasses/",
            group="scheduling.k8s.io",
            short_names=("pc",),
        ),
        ResourceKind(
            PodDisruptionBudget,
            "PodDisruptionBudget",
            "poddisruptionbudgets",
            True,
            b"/registry/poddisruptionbudgets/",
            group="policy",
            short_names=("pdb",),
            subresources=_STATUS,
        ),
        ResourceKind(Role, "Role", "roles", True, b"/registry/roles/", group=_RBAC),
        ResourceKind(
            ClusterRole,
            "ClusterRole",
            "clusterroles",
            False,
            b"/registry/clusterroles/",
            group=_RBAC,
        ),
        ResourceKind(
            RoleBinding,
            "RoleBinding",
            "rolebindings",
            True,
            b"/registry/rolebindings/",
            group=_RBAC,
        ),
        ResourceKind(
            ClusterRoleBinding,
            "ClusterRoleBinding",
            "clusterrolebindings",
            False,
            b"/registry/clusterrolebindings/",
            group=_RBAC,
        ),
        ResourceKind(
            EndpointSlice,
            "EndpointSlice",
            "endpointslices",
            True,
            b"/registry/endpointslices/",
            group="discovery.k8s.io",
        ),
        ResourceKind(
            CustomResourceDefinition,
            "CustomResourceDefinition",
            "customresourcedefinitions",
            False,
            b"/registry/apiextensions.k8s.io/customresourcedefinitions/",
            group=CRD_GROUP,
            short_names=("crd", "crds"),
            categories=("api-extensions",),
            subresources=_STATUS,
        ),
        # The reviews are answered, never stored: their registry prefix is never used.
        ResourceKind(
            SelfSubjectAccessReview,
            "SelfSubjectAccessReview",
            "selfsubjectaccessreviews",
            False,
            b"/registry/-/selfsubjectaccessreviews/",
            group=_AUTHZ,
            verbs=_CREATE_ONLY,
        ),
        ResourceKind(
            SelfSubjectRulesReview,
            "SelfSubjectRulesReview",
            "selfsubjectrulesreviews",
            False,
            b"/registry/-/selfsubjectrulesreviews/",
            group=_AUTHZ,
            verbs=_CREATE_ONLY,
        ),
        ResourceKind(
            SubjectAccessReview,
            "SubjectAccessReview",
            "subjectaccessreviews",
            False,
            b"/registry/-/subjectaccessreviews/",
            group=_AUTHZ,
            verbs=_CREATE_ONLY,
        ),
        ResourceKind(
            LocalSubjectAccessReview,
            "LocalSubjectAccessReview",
            "localsubjectaccessreviews",
            True,
            b"/registry/-/localsubjectaccessreviews/",
            group=_AUTHZ,
            verbs=_CREATE_ONLY,
        ),
        ResourceKind(
            SelfSubjectReview,
            "SelfSubjectReview",
            "selfsubjectreviews",
            False,
            b"/registry/-/selfsubjectreviews/",
            group=_AUTHN,
            verbs=_CREATE_ONLY,
        ),
        ResourceKind(
            TokenReview,
            "TokenReview",
            "tokenreviews",
            False,
            b"/registry/-/tokenreviews/",
            group=_AUTHN,
            verbs=_CREATE_ONLY,
        ),
    ]
)


def kind_of(resource_type: type[R]) -> ResourceKind[R]:
    """The `ResourceKind` of a resource type; `UnknownKindError` for any other type."""
    return KINDS.of_type(resource_type)


def object_key(obj: ApiObject) -> str:
    """The cache key of an object, as client-go's: "namespace/name", or "name"."""
    meta = obj.metadata
    return f"{meta.namespace}/{meta.name}" if meta.namespace else meta.name
