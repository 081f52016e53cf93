"""A real TCP proxy on loopback: a Service's address forwards to its ready endpoints."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from ._table import NoEndpointsError, ServicePortEntry, ServiceTable

__all__ = ["LoopbackProxy", "loopback_address"]

logger = logging.getLogger(__name__)

_CHUNK = 65536


def loopback_address(cluster_ip: str) -> str:
    """Where a ClusterIP answers on this machine: 10.b.c.d -> 127.b.c.d.

    The service range 10.96.0.0/12 maps into 127.96.0.0/12, apart from the pod
    addresses of process nodes (127.0.n.0/24), and every 127/8 address is loopback.
    """
    octets = cluster_ip.split(".")
    if len(octets) != 4:
        raise ValueError(f"not an IPv4 cluster IP: {cluster_ip!r}")
    return "127." + ".".join(octets[1:])


class LoopbackProxy:
    """Listens for every Service port of the table and splices connections to a backend.

    Listeners follow the table: a new Service port gets one, a removed one loses
    it. A backend leaving the table takes no new connections but keeps those it
    has until they end; nothing mid-flight is closed.
    """

    def __init__(self, table: ServiceTable, *, node_ports: bool = True) -> None:
        self._table = table
        self._node_ports = node_ports
        self._servers: dict[tuple[str, int], asyncio.Server] = {}
        self._connections: set[asyncio.Task[None]] = set()
        self._pending: asyncio.Task[None] | None = None
        self._closed = False

    def addresses(self) -> list[tuple[str, int]]:
        return sorted(self._servers)

    def changed(self) -> None:
        """The table changed: reconcile the listeners soon (from a plain callback)."""
        if self._closed or (self._pending is not None and not self._pending.done()):
            return
        self._pending = asyncio.get_running_loop().create_task(self.reconcile())

    async def reconcile(self) -> None:
        wanted: dict[tuple[str, int], tuple[str, int | str]] = {}
        for entry in self._table.entries():
            if entry.cluster_ip and entry.cluster_ip != "None":
                wanted[(loopback_address(entry.cluster_ip), entry.port)] = (
                    entry.service,
                    entry.name or entry.port,
                )
            if entry.node_port and self._node_ports:
                wanted[("127.0.0.1", entry.node_port)] = (entry.service, entry.name or entry.port)
        for address in [a for a in self._servers if a not in wanted]:
            self._servers.pop(address).close()  # listening stops; open connections go on
        for address, (service, port) in wanted.items():
            if address in self._servers or self._closed:
                continue
            try:
                self._servers[address] = await asyncio.start_server(
                    self._acceptor(service, port), *address
                )
            except OSError as error:
                logger.warning("kube-proxy cannot listen on %s:%s: %s", *address, error)

    def _acceptor(
        self, service: str, port: int | str
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._accept(reader, writer, service, port)

        return accept

    async def _accept(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        service: str,
        port: int | str,
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._splice(reader, writer, service, port)
        finally:
            self._connections.discard(task)
            writer.close()

    async def _splice(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        service: str,
        port: int | str,
    ) -> None:
        peer = writer.get_extra_info("peername")
        client_ip = peer[0] if peer else ""
        try:
            entry: ServicePortEntry = self._table.entry(service, port)
            backend = self._table.choose(entry, client_ip)
        except NoEndpointsError as error:
            logger.info("kube-proxy refuses a connection: %s", error)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                backend.ip, backend.port
            )
        except OSError as error:
            logger.info("kube-proxy cannot reach %s:%s: %s", backend.ip, backend.port, error)
            return
        try:
            await asyncio.gather(_pump(reader, upstream_writer), _pump(upstream_reader, writer))
        finally:
            upstream_writer.close()

    async def close(self) -> None:
        self._closed = True
        if self._pending is not None:
            self._pending.cancel()
        for server in self._servers.values():
            server.close()
        self._servers.clear()
        for task in list(self._connections):
            task.cancel()
        for task in list(self._connections):
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(_CHUNK):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            if sink.can_write_eof():
                sink.write_eof()
