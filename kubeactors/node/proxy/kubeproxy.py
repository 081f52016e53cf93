"""kube-proxy: watches Services and EndpointSlices and keeps the table (and the proxy) true."""

from __future__ import annotations

import logging

from ...actors import Actor
from ...api import EndpointSlice, Service
from ...client import ApiClient, Delta, Informer
from ._table import ServiceTable
from ._tcp import LoopbackProxy

__all__ = ["KubeProxy"]

logger = logging.getLogger(__name__)


class KubeProxy(Actor[None]):
    """Feeds a `ServiceTable` from two informers; with `listen`, runs the loopback proxy.

    The table is given from outside so callers can `resolve()` against it directly,
    as client-go code reads a lister. Simulated nodes all see the same Services,
    so one table (and one of these) serves every simulated node of a process;
    process nodes add the real TCP proxy.
    """

    mailbox_size = 16

    def __init__(self, client: ApiClient, table: ServiceTable, *, listen: bool = False) -> None:
        self._client = client
        self.table = table
        self._listen = listen
        self._proxy: LoopbackProxy | None = None

    async def on_start(self) -> None:
        if self._listen:
            self._proxy = LoopbackProxy(self.table)
            self.table.listeners.append(self._proxy.changed)
        services: Informer[Service] = Informer(self._client, Service)
        slices: Informer[EndpointSlice] = Informer(self._client, EndpointSlice)
        services.add_batch_handler(self._services_changed)
        slices.add_batch_handler(self._slices_changed)
        self.context.start_soon(services.run, name="kube-proxy-services")
        self.context.start_soon(slices.run, name="kube-proxy-endpointslices")

    async def _services_changed(self, deltas: list[Delta[Service]]) -> None:
        for delta in deltas:
            if delta.type == "DELETED":
                self.table.remove_service(delta.object)
            else:
                self.table.set_service(delta.object)

    async def _slices_changed(self, deltas: list[Delta[EndpointSlice]]) -> None:
        for delta in deltas:
            if delta.type == "DELETED":
                self.table.remove_slice(delta.object)
            else:
                self.table.set_slice(delta.object)

    async def receive(self, message: None) -> None:
        return None

    async def on_stop(self) -> None:
        proxy, self._proxy = self._proxy, None
        if proxy is not None:
            if proxy.changed in self.table.listeners:
                self.table.listeners.remove(proxy.changed)
            await proxy.close()
