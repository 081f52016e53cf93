"""Liveness, readiness and startup probes: exec, HTTP GET and TCP against real processes.

Simulated containers have scripted outcomes instead (`SimulatedRuntime.probe`).
"""

from __future__ import annotations

import asyncio
import logging

from ..actors import Clock
from ..api import Container, Probe
from .runtime import ContainerRuntime, ProcessRuntime

__all__ = ["ProbeKind", "probe_period", "run_probe"]

logger = logging.getLogger(__name__)

ProbeKind = str
""""liveness", "readiness" or "startup"."""


def probe_period(probe: Probe) -> float:
    return float(probe.period_seconds or 10)


def _port(container: Container, port: int | str) -> int:
    if isinstance(port, int):
        return port
    if port.isdigit():
        return int(port)
    for declared in container.ports:
        if declared.name == port:
            return declared.container_port
    raise ValueError(f"container {container.name!r} has no port named {port!r}")


async def _with_timeout(clock: Clock, seconds: float, work: asyncio.Future[bool]) -> bool:
    timer = clock.call_later(seconds, work.cancel)
    try:
        return await work
    except (asyncio.CancelledError, OSError):
        if not work.cancelled():
            raise
        return False
    finally:
        timer.cancel()


async def _http_get(host: str, port: int, path: str, headers: dict[str, str]) -> bool:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        lines = [f"GET {path or '/'} HTTP/1.1", f"Host: {host}:{port}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await writer.drain()
        status_line = await reader.readline()
    finally:
        writer.close()
    parts = status_line.split()
    return len(parts) >= 2 and parts[1].isdigit() and 200 <= int(parts[1]) < 400


async def _tcp(host: str, port: int) -> bool:
    _, writer = await asyncio.open_connection(host, port)
    writer.close()
    return True


async def run_probe(
    probe: Probe,
    *,
    kind: ProbeKind,
    container: Container,
    container_id: str,
    pod_ip: str,
    runtime: ContainerRuntime,
    clock: Clock,
) -> bool:
    """One probe attempt: True on success. A probe with no handler succeeds."""
    scripted = runtime.probe(container_id, kind)
    if scripted is not None:
        return scripted
    timeout = float(probe.timeout_seconds or 1)
    try:
        if probe.exec is not None and isinstance(runtime, ProcessRuntime):
            code, _ = await runtime.exec_sync(container_id, probe.exec.command, timeout)
            return code == 0
        if probe.http_get is not None:
            action = probe.http_get
            headers = {header.name: header.value for header in action.http_headers}
            work = asyncio.ensure_future(
                _http_get(
                    action.host or pod_ip, _port(container, action.port), action.path, headers
                )
            )
            return await _with_timeout(clock, timeout, work)
        if probe.tcp_socket is not None:
            action_tcp = probe.tcp_socket
            work = asyncio.ensure_future(
                _tcp(action_tcp.host or pod_ip, _port(container, action_tcp.port))
            )
            return await _with_timeout(clock, timeout, work)
    except (OSError, ValueError) as error:
        logger.debug("%s probe of %s failed: %s", kind, container.name, error)
        return False
    return True
