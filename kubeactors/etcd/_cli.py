"""`kubeactors etcd`: serve etcd's v3 API over a store in a data directory."""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import Sequence
from pathlib import Path

import anyio

from .._gc import relaxed_gc
from .._switching import prompt_thread_switches
from ..actors import ActorSystem
from ..store import Store, StoreOptions
from ._convert import Identity
from ._kv import Limits
from ._server import EtcdServer, parse_client_url

__all__ = ["build_parser", "main", "serve"]

logger = logging.getLogger(__name__)

DATABASE_NAME = "kubeactors.db"


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The `etcd` subcommand's arguments, named after etcd's own flags."""
    if parser is None:
        parser = argparse.ArgumentParser(
            prog="kubeactors etcd", description="Serve etcd's v3 gRPC API over a kubeactors store."
        )
    parser.add_argument("--name", default="default", help="member name (default: default)")
    parser.add_argument(
        "--data-dir", required=True, type=Path, help="directory of the store's database"
    )
    parser.add_argument(
        "--listen-client-urls",
        default="http://127.0.0.1:2379",
        help="comma-separated http://host:port URLs to serve on (default: http://127.0.0.1:2379)",
    )
    parser.add_argument(
        "--advertise-client-urls",
        default=None,
        help="client URLs reported by member list (default: the listen URLs)",
    )
    parser.add_argument(
        "--sqlite-synchronous",
        default="FULL",
        choices=["OFF", "NORMAL", "FULL", "EXTRA"],
        help="SQLite's durability: FULL (default) survives power loss, like etcd's fsync; "
        "NORMAL survives a crash of the process only",
    )
    parser.add_argument("--max-request-bytes", type=int, default=1_572_864)
    parser.add_argument("--max-txn-ops", type=int, default=128)
    parser.add_argument("--log-level", default="INFO")
    return parser


async def serve(args: argparse.Namespace) -> None:
    """Open the store in `args.data_dir` and serve it until SIGINT or SIGTERM."""
    listen = [parse_client_url(url) for url in args.listen_client_urls.split(",") if url]
    if not listen:
        raise ValueError("--listen-client-urls names no URL")
    advertise = tuple(
        url for url in (args.advertise_client_urls or args.listen_client_urls).split(",") if url
    )
    data_dir = anyio.Path(args.data_dir)
    await data_dir.mkdir(parents=True, exist_ok=True)
    db_path = Path(data_dir / DATABASE_NAME)
    identity = Identity(name=args.name, client_urls=advertise)
    limits = Limits(max_request_bytes=args.max_request_bytes, max_txn_ops=args.max_txn_ops)
    async with ActorSystem() as system:
        options = StoreOptions(
            synchronous=args.sqlite_synchronous,
            max_request_bytes=args.max_request_bytes,
            max_txn_ops=args.max_txn_ops,
        )
        store = Store.spawn(system.root, db_path, options=options)
        servers = [
            EtcdServer(
                store, host=host, port=port, identity=identity, limits=limits, db_path=db_path
            )
            for host, port in listen
        ]
        try:
            for server in servers:
                await server.start()
            with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                async for received in signals:
                    logger.info("received %s; stopping", signal.Signals(received).name)
                    break
        finally:
            for server in servers:
                await server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `kubeactors etcd` and `python -m kubeactors.etcd`."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    try:
        # The store's index is many long-lived objects, as a cluster's are: collect
        # as every kubeactors command does, without rescanning them every 700
        # allocations; and let the commit thread have the GIL as soon as it asks.
        with relaxed_gc(), prompt_thread_switches():
            anyio.run(serve, args)
    except ValueError as error:
        logging.getLogger("kubeactors.etcd").error("%s", error)
        return 2
    return 0
