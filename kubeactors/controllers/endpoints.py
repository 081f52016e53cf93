"""The Endpoints and EndpointSlice controllers: each Service's pods, as addresses.

For every Service with a selector, the pods it selects in its namespace that have an
IP: ready ones as addresses, the others as not-ready addresses (all as ready when the
Service publishes not-ready addresses), each with the Service's ports resolved
against the pod's named container ports. One Endpoints object per Service (same
name), and one EndpointSlice (`<service>-<hash>`, labelled
`kubernetes.io/service-name`). Both are owned by their Service.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from ..api import (
    ApiError,
    Endpoint,
    EndpointAddress,
    EndpointConditions,
    EndpointPort,
    Endpoints,
    EndpointSlice,
    EndpointSlicePort,
    EndpointSubset,
    ObjectMeta,
    ObjectReference,
    OwnerReference,
    Pod,
    Service,
    ServicePort,
)
from ..client import Informer
from ._base import Controller
from ._pods import is_ready

__all__ = ["SERVICE_NAME_LABEL", "EndpointSliceController", "EndpointsController"]

logger = logging.getLogger(__name__)

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
MANAGED_BY = "endpointslice-controller.k8s.io"


def _key(obj: Any) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


def _target_port(port: ServicePort, pod: Pod) -> int | None:
    target = port.target_port if port.target_port is not None else port.port
    if isinstance(target, int):
        return target
    if target.isdigit():
        return int(target)
    for container in pod.spec.containers:
        for container_port in container.ports:
            if container_port.name == target and container_port.protocol == port.protocol:
                return container_port.container_port
    return None


def _owner(service: Service) -> OwnerReference:
    return OwnerReference(
        api_version="v1",
        kind="Service",
        name=service.metadata.name,
        uid=service.metadata.uid,
        controller=True,
        block_owner_deletion=True,
    )


class _ServiceController(Controller):
    """Shared wiring: which Services a pod change concerns."""

    workers = 4

    def setup(self) -> None:
        self.services: Informer[Service] = self.informer(Service)
        self.services.add_index("namespace", lambda s: [s.metadata.namespace])
        self.services.add_handler(
            on_add=lambda s: self.enqueue(_key(s)),
            on_update=lambda old, new: self.enqueue(_key(new)),
            on_delete=lambda s: self.enqueue(_key(s)),
        )
        self.pods: Informer[Pod] = self.informer(Pod)
        self.pods.add_index("namespace", lambda p: [p.metadata.namespace])
        self.pods.add_handler(
            on_add=self._pod_changed,
            on_update=lambda old, new: self._pod_changed(new, old),
            on_delete=self._pod_changed,
        )

    def all_keys(self) -> list[str]:
        return [_key(s) for s in self.services.items()]

    def _pod_changed(self, pod: Pod, old: Pod | None = None) -> None:
        for service in self.services.by_index("namespace", pod.metadata.namespace):
            selector = service.spec.selector
            if not selector:
                continue
            if _selects(selector, pod) or (old is not None and _selects(selector, old)):
                self.enqueue(_key(service))

    def selected(self, service: Service) -> list[Pod]:
        """The Service's pods that have an address and are not going away."""
        selector = service.spec.selector
        pods = [
            pod
            for pod in self.pods.by_index("namespace", service.metadata.namespace)
            if _selects(selector, pod)
            and pod.status.pod_ip
            and pod.metadata.deletion_timestamp is None
            and pod.status.phase not in ("Succeeded", "Failed")
        ]
        return sorted(pods, key=lambda pod: pod.metadata.name)

    async def put(self, obj: Any, current: Any | None) -> None:
        """Create `obj`, or update `current` to it if it differs."""
        if current is None:
            await self.client.create(obj)  # AlreadyExists: retried once the cache has it
            return
        meta = msgspec.structs.replace(
            obj.metadata,
            resource_version=current.metadata.resource_version,
            uid=current.metadata.uid,
        )
        wanted = msgspec.structs.replace(obj, metadata=meta)
        comparable = msgspec.structs.replace(
            current,
            metadata=msgspec.structs.replace(
                current.metadata,
                labels=wanted.metadata.labels,
                owner_references=wanted.metadata.owner_references,
            ),
        )
        if _content(comparable) == _content(wanted) and (
            current.metadata.labels == wanted.metadata.labels
        ):
            return
        await self.client.update(wanted)


def _content(obj: Any) -> Any:
    if isinstance(obj, Endpoints):
        return obj.subsets
    return (obj.endpoints, obj.ports)


def _selects(selector: dict[str, str], pod: Pod) -> bool:
    labels = pod.metadata.labels
    return all(labels.get(k) == v for k, v in selector.items())


def _reference(pod: Pod) -> ObjectReference:
    return ObjectReference(
        kind="Pod",
        namespace=pod.metadata.namespace,
        name=pod.metadata.name,
        uid=pod.metadata.uid,
    )


class EndpointsController(_ServiceController):
    name = "endpoints"

    def setup(self) -> None:
        super().setup()
        self.endpoints: Informer[Endpoints] = self.informer(Endpoints)

    async def sync(self, key: str) -> None:
        service = self.services.get(key)
        current = self.endpoints.get(key)
        if service is None or not service.spec.selector:
            if service is None and current is not None and _owned(current):
                await _delete(self, Endpoints, current)
            return
        subsets: list[EndpointSubset] = []
        by_ports: dict[tuple[tuple[str, int, str], ...], EndpointSubset] = {}
        for pod in self.selected(service):
            ports = tuple(
                (port.name, target, port.protocol)
                for port in service.spec.ports
                if (target := _target_port(port, pod)) is not None
            )
            address = EndpointAddress(
                ip=pod.status.pod_ip,
                node_name=pod.spec.node_name or None,
                target_ref=_reference(pod),
            )
            subset = by_ports.get(ports)
            if subset is None:
                subset = EndpointSubset(
                    ports=[EndpointPort(port=p, name=n, protocol=pr) for n, p, pr in ports]
                )
                by_ports[ports] = subset
                subsets.append(subset)
            if is_ready(pod) or service.spec.publish_not_ready_addresses:
                subset.addresses.append(address)
            else:
                subset.not_ready_addresses.append(address)
        endpoints = Endpoints(
            metadata=ObjectMeta(
                name=service.metadata.name,
                namespace=service.metadata.namespace,
                labels=dict(service.metadata.labels),
                owner_references=[_owner(service)],
            ),
            subsets=subsets,
        )
        await self.put(endpoints, current)


class EndpointSliceController(_ServiceController):
    name = "endpointslice"

    def setup(self) -> None:
        super().setup()
        self.slices: Informer[EndpointSlice] = self.informer(EndpointSlice)
        self.slices.add_index(
            "service",
            lambda s: [f"{s.metadata.namespace}/{s.metadata.labels.get(SERVICE_NAME_LABEL, '')}"],
        )

    async def sync(self, key: str) -> None:
        service = self.services.get(key)
        existing = self.slices.by_index("service", key)
        ours = [s for s in existing if s.metadata.labels.get(MANAGED_BY_LABEL) == MANAGED_BY]
        if service is None or not service.spec.selector:
            for stale in ours:
                await _delete(self, EndpointSlice, stale)
            return
        endpoints: list[Endpoint] = []
        ports: list[EndpointSlicePort] = []
        for pod in self.selected(service):
            ready = is_ready(pod)
            endpoints.append(
                Endpoint(
                    addresses=[pod.status.pod_ip],
                    conditions=EndpointConditions(
                        ready=ready or service.spec.publish_not_ready_addresses,
                        serving=ready,
                        terminating=False,
                    ),
                    target_ref=_reference(pod),
                    node_name=pod.spec.node_name or None,
                )
            )
            if not ports:
                ports = [
                    EndpointSlicePort(name=port.name, protocol=port.protocol, port=target)
                    for port in service.spec.ports
                    if (target := _target_port(port, pod)) is not None
                ]
        name = f"{service.metadata.name}-{service.metadata.uid[:5] or 'slice'}"
        slice_ = EndpointSlice(
            metadata=ObjectMeta(
                name=name,
                namespace=service.metadata.namespace,
                labels={SERVICE_NAME_LABEL: service.metadata.name, MANAGED_BY_LABEL: MANAGED_BY},
                owner_references=[_owner(service)],
            ),
            endpoints=endpoints,
            ports=ports,
        )
        current = next((s for s in ours if s.metadata.name == name), None)
        for stale in ours:
            if stale.metadata.name != name:
                await _delete(self, EndpointSlice, stale)
        await self.put(slice_, current)


def _owned(obj: Any) -> bool:
    return any(ref.kind == "Service" for ref in obj.metadata.owner_references)


async def _delete(controller: Controller, kind: type[Any], obj: Any) -> None:
    try:
        await controller.client.delete(kind, obj.metadata.name, obj.metadata.namespace)
    except ApiError as error:
        if error.code != 404:
            raise
