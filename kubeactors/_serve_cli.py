"""The serving commands of the command line: `up` (a whole cluster), `apiserver` (the API
alone, over a store shared with other API servers) and `nodes` (simulated nodes that
join a served cluster over HTTPS)."""

from __future__ import annotations

import argparse
import fcntl
import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
from rich.console import Console

from ._election import LeaderElection
from ._fleet import Fleet, FleetClients, spawn_fleet
from .client import ApiClient
from .cluster import Cluster
from .controllers import ControllerManagerSettings
from .node import NodeSettings, NodeShape

if TYPE_CHECKING:
    from .http import HttpClient

__all__ = ["add_serve_commands", "run_serve_command"]

_MODES = ("RBAC", "AlwaysAllow")


def _serving_options(parser: argparse.ArgumentParser, port_type: Any, data_dir: Path) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=data_dir,
        help="store, certificates, token file and kubeconfig (kept across restarts)",
    )
    parser.add_argument(
        "--store",
        default=None,
        metavar="etcd://HOST:PORT,...",
        help="keep the objects in this etcd cluster instead of the data directory",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on")
    parser.add_argument("--port", type=port_type, default=6443, help="port (0: any free one)")
    parser.add_argument(
        "--insecure-http",
        action="store_true",
        help="serve plain HTTP instead of HTTPS (loopback addresses only)",
    )
    parser.add_argument(
        "--authorization-mode",
        choices=_MODES,
        default="RBAC",
        help="RBAC (with the Node authoriser, as kube-apiserver's Node,RBAC; the default) "
        "or AlwaysAllow (any valid token may do anything)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the cluster's randomness")


def add_serve_commands(commands: Any, *, count: Any, port: Any, cpu: Any, memory: Any) -> None:
    """Add `up`, `apiserver` and `nodes` to the `kubeactors` subcommands."""
    up = commands.add_parser(
        "up", help="start a whole cluster and serve its API over HTTPS until Ctrl-C"
    )
    up.add_argument("--nodes", type=count, default=3, help="simulated nodes")
    up.add_argument("--node-cpu", type=cpu, default="4", help="CPU of each node")
    up.add_argument("--node-memory", type=memory, default="16Gi", help="memory of each node")
    up.add_argument("--node-pods", type=count, default=110, help="pods per node")
    _serving_options(up, port, Path(".kubeactors"))

    apiserver = commands.add_parser(
        "apiserver",
        help="serve the API only (no scheduler, controllers or nodes), over a store that "
        "other API servers may share",
    )
    _serving_options(apiserver, port, Path(".kubeactors"))
    apiserver.add_argument(
        "--kubeconfig",
        type=Path,
        default=None,
        help="where to write this server's kubeconfig (default: DATA_DIR/kubeconfig)",
    )

    nodes = commands.add_parser(
        "nodes",
        help="run simulated nodes that join a served cluster over HTTPS, until Ctrl-C",
    )
    nodes.add_argument(
        "--kubeconfig", type=Path, required=True, help="the cluster to join (server, CA, token)"
    )
    nodes.add_argument("--count", type=count, default=10, help="simulated nodes")
    nodes.add_argument(
        "--name-prefix", default="remote-node-", help="node names: PREFIX0, PREFIX1, ..."
    )
    nodes.add_argument(
        "--first-index",
        type=count,
        default=1000,
        help="number of the first node (sets its pod CIDR and host address: keep the "
        "numbers of separate node processes apart)",
    )
    nodes.add_argument("--node-cpu", type=cpu, default="4", help="CPU of each node")
    nodes.add_argument("--node-memory", type=memory, default="16Gi", help="memory of each node")
    nodes.add_argument("--node-pods", type=count, default=110, help="pods per node")
    nodes.add_argument("--seed", type=int, default=0, help="seed of the nodes' randomness")
    nodes.add_argument(
        "--no-impersonate",
        action="store_true",
        help="ask as the kubeconfig's user for every node, instead of impersonating each "
        "node's own identity (system:node:NAME, as a kubelet authenticates)",
    )
    nodes.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for every node to register"
    )


def _authorizer(mode: str) -> Literal["rbac"] | None:
    return "rbac" if mode == "RBAC" else None


def _identity() -> str:
    # Leader election needs a name per process, as upstream's hostname_uuid.
    return f"{socket.gethostname()}_{os.getpid()}"


def _manager_settings() -> ControllerManagerSettings:
    return ControllerManagerSettings(identity=_identity())


def _where(store: str | None, data_dir: Path) -> str:
    return f"data in {data_dir}" if store is None else f"objects in {store}, files in {data_dir}"


@contextmanager
def _owning(data_dir: Path, store: str | None) -> Iterator[None]:
    """Hold the data directory's embedded store for this process alone: two processes
    writing one SQLite store would each number revisions on their own. (An etcd store
    is shared through etcd: no lock.)"""
    if store is not None:
        yield
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "store.lock").open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OSError(
                f"another kubeactors process serves the store in {data_dir}; to serve one "
                "cluster from several processes, keep it in etcd (--store etcd://...)"
            ) from None
        yield


async def _serve(cluster: Cluster, console: Console, what: str, where: str) -> None:
    """Serve until SIGINT or SIGTERM, then stop gracefully."""
    assert cluster.data_dir is not None
    with (
        _owning(cluster.data_dir, cluster.store_url),
        anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals,
    ):
        async with cluster:
            server = cluster.server
            assert server is not None
            console.print(f"kubeactors: {what}, API at {server.url} ({where}); Ctrl-C stops")
            print(f"export KUBECONFIG={server.kubeconfig}", flush=True)
            async for _ in signals:
                console.print("kubeactors: stopping")
                break


async def _up(args: argparse.Namespace, console: Console) -> None:
    shape = NodeShape(cpu=args.node_cpu, memory=args.node_memory, pods=args.node_pods)
    data_dir = args.data_dir.resolve()
    cluster = Cluster(
        nodes=args.nodes,
        node_shape=shape,
        seed=args.seed,
        data_dir=data_dir,
        store=args.store,
        controllers=_manager_settings(),
        # Over a shared etcd, other `up`s may run: one scheduler leads among them.
        scheduler_election=LeaderElection(_identity()) if args.store else None,
        serve=True,
        host=args.host,
        port=args.port,
        tls=not args.insecure_http,
        authorizer=_authorizer(args.authorization_mode),
    )
    await _serve(cluster, console, f"{args.nodes} nodes", _where(args.store, data_dir))


async def _apiserver(args: argparse.Namespace, console: Console) -> None:
    data_dir = args.data_dir.resolve()
    cluster = Cluster(
        nodes=0,
        seed=args.seed,
        data_dir=data_dir,
        store=args.store,
        controllers=False,
        scheduler=False,
        serve=True,
        host=args.host,
        port=args.port,
        tls=not args.insecure_http,
        authorizer=_authorizer(args.authorization_mode),
        kubeconfig=args.kubeconfig.resolve() if args.kubeconfig is not None else None,
    )
    await _serve(cluster, console, "API server only", _where(args.store, data_dir))


async def _nodes(args: argparse.Namespace, console: Console) -> None:
    """Run `--count` kubelets in this process against a remote API server."""
    from .actors import ActorSystem
    from .http import HttpClient

    shape = NodeShape(cpu=args.node_cpu, memory=args.node_memory, pods=args.node_pods)
    names = [f"{args.name_prefix}{i}" for i in range(args.count)]
    fleet: Fleet | None = None
    try:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async with (
                HttpClient.from_kubeconfig(args.kubeconfig) as client,
                ActorSystem(seed=args.seed) as system,
            ):
                clients = (
                    FleetClients.shared(client) if args.no_impersonate else _node_identities(client)
                )
                fleet = spawn_fleet(
                    system,
                    clients,
                    names,
                    first_index=args.first_index,
                    shape=shape,
                    settings=NodeSettings(),
                    wall_clock=system.clock.wall,
                    seed=args.seed,
                )
                await _registered(client, set(names), args.timeout)
                console.print(f"kubeactors nodes: {args.count} nodes joined {client.server}")
                print(f"{args.count} nodes ready", flush=True)
                async for _ in signals:
                    console.print("kubeactors nodes: stopping")
                    break
    finally:
        if fleet is not None:
            await fleet.close()


def _node_identities(client: HttpClient) -> FleetClients:
    """Each kubelet as its node (`system:node:<name>` in `system:nodes`), so that the
    Node authoriser and NodeRestriction judge it as upstream's would."""
    from .api import NODE_SIMULATOR, component_user, node_user

    return FleetClients(
        node=lambda name: client.impersonating(node_user(name)),
        dispatcher=client.impersonating(component_user(NODE_SIMULATOR)),
        proxy=client.impersonating(component_user("system:kube-proxy")),
    )


async def _registered(client: ApiClient, names: set[str], timeout: float) -> None:
    """Wait until every node of `names` is registered with the API server."""
    from .api import Node
    from .client import Delta, Informer

    informer: Informer[Node] = Informer(client, Node)
    done = anyio.Event()

    async def check(_: list[Delta[Node]] | None = None) -> None:
        if names <= {node.metadata.name for node in informer.items()}:
            done.set()

    informer.add_batch_handler(check)
    try:
        with anyio.fail_after(timeout):
            async with anyio.create_task_group() as group:
                group.start_soon(informer.run)
                await informer.wait_synced()
                await check()
                await done.wait()
                group.cancel_scope.cancel()
    except TimeoutError:
        raise TimeoutError(f"the nodes did not all register within {timeout} s") from None


def run_serve_command(args: argparse.Namespace, console: Console) -> int | None:
    """Run `up`, `apiserver` or `nodes`; None for any other command."""
    runners = {"up": _up, "apiserver": _apiserver, "nodes": _nodes}
    runner = runners.get(args.command)
    if runner is None:
        return None
    try:
        anyio.run(runner, args, console)
    except (OSError, ValueError, TimeoutError) as error:
        console.print(f"[red]kubeactors {args.command}: {error}[/red]")
        return 1
    return 0
