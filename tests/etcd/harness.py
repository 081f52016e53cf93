"""Our etcd endpoint on a free loopback port, and the real `etcdctl` 3.4 run against it."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

from kubeactors.actors import ActorSystem
from kubeactors.etcd import EtcdServer
from kubeactors.store import Store

__all__ = ["Endpoint", "EtcdctlError", "WatchProcess", "environment", "serving"]

ETCDCTL = shutil.which("etcdctl") or "/usr/bin/etcdctl"


class EtcdctlError(Exception):
    """etcdctl exited with an error; `stderr` holds what it printed."""

    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        super().__init__(f"etcdctl {' '.join(args)} exited {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


@dataclass
class Endpoint:
    system: ActorSystem
    store: Store
    server: EtcdServer

    @property
    def address(self) -> str:
        return f"{self.server.host}:{self.server.port}"

    def command(self, *args: str) -> list[str]:
        """The etcdctl command line for `args` against this endpoint."""
        return [
            ETCDCTL,
            f"--endpoints={self.address}",
            "--dial-timeout=5s",
            "--command-timeout=20s",
            *args,
        ]

    async def etcdctl(self, *args: str, input: bytes | None = None) -> str:
        """Run `etcdctl args` and return its output; raise `EtcdctlError` if it fails."""
        result = await anyio.run_process(
            self.command(*args), input=input, check=False, env=environment()
        )
        if result.returncode != 0:
            raise EtcdctlError(list(args), result.returncode, result.stderr.decode())
        return str(result.stdout.decode())

    async def etcdctl_json(self, *args: str, input: bytes | None = None) -> Any:
        return json.loads(await self.etcdctl(*args, "-w", "json", input=input))

    async def etcdctl_fails(self, *args: str, input: bytes | None = None) -> str:
        """Run etcdctl expecting it to fail; return what it printed on stderr."""
        result = await anyio.run_process(
            self.command(*args), input=input, check=False, env=environment()
        )
        assert result.returncode != 0, f"etcdctl {args} succeeded: {result.stdout.decode()}"
        return str(result.stderr.decode())

    @asynccontextmanager
    async def watching(self, *args: str) -> AsyncIterator[WatchProcess]:
        """`etcdctl watch args -w json` as a running process, once its watch exists."""
        before = (await self.store.status()).watchers
        process = await anyio.open_process(
            self.command("watch", *args, "-w", "json"), env=environment()
        )
        try:
            assert process.stdout is not None
            watch = WatchProcess(process, BufferedByteReceiveStream(process.stdout))
            with anyio.fail_after(20):
                while (await self.store.status()).watchers <= before:
                    await self.system.clock.sleep(0.02)
            yield watch
        finally:
            process.kill()
            await process.aclose()


@dataclass
class WatchProcess:
    process: anyio.abc.Process
    stdout: BufferedByteReceiveStream

    async def response(self) -> Any:
        """The next watch response etcdctl printed (one JSON object per line)."""
        with anyio.fail_after(20):
            line = await self.stdout.receive_until(b"\n", 16 * 1024 * 1024)
        return json.loads(line)

    async def events(self, count: int) -> list[Any]:
        """The next `count` events, across as many responses as they come in."""
        events: list[Any] = []
        while len(events) < count:
            response = await self.response()
            assert not response.get("Canceled"), f"watch canceled: {response}"
            events.extend(response.get("Events") or [])
        return events


def environment() -> dict[str, str]:
    """The environment etcdctl runs in: this one, with the v3 API selected."""
    return {**os.environ, "ETCDCTL_API": "3"}


@asynccontextmanager
async def serving(path: Path) -> AsyncIterator[Endpoint]:
    """A store in `path` served on a free loopback port for the length of the block."""
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, path / "store.db", synchronous="OFF")
        async with EtcdServer(store, port=0, db_path=path / "store.db") as server:
            yield Endpoint(system, store, server)
