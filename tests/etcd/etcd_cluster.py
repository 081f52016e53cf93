"""A real three-member etcd cluster on loopback ports, with temporary data dirs."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

__all__ = ["EtcdCluster", "etcd_available"]


def etcd_available() -> bool:
    return shutil.which("etcd") is not None


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class EtcdCluster:
    """`with EtcdCluster(3) as cluster:` members `m0`..; `cluster.url` for `Store.connect`.

    Short heartbeat and election timeouts make a new leader take well under a
    second after a member is killed.
    """

    def __init__(self, members: int = 3) -> None:
        ports = _free_ports(2 * members)
        self.names = [f"m{i}" for i in range(members)]
        self.client_ports = ports[:members]
        self.peer_ports = ports[members:]
        self._dir = Path(tempfile.mkdtemp(prefix="etcd-cluster-"))
        self._processes: dict[str, subprocess.Popen[bytes]] = {}

    def address(self, member: int) -> str:
        return f"127.0.0.1:{self.client_ports[member]}"

    def url(self, order: list[int] | None = None) -> str:
        """The store URL naming every member, in `order` (default: m0, m1, ...)."""
        members = order if order is not None else list(range(len(self.names)))
        return "etcd://" + ",".join(self.address(i) for i in members)

    def _start(self, member: int) -> None:
        name = self.names[member]
        initial = ",".join(
            f"{n}=http://127.0.0.1:{p}" for n, p in zip(self.names, self.peer_ports, strict=True)
        )
        client = f"http://{self.address(member)}"
        peer = f"http://127.0.0.1:{self.peer_ports[member]}"
        log = open(self._dir / f"{name}.log", "ab")  # noqa: SIM115 (kept open by the process)
        self._processes[name] = subprocess.Popen(
            [
                "etcd",
                f"--name={name}",
                f"--data-dir={self._dir / name}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster={initial}",
                "--initial-cluster-state=new",
                "--initial-cluster-token=kubeactors-test",
                "--heartbeat-interval=50",
                "--election-timeout=500",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def healthy(self, member: int) -> bool:
        try:
            response = httpx.get(f"http://{self.address(member)}/health", timeout=1)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and '"true"' in response.text

    def leader(self) -> int:
        """The index of the member that leads now (asked of the first live member)."""
        for member, name in enumerate(self.names):
            if name not in self._processes:
                continue
            try:
                response = httpx.post(
                    f"http://{self.address(member)}/v3/maintenance/status", json={}, timeout=2
                )
            except httpx.HTTPError:
                continue
            status = response.json()
            leader_id = status.get("leader")
            members = httpx.post(
                f"http://{self.address(member)}/v3/cluster/member/list", json={}, timeout=2
            ).json()["members"]
            for found in members:
                if found["ID"] == leader_id:
                    return self.names.index(found["name"])
        raise RuntimeError("no member knows a leader")

    def kill(self, member: int) -> None:
        """SIGKILL one member: no goodbye to its peers or clients."""
        process = self._processes.pop(self.names[member])
        process.send_signal(signal.SIGKILL)
        process.wait()

    def __enter__(self) -> EtcdCluster:
        for member in range(len(self.names)):
            self._start(member)
        deadline = time.monotonic() + 30
        while not all(self.healthy(m) for m in range(len(self.names))):
            for name, process in self._processes.items():
                if process.poll() is not None:
                    self.__exit__()
                    raise RuntimeError(f"etcd member {name} exited early, see {self._dir}")
            if time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"the etcd cluster did not become healthy, see {self._dir}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        # SIGKILL: the data dirs go away with the cluster, so a clean stop (which
        # waits for peers that may be dead) would only cost time.
        for process in self._processes.values():
            process.kill()
        for process in self._processes.values():
            process.wait()
        self._processes.clear()
        shutil.rmtree(self._dir, ignore_errors=True)
