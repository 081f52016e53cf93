"""`python -m kubeactors.etcd` as a process: serves etcdctl, keeps data across restarts."""

from __future__ import annotations

import signal
import socket
import sys
from pathlib import Path

import anyio
import anyio.abc

from kubeactors.etcd import build_parser

from .harness import ETCDCTL, environment


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def etcdctl(port: int, *args: str) -> str:
    """etcdctl against the port, retried while the server is still starting."""
    command = [ETCDCTL, f"--endpoints=127.0.0.1:{port}", "--dial-timeout=1s", *args]
    with anyio.fail_after(60):
        while True:
            result = await anyio.run_process(command, check=False, env=environment())
            if result.returncode == 0:
                return str(result.stdout.decode())
            await anyio.wait_all_tasks_blocked()


async def stop(process: anyio.abc.Process) -> int:
    process.send_signal(signal.SIGTERM)
    with anyio.fail_after(30):
        return await process.wait()


async def test_the_command_serves_a_data_dir_and_keeps_it_across_restarts(
    tmp_path: Path,
) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "kubeactors.etcd",
        "--data-dir",
        str(tmp_path / "data"),
        "--listen-client-urls",
        f"http://127.0.0.1:{port}",
        "--name",
        "node-a",
        "--log-level",
        "WARNING",
    ]
    async with await anyio.open_process(command) as process:
        assert await etcdctl(port, "put", "durable", "yes") == "OK\n"
        assert (await etcdctl(port, "member", "list")).split(", ")[2] == "node-a"
        assert await stop(process) == 0
    assert (tmp_path / "data" / "kubeactors.db").exists()
    async with await anyio.open_process(command) as process:
        assert await etcdctl(port, "get", "durable") == "durable\nyes\n"
        assert await stop(process) == 0


def test_client_urls_must_be_plain_http_with_a_port(tmp_path: Path) -> None:
    from kubeactors.etcd import main

    for url in ("https://127.0.0.1:2379", "http://127.0.0.1", "127.0.0.1:2379"):
        assert main(["--data-dir", str(tmp_path), "--listen-client-urls", url]) == 2
    args = build_parser().parse_args(["--data-dir", str(tmp_path)])
    assert args.listen_client_urls == "http://127.0.0.1:2379"
    assert args.max_txn_ops == 128
    assert args.sqlite_synchronous == "FULL"
