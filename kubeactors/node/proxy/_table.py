"""The kube-proxy table: each Service port to its ready endpoints, with the same balancing
for simulated traffic (`resolve`) and the real loopback proxy."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import msgspec

from ...api import EndpointSlice, Service, object_key

__all__ = ["SERVICE_NAME_LABEL", "Backend", "NoEndpointsError", "ServicePortEntry", "ServiceTable"]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
_DEFAULT_AFFINITY_SECONDS = 10800  # upstream's default ClientIP timeout: three hours


class Backend(msgspec.Struct, frozen=True):
    """One ready endpoint of a service port."""

    ip: str
    port: int


class NoEndpointsError(LookupError):
    """The service has no ready endpoint for that port (or no such service or port)."""


class ServicePortEntry:
    """One port of one Service: its addresses and its ready backends, balanced in turn."""

    __slots__ = (
        "_next",
        "affinity",
        "backends",
        "cluster_ip",
        "name",
        "node_port",
        "port",
        "service",
    )

    def __init__(
        self,
        service: str,
        name: str,
        port: int,
        cluster_ip: str,
        node_port: int,
        affinity: float,
    ) -> None:
        self.service = service
        self.name = name
        self.port = port
        self.cluster_ip = cluster_ip
        self.node_port = node_port
        self.affinity = affinity
        """ClientIP affinity timeout in seconds; 0 for none."""
        self.backends: list[Backend] = []
        self._next = 0

    def pick(self) -> Backend:
        if not self.backends:
            raise NoEndpointsError(
                f"service {self.service} port {self.name or self.port}: no ready endpoints"
            )
        backend = self.backends[self._next % len(self.backends)]
        self._next += 1
        return backend


class ServiceTable:
    """Services and EndpointSlices in, `(service, port) -> ready backends` out.

    Balancing is round robin over the ready endpoints; a Service with
    `sessionAffinity: ClientIP` sends a client to the backend it had last, while
    that backend stays ready and the affinity has not timed out.
    """

    def __init__(self, now: Callable[[], float]) -> None:
        self._now = now
        self._services: dict[str, Service] = {}
        self._slices: dict[str, dict[str, EndpointSlice]] = {}
        self._entries: dict[tuple[str, str], ServicePortEntry] = {}
        self._by_number: dict[tuple[str, int], ServicePortEntry] = {}
        self._by_address: dict[tuple[str, int], ServicePortEntry] = {}
        self._by_node_port: dict[int, ServicePortEntry] = {}
        self._sticky: dict[tuple[str, str, str], tuple[Backend, float]] = {}
        self.listeners: list[Callable[[], None]] = []
        """Called after every change (the TCP proxy follows its listeners from here)."""

    # -- input ---------------------------------------------------------------------------

    def set_service(self, service: Service) -> None:
        self._services[object_key(service)] = service
        self._rebuild(object_key(service))

    def remove_service(self, service: Service) -> None:
        self._services.pop(object_key(service), None)
        self._rebuild(object_key(service))

    def set_slice(self, endpoint_slice: EndpointSlice) -> None:
        owner = self._owner(endpoint_slice)
        if owner is None:
            return
        self._slices.setdefault(owner, {})[endpoint_slice.metadata.name] = endpoint_slice
        self._rebuild(owner)

    def remove_slice(self, endpoint_slice: EndpointSlice) -> None:
        owner = self._owner(endpoint_slice)
        if owner is None:
            return
        self._slices.get(owner, {}).pop(endpoint_slice.metadata.name, None)
        self._rebuild(owner)

    @staticmethod
    def _owner(endpoint_slice: EndpointSlice) -> str | None:
        name = endpoint_slice.metadata.labels.get(SERVICE_NAME_LABEL)
        if not name:
            return None
        return f"{endpoint_slice.metadata.namespace}/{name}"

    def _rebuild(self, key: str) -> None:
        for (service, _), entry in list(self._entries.items()):
            if service == key:
                del self._entries[(service, entry.name)]
                self._by_number.pop((service, entry.port), None)
                self._by_address.pop((entry.cluster_ip, entry.port), None)
                self._by_node_port.pop(entry.node_port, None)
        current = self._services.get(key)
        if current is not None:
            self._add(key, current)
        for listener in self.listeners:
            listener()

    def _add(self, key: str, service: Service) -> None:
        spec = service.spec
        affinity = 0.0
        if spec.session_affinity == "ClientIP":
            config = spec.session_affinity_config
            timeout = config.client_ip.timeout_seconds if config and config.client_ip else None
            affinity = float(timeout or _DEFAULT_AFFINITY_SECONDS)
        slices = self._slices.get(key, {}).values()
        for port in spec.ports:
            entry = ServicePortEntry(
                key, port.name, port.port, spec.cluster_ip, port.node_port, affinity
            )
            entry.backends = _ready_backends(slices, port.name, port.target_port, port.port)
            self._entries[(key, port.name)] = entry
            self._by_number[(key, port.port)] = entry
            if spec.cluster_ip and spec.cluster_ip != "None":
                self._by_address[(spec.cluster_ip, port.port)] = entry
            if port.node_port:
                self._by_node_port[port.node_port] = entry

    # -- output --------------------------------------------------------------------------

    def entries(self) -> list[ServicePortEntry]:
        return list(self._entries.values())

    def entry(self, service: str, port: int | str) -> ServicePortEntry:
        """The entry of "namespace/name" (or "name" in default) and a port name or number."""
        key = service if "/" in service else f"default/{service}"
        found = (
            self._by_number.get((key, port))
            if isinstance(port, int)
            else self._entries.get((key, port))
        )
        if found is None:
            raise NoEndpointsError(f"no service {key} with port {port!r}")
        return found

    def by_address(self, ip: str, port: int) -> ServicePortEntry:
        found = self._by_address.get((ip, port))
        if found is None:
            raise NoEndpointsError(f"no service at {ip}:{port}")
        return found

    def by_node_port(self, node_port: int) -> ServicePortEntry:
        found = self._by_node_port.get(node_port)
        if found is None:
            raise NoEndpointsError(f"no service on node port {node_port}")
        return found

    def resolve(self, service: str, port: int | str, client_ip: str = "") -> Backend:
        """The backend a connection from `client_ip` to `service`:`port` goes to now."""
        return self.choose(self.entry(service, port), client_ip)

    def choose(self, entry: ServicePortEntry, client_ip: str = "") -> Backend:
        if not entry.affinity or not client_ip:
            return entry.pick()
        sticky_key = (entry.service, entry.name, client_ip)
        now = self._now()
        held = self._sticky.get(sticky_key)
        if held is not None and now < held[1] and held[0] in entry.backends:
            backend = held[0]
        else:
            backend = entry.pick()
        self._sticky[sticky_key] = (backend, now + entry.affinity)
        return backend


def _ready_backends(
    slices: Iterable[EndpointSlice], name: str, target: int | str | None, port: int
) -> list[Backend]:
    backends: list[Backend] = []
    for endpoint_slice in slices:
        number = _slice_port(endpoint_slice, name, target, port)
        if number is None:
            continue
        for endpoint in endpoint_slice.endpoints:
            if endpoint.conditions.ready is False:
                continue  # unset means ready, as upstream reads it
            backends.extend(Backend(address, number) for address in endpoint.addresses)
    return sorted(set(backends), key=lambda b: (b.ip, b.port))


def _slice_port(
    endpoint_slice: EndpointSlice, name: str, target: int | str | None, port: int
) -> int | None:
    for slice_port in endpoint_slice.ports:
        if (slice_port.name or "") == name and slice_port.port is not None:
            return slice_port.port
    if not endpoint_slice.ports:
        return target if isinstance(target, int) else port
    return None
