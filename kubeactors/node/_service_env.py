"""The Service environment variables a pod's containers get, as upstream's kubelet sets them.

For each Service with a cluster IP, `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT` (its
first port), `<NAME>_SERVICE_PORT_<PORT NAME>` for each named port, and Docker's link
variables (`<NAME>_PORT`, `<NAME>_PORT_<port>_<PROTO>` with `_PROTO`, `_PORT`,
`_ADDR`). A pod gets those of the Services in its namespace when
`enableServiceLinks` is on (the default), and those of the `kubernetes` Service in
`default` always, as upstream's master services.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..api import Pod, Service
from ..client import Delta, Informer

__all__ = ["NAMESPACE_INDEX", "ServiceEnvironment", "service_variables"]

NAMESPACE_INDEX = "metadata.namespace"
_MASTER = ("default", "kubernetes")


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def _has_cluster_ip(service: Service) -> bool:
    return service.spec.cluster_ip not in ("", "None")


def service_variables(services: Iterable[Service]) -> dict[str, str]:
    """The variables for `services` (those without a cluster IP give none)."""
    env: dict[str, str] = {}
    for service in services:
        if not _has_cluster_ip(service) or not service.spec.ports:
            continue
        prefix = _env_name(service.metadata.name)
        ip = service.spec.cluster_ip
        ports = service.spec.ports
        host = f"[{ip}]" if ":" in ip else ip
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(ports[0].port)
        for port in ports:
            if port.name:
                env[f"{prefix}_SERVICE_PORT_{_env_name(port.name)}"] = str(port.port)
        for index, port in enumerate(ports):
            protocol = port.protocol.lower()
            url = f"{protocol}://{host}:{port.port}"
            if index == 0:
                env[f"{prefix}_PORT"] = url  # Docker special-cases the first port
            link = f"{prefix}_PORT_{port.port}_{protocol.upper()}"
            env[link] = url
            env[f"{link}_PROTO"] = protocol
            env[f"{link}_PORT"] = str(port.port)
            env[f"{link}_ADDR"] = ip
    return env


class ServiceEnvironment:
    """Service variables per namespace from one Service informer shared by every kubelet.

    The variables of a namespace are computed once and kept until one of its
    Services changes, so 100,000 pods in one namespace cost one computation.
    """

    def __init__(self, services: Informer[Service]) -> None:
        self._services = services
        services.add_index(NAMESPACE_INDEX, lambda service: [service.metadata.namespace])
        services.add_batch_handler(self._changed)
        self._cache: dict[str, dict[str, str]] = {}

    async def _changed(self, deltas: list[Delta[Service]]) -> None:
        for delta in deltas:
            namespace = delta.object.metadata.namespace
            if (namespace, delta.object.metadata.name) == _MASTER:
                self._cache.clear()
                return
            self._cache.pop(namespace, None)

    async def wait_synced(self) -> None:
        """Until the Services have been listed once (upstream waits too, before pods start)."""
        await self._services.wait_synced()

    def for_pod(self, pod: Pod) -> Mapping[str, str]:
        """The variables `pod`'s containers get from Services existing now."""
        namespace = pod.metadata.namespace
        links = pod.spec.enable_service_links is not False
        key = namespace if links else ""
        cached = self._cache.get(key)
        if cached is None:
            chosen: dict[str, Service] = {}
            master = self._services.get("/".join(_MASTER))
            if master is not None:
                chosen[master.metadata.name] = master
            if links:
                for service in self._services.by_index(NAMESPACE_INDEX, namespace):
                    chosen[service.metadata.name] = service
            cached = self._cache[key] = service_variables(chosen[name] for name in sorted(chosen))
        return cached
