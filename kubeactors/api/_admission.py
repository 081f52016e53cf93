"""The admission chain: plugins that may change or refuse a write after it is
authorised and before it is stored. Each plugin is a small class; the order is
configurable, as kube-apiserver's `--enable-admission-plugins`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NamedTuple, Protocol

import msgspec

from ._auth import UserInfo
from ._cluster_kinds import PriorityClass
from ._core import LimitRange, Namespace
from ._kinds import ResourceKind
from ._memo import RecentResults
from ._meta import ApiObject
from ._pod import Container, Pod, PodSpec, ResourceRequirements, Toleration
from ._quantity import QuantityError, parse_quantity
from ._state import ClusterState
from ._status import ApiError, StatusCause

__all__ = [
    "DEFAULT_PLUGINS",
    "AdmissionChain",
    "AdmissionPlugin",
    "AdmissionRequest",
    "DefaultTolerationSeconds",
    "LimitRanger",
    "NamespaceLifecycle",
    "NodeRestriction",
    "Operation",
    "Priority",
    "ResourceQuotaAdmission",
    "admission_plugin",
]

Operation = Literal["CREATE", "UPDATE", "DELETE"]


@dataclass(slots=True)
class AdmissionRequest:
    """One write as admission sees it: the object to store (as the plugins so far
    have left it) and, for updates and deletes, the one stored now.
    `namespace_objects` are the namespace's objects of the kind, for quota checks."""

    operation: Operation
    kind: ResourceKind[Any]
    obj: ApiObject
    old: ApiObject | None
    user: UserInfo | None
    state: ClusterState
    subresource: str = ""
    namespace_objects: Sequence[ApiObject] = ()

    @property
    def namespace(self) -> str:
        return self.obj.metadata.namespace


class AdmissionPlugin(Protocol):
    """A plugin may also define `concerns(operation, kind) -> bool`: False promises
    that `admit` returns every such write's object unchanged and refuses none, in any
    state, so the chain may skip the call. A plugin without it is always called."""

    name: str

    def admit(self, request: AdmissionRequest) -> ApiObject:
        """The object to store (changed or not); raise an `ApiError` to refuse."""
        ...


def _creates_pods(operation: Operation, kind: ResourceKind[Any]) -> bool:
    return operation == "CREATE" and issubclass(kind.type, Pod)


class NamespaceLifecycle:
    """No creates in a namespace that does not exist or is terminating; the system
    namespaces cannot be deleted."""

    name: ClassVar[str] = "NamespaceLifecycle"
    protected: ClassVar[frozenset[str]] = frozenset({"default", "kube-system", "kube-public"})

    @staticmethod
    def concerns(operation: Operation, kind: ResourceKind[Any]) -> bool:
        if operation == "DELETE":
            return kind.type is Namespace
        return operation == "CREATE" and kind.namespaced

    def admit(self, request: AdmissionRequest) -> ApiObject:
        kind = request.kind
        if (
            request.operation == "DELETE"
            and kind.type is Namespace
            and request.obj.metadata.name in self.protected
        ):
            raise ApiError.forbidden(
                "namespaces",
                request.obj.metadata.name,
                f'this namespace may not be deleted: "{request.obj.metadata.name}"',
            )
        if request.operation != "CREATE" or not kind.namespaced:
            return request.obj
        namespace = request.state.namespace(request.namespace)
        if namespace is None:
            raise ApiError.not_found("namespaces", request.namespace)
        if namespace.status.phase == "Terminating" or namespace.metadata.deletion_timestamp:
            raise ApiError.forbidden(
                kind.plural,
                request.obj.metadata.name,
                f"unable to create new content in namespace {request.namespace} "
                "because it is being terminated",
            )
        return request.obj


_TOLERATED = ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable")


class DefaultTolerationSeconds:
    """Pods tolerate not-ready and unreachable nodes for 300 s before eviction."""

    name: ClassVar[str] = "DefaultTolerationSeconds"
    seconds = 300

    @staticmethod
    def concerns(operation: Operation, kind: ResourceKind[Any]) -> bool:
        return _creates_pods(operation, kind)

    def __init__(self) -> None:
        # Pods from one template share their defaulted spec: given the same spec,
        # this plugin makes the same one.
        self._specs: RecentResults[PodSpec, PodSpec] = RecentResults()

    def admit(self, request: AdmissionRequest) -> ApiObject:
        pod = request.obj
        if request.operation != "CREATE" or not isinstance(pod, Pod):
            return pod
        spec = self._specs.same(pod.spec)
        if spec is None:
            spec = self._tolerating(pod.spec)
            self._specs.put(pod.spec, spec)
        return pod if spec is pod.spec else msgspec.structs.replace(pod, spec=spec)

    def _tolerating(self, spec: PodSpec) -> PodSpec:
        if not spec.tolerations:
            # Most pods tolerate nothing: both defaults, frozen and shared.
            return msgspec.structs.replace(spec, tolerations=self._defaults())
        tolerations = list(spec.tolerations)
        for key in _TOLERATED:
            if not any(
                (t.key == key or (not t.key and t.operator == "Exists"))
                and t.effect in ("", "NoExecute")
                for t in tolerations
            ):
                tolerations.append(
                    Toleration(
                        key=key,
                        operator="Exists",
                        effect="NoExecute",
                        toleration_seconds=self.seconds,
                    )
                )
        if len(tolerations) == len(spec.tolerations):
            return spec
        return msgspec.structs.replace(spec, tolerations=tolerations)

    def _defaults(self) -> list[Toleration]:
        made = _DEFAULT_TOLERATIONS.get(self.seconds)
        if made is None:
            made = _DEFAULT_TOLERATIONS[self.seconds] = tuple(
                Toleration(
                    key=key, operator="Exists", effect="NoExecute", toleration_seconds=self.seconds
                )
                for key in _TOLERATED
            )
        return list(made)


_DEFAULT_TOLERATIONS: dict[int, tuple[Toleration, ...]] = {}


class Priority:
    """Resolves `priorityClassName` to `priority` (or the global default class)."""

    name: ClassVar[str] = "Priority"

    @staticmethod
    def concerns(operation: Operation, kind: ResourceKind[Any]) -> bool:
        return _creates_pods(operation, kind)

    def __init__(self) -> None:
        # A spec as resolved against the class it was resolved with: pods from one
        # template share their spec, and the class stays the same object until it
        # changes.
        self._specs: RecentResults[PodSpec, tuple[PriorityClass | None, PodSpec]] = RecentResults()

    def admit(self, request: AdmissionRequest) -> ApiObject:
        pod = request.obj
        if request.operation != "CREATE" or not isinstance(pod, Pod):
            return pod
        spec = pod.spec
        state = request.state
        if spec.priority_class_name:
            found = state.priority_class(spec.priority_class_name)
            if found is None:
                raise ApiError.forbidden(
                    "pods",
                    pod.metadata.name,
                    f"no PriorityClass with name {spec.priority_class_name} was found",
                )
        else:
            found = state.default_priority_class()
        known = self._specs.same(spec)
        if known is not None and known[0] is found:
            resolved = known[1]
        else:
            resolved = self._resolved(pod, found)
            self._specs.put(spec, (found, resolved))
        return msgspec.structs.replace(pod, spec=resolved)

    @staticmethod
    def _resolved(pod: Pod, found: PriorityClass | None) -> PodSpec:
        """The spec with the priority of `found` (the pod's class, or the default one)."""
        spec = pod.spec
        value = found.value if found is not None else 0
        policy = found.preemption_policy if found is not None else ""
        name = found.metadata.name if found is not None else ""
        if spec.priority is not None and spec.priority != value:
            raise ApiError.forbidden(
                "pods",
                pod.metadata.name,
                "the integer value of priority "
                f"({spec.priority}) must not be provided in pod spec; the priority "
                "admission controller computed "
                f"{value} from the given PriorityClass name",
            )
        return msgspec.structs.replace(
            spec,
            priority=value,
            priority_class_name=name,
            preemption_policy=spec.preemption_policy or policy or "PreemptLowerPriority",
        )


class LimitRanger:
    """Fills container requests and limits from the namespace's LimitRange defaults,
    and refuses containers outside its min and max."""

    name: ClassVar[str] = "LimitRanger"

    @staticmethod
    def concerns(operation: Operation, kind: ResourceKind[Any]) -> bool:
        return _creates_pods(operation, kind)

    def admit(self, request: AdmissionRequest) -> ApiObject:
        pod = request.obj
        if request.operation != "CREATE" or not isinstance(pod, Pod):
            return pod
        state, namespace = request.state, pod.metadata.namespace
        if not state.has_limit_ranges(namespace):
            return pod
        ranges = state.limit_ranges(namespace)
        containers = [self._container(c, ranges) for c in pod.spec.containers]
        causes: list[StatusCause] = []
        for index, container in enumerate(containers):
            causes += self._check(f"spec.containers[{index}]", container, ranges)
        if causes:
            raise ApiError.forbidden(
                "pods", pod.metadata.name, "; ".join(c.message for c in causes)
            )
        return msgspec.structs.replace(
            pod, spec=msgspec.structs.replace(pod.spec, containers=containers)
        )

    @staticmethod
    def _container(container: Container, ranges: list[LimitRange]) -> Container:
        requests = dict(container.resources.requests)
        limits = dict(container.resources.limits)
        for limit_range in ranges:
            for item in limit_range.spec.limits:
                if item.type != "Container":
                    continue
                for resource, amount in item.default.items():
                    limits.setdefault(resource, amount)
                for resource, amount in item.default_request.items():
                    requests.setdefault(resource, amount)
        for resource, amount in limits.items():
            requests.setdefault(resource, amount)  # as upstream: request defaults to limit
        resources = ResourceRequirements(requests=requests, limits=limits)
        return msgspec.structs.replace(container, resources=resources)

    @staticmethod
    def _check(path: str, container: Container, ranges: list[LimitRange]) -> list[StatusCause]:
        causes: list[StatusCause] = []
        for limit_range in ranges:
            for item in limit_range.spec.limits:
                if item.type != "Container":
                    continue
                for resource, bound in item.max.items():
                    amount = container.resources.limits.get(resource)
                    if amount is not None and _amount(amount) > _amount(bound):
                        causes.append(
                            StatusCause(
                                field=f"{path}.resources.limits.{resource}",
                                message=f"maximum {resource} usage per Container is {bound}, "
                                f"but limit is {amount}",
                            )
                        )
                for resource, bound in item.min.items():
                    amount = container.resources.requests.get(resource)
                    if amount is None or _amount(amount) < _amount(bound):
                        causes.append(
                            StatusCause(
                                field=f"{path}.resources.requests.{resource}",
                                message=f"minimum {resource} usage per Container is {bound}, "
                                f"but request is {amount or 0}",
                            )
                        )
        return causes


def _amount(text: str) -> Any:
    try:
        return parse_quantity(text)
    except QuantityError:
        return 0


class NodeRestriction:
    """A kubelet may change only its own Node and the pods bound to it."""

    name: ClassVar[str] = "NodeRestriction"

    @staticmethod
    def concerns(operation: Operation, kind: ResourceKind[Any]) -> bool:
        return kind.type is Pod or kind.plural == "nodes"

    def admit(self, request: AdmissionRequest) -> ApiObject:
        user = request.user
        node = user.node_name if user is not None else None
        if node is None:
            return request.obj
        obj, kind = request.obj, request.kind
        if kind.type is Pod:
            target = request.old if request.old is not None else obj
            assert isinstance(target, Pod)
            if request.operation == "CREATE" or target.spec.node_name != node:
                raise ApiError.forbidden(
                    "pods",
                    obj.metadata.name,
                    f'node "{node}" can only {request.operation.lower()} pods bound to it '
                    f'(this pod is bound to "{target.spec.node_name}")',
                )
        if kind.plural == "nodes" and obj.metadata.name != node:
            raise ApiError.forbidden(
                "nodes", obj.metadata.name, f'node "{node}" can only modify its own Node'
            )
        return obj


_COUNTED = {
    "pods": "pods",
    "services": "services",
    "configmaps": "configmaps",
    "secrets": "secrets",
    "replicationcontrollers": "replicationcontrollers",
    "resourcequotas": "resourcequotas",
}


class ResourceQuotaAdmission:
    """Refuses a create that would take a namespace over a ResourceQuota: object
    counts (`pods`, `count/<resource>`) and the pods' `requests.cpu`/`requests.memory`
    (also written `cpu` and `memory`)."""

    name: ClassVar[str] = "ResourceQuota"

    @staticmethod
    def concerns(operation: Operation, kind: ResourceKind[Any]) -> bool:
        return operation == "CREATE" and kind.namespaced

    @staticmethod
    def needs_usage(request: AdmissionRequest) -> bool:
        return (
            request.operation == "CREATE"
            and request.kind.namespaced
            and request.state.has_quotas(request.obj.metadata.namespace)
        )

    def admit(self, request: AdmissionRequest) -> ApiObject:
        if not self.needs_usage(request):
            return request.obj
        kind = request.kind
        existing = [o for o in request.namespace_objects if o.metadata.deletion_timestamp is None]
        for quota in request.state.quotas(request.namespace):
            for resource, hard_text in quota.spec.hard.items():
                used, asked = self._usage(resource, kind, existing, request.obj)
                if asked == 0:
                    continue
                hard = _amount(hard_text)
                if used + asked > hard:
                    raise ApiError.forbidden(
                        kind.plural,
                        request.obj.metadata.name,
                        f"exceeded quota: {quota.metadata.name}, requested: "
                        f"{resource}={_show(asked)}, used: {resource}={_show(used)}, "
                        f"limited: {resource}={hard_text}",
                    )
        return request.obj

    @staticmethod
    def _usage(
        resource: str, kind: ResourceKind[Any], existing: Sequence[ApiObject], obj: ApiObject
    ) -> tuple[Any, Any]:
        counted = resource.removeprefix("count/").split(".")[0]
        if _COUNTED.get(counted) == kind.plural or counted == kind.plural:
            return len(existing), 1
        if kind.type is not Pod or not isinstance(obj, Pod):
            return 0, 0
        name = resource.removeprefix("requests.")
        if name not in ("cpu", "memory"):
            return 0, 0

        def requested(pod: Any) -> Any:
            total: Any = 0  # a Fraction once summed (Any: compiled code checks an int)
            for container in pod.spec.containers:
                total += _amount(container.resources.requests.get(name, "0"))
            return total

        pods = [p for p in existing if isinstance(p, Pod)]
        live = [p for p in pods if p.status.phase not in ("Succeeded", "Failed")]
        return sum((requested(p) for p in live), 0), requested(obj)


def _show(value: Any) -> str:
    return str(value) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


_PLUGINS: dict[str, type[Any]] = {
    plugin.name: plugin
    for plugin in (
        NamespaceLifecycle,
        LimitRanger,
        DefaultTolerationSeconds,
        Priority,
        NodeRestriction,
        ResourceQuotaAdmission,
    )
}

DEFAULT_PLUGINS = (
    "NamespaceLifecycle",
    "LimitRanger",
    "DefaultTolerationSeconds",
    "Priority",
    "NodeRestriction",
    "ResourceQuota",
)
"""The plugins on by default, in upstream's order (ResourceQuota last)."""


def admission_plugin(name: str) -> AdmissionPlugin:
    """The plugin called `name`; a `ValueError` names the known ones otherwise."""
    plugin = _PLUGINS.get(name)
    if plugin is None:
        raise ValueError(f"unknown admission plugin {name!r}; known: {sorted(_PLUGINS)}")
    made: AdmissionPlugin = plugin()
    return made


class AdmissionChain:
    """Runs each plugin in order; the first refusal ends the write.

    Plugins that say a write does not concern them (see `AdmissionPlugin`) are
    skipped: a Lease renewal, say, meets none of the default plugins.
    """

    def __init__(self, plugins: Sequence[AdmissionPlugin | str] = DEFAULT_PLUGINS) -> None:
        self.plugins: tuple[AdmissionPlugin, ...] = tuple(
            admission_plugin(p) if isinstance(p, str) else p for p in plugins
        )
        self._quota = any(isinstance(p, ResourceQuotaAdmission) for p in self.plugins)
        # The plugins each operation on each kind meets, by the kind's identity (a
        # custom kind's ResourceKind is replaced, not changed, when its CRD changes).
        self._concerned: dict[tuple[Operation, ResourceKind[Any]], tuple[AdmissionPlugin, ...]] = {}
        # Pods from one template share their defaulted spec: what the chain made of it,
        # by the policy, namespace and user it was admitted under. Only when every
        # plugin is built in: each decides a pod's create from its spec, namespace
        # and user and the policy alone, and changes nothing but its spec.
        self._pod_specs: RecentResults[PodSpec, _AdmittedSpec] | None = (
            RecentResults() if all(type(p) in _PURE_FOR_PODS for p in self.plugins) else None
        )

    def concerned(
        self, operation: Operation, kind: ResourceKind[Any]
    ) -> tuple[AdmissionPlugin, ...]:
        """The plugins, in order, that a write of `kind` by `operation` must go through."""
        key = (operation, kind)
        found = self._concerned.get(key)
        if found is None:
            if len(self._concerned) >= _CONCERNED_KINDS:
                self._concerned.clear()
            found = self._concerned[key] = tuple(
                plugin for plugin in self.plugins if _concerns(plugin, operation, kind)
            )
        return found

    def needs_usage(self, request: AdmissionRequest) -> bool:
        """Whether a plugin needs the namespace's objects (read from the store first)."""
        return self._quota and ResourceQuotaAdmission.needs_usage(request)

    def admit(
        self, request: AdmissionRequest, plugins: tuple[AdmissionPlugin, ...] | None = None
    ) -> ApiObject:
        """The request's object as the plugins concerned leave it (`plugins`: those,
        when the caller has them at hand)."""
        if plugins is None:
            plugins = self.concerned(request.operation, request.kind)
        for plugin in plugins:
            request.obj = plugin.admit(request)
        return request.obj

    def admit_create(
        self, kind: ResourceKind[Any], obj: ApiObject, user: UserInfo | None, state: ClusterState
    ) -> ApiObject | None:
        """`obj` admitted for its create; None when a plugin needs the namespace's
        objects first (`needs_usage`): the caller reads them and calls `admit`.

        A pod whose spec is the very one a pod was admitted with before, in the
        same namespace, by the same user, with no policy object changed since,
        takes that pod's admitted spec without running the plugins again (and
        needs no usage, as no quota has come since).
        """
        memo = self._pod_specs
        if memo is None or type(obj) is not Pod:
            request = AdmissionRequest("CREATE", kind, obj, None, user, state)
            return None if self.needs_usage(request) else self.admit(request)
        pod: Pod = obj
        spec, namespace = pod.spec, pod.metadata.namespace
        known = memo.same(spec)
        if (
            known is not None
            and known.generation == state.generation
            and known.namespace == namespace
            and (known.user is user or known.user == user)
        ):
            admitted = known.spec
            return pod if admitted is spec else msgspec.structs.replace(pod, spec=admitted)
        request = AdmissionRequest("CREATE", kind, obj, None, user, state)
        if self.needs_usage(request):
            return None
        generation = state.generation
        result = self.admit(request)
        if (
            type(result) is Pod
            and result.metadata is pod.metadata
            and result.status is pod.status
            and result.api_version is pod.api_version
            and result.kind is pod.kind
        ):
            memo.put(spec, _AdmittedSpec(generation, namespace, user, result.spec))
        return result


def _concerns(plugin: AdmissionPlugin, operation: Operation, kind: ResourceKind[Any]) -> bool:
    concerns: Callable[[Operation, ResourceKind[Any]], bool] | None = getattr(
        plugin, "concerns", None
    )
    return concerns is None or concerns(operation, kind)


_CONCERNED_KINDS = 1024
"""(operation, kind) pairs whose plugins a chain remembers (all forgotten past this)."""


class _AdmittedSpec(NamedTuple):
    """What the chain made of a pod's spec, and under which policy and identity."""

    generation: int
    namespace: str
    user: UserInfo | None
    spec: PodSpec


# The plugins whose decision on a pod's create depends on nothing but its spec,
# namespace and user and the policy (quotas: only whether there are any, since a
# create that needs usage never comes to `admit_create`).
_PURE_FOR_PODS = frozenset(_PLUGINS.values())
