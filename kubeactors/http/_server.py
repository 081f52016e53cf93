"""`HttpServer`: the REST API served by uvicorn on the running event loop."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType

import uvicorn

from ..actors import Clock
from ..api import TokenAuthenticator
from ..client import Client
from ._app import HttpApi
from ._auth import ensure_token_file
from ._kinds import KindIndex
from ._kubeconfig import write_kubeconfig
from ._logs import LogReader
from ._tls import ensure_certificates

__all__ = ["HttpServer"]

logger = logging.getLogger(__name__)


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its signal handlers: whoever embeds the server decides on Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _abort(connection: object) -> None:
    transport = getattr(connection, "transport", None)
    # One already closing is left alone: CPython 3.11.2's TLS transport (Debian's
    # python3.11) fails on `abort` once its protocol is gone; later 3.11s skip it.
    if transport is not None and not transport.is_closing():
        transport.abort()


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class HttpServer:
    """Serves the cluster's API at `url` while open: `async with HttpServer(...) as server`.

    HTTPS unless `tls=False`, which is allowed on a loopback address only. The CA,
    serving certificate, token file and kubeconfig live in `data_dir` and are made
    on first start; a restart on the same directory keeps them, so a kubeconfig
    written once stays good. `port=0` picks a free port. `logs` reads container
    logs from the pod's node (the kubelet), for `kubectl logs`. `forward_tokens`
    lets the API server authenticate and authorise each caller (see `HttpApi`).
    The kubeconfig is written to `kubeconfig` (default: `data_dir/kubeconfig`).
    """

    def __init__(
        self,
        client: Client,
        data_dir: Path,
        *,
        clock: Clock,
        wall_clock: Callable[[], datetime],
        host: str = "127.0.0.1",
        port: int = 6443,
        tls: bool = True,
        kinds: KindIndex | None = None,
        logs: LogReader | None = None,
        forward_tokens: bool = False,
        kubeconfig: Path | None = None,
    ) -> None:
        if not tls and not is_loopback(host):
            raise ValueError(f"plain HTTP is served on loopback only, not on {host!r}: use TLS")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be in 0..65535, got {port}")
        self.data_dir = Path(data_dir)
        self.host = host
        self.tls = tls
        self._requested_port = port
        self.port = port
        self.token = ""
        self.kubeconfig = kubeconfig if kubeconfig is not None else self.data_dir / "kubeconfig"
        self._wall_clock = wall_clock
        self.api = HttpApi(
            client,
            clock=clock,
            wall_clock=wall_clock,
            kinds=kinds,
            logs=logs,
            forward_tokens=forward_tokens,
        )
        self._server: _EmbeddedServer | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP named explicitly: asyncio sets TCP_NODELAY on accepted sockets only
        # when their proto says TCP, and without it every response waits out Nagle's
        # algorithm against the client's delayed ACK (about 40 ms a request).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self._requested_port))
        except OSError as error:
            sock.close()
            raise OSError(f"cannot serve on {self.host}:{self._requested_port}: {error}") from error
        sock.set_inheritable(True)
        return sock

    async def __aenter__(self) -> HttpServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        token_path = self.data_dir / "tokens.csv"
        self.token = ensure_token_file(token_path)
        self.api.tokens = TokenAuthenticator.from_file(token_path)
        ssl: dict[str, str] = {}
        ca_cert = None
        if self.tls:
            certificates = ensure_certificates(
                self.data_dir / "pki", self._wall_clock(), [self.host]
            )
            ssl = {"ssl_certfile": str(certificates.cert), "ssl_keyfile": str(certificates.key)}
            ca_cert = certificates.ca_cert
        sock = self._bind()
        self.port = sock.getsockname()[1]
        self.api.address = f"{self.host}:{self.port}"
        config = uvicorn.Config(
            self.api,
            lifespan="off",
            log_config=None,
            access_log=False,
            http="h11",
            ws="none",
            server_header=False,
            date_header=False,
            timeout_graceful_shutdown=5,
            **ssl,  # type: ignore[arg-type]
        )
        config.load()
        server = _EmbeddedServer(config)
        server.lifespan = config.lifespan_class(config)
        try:
            await server.startup(sockets=[sock])
        except BaseException:
            sock.close()
            raise
        self._server = server
        advertised = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        server_url = self.url.replace(f"//{self.host}:", f"//{advertised}:")
        write_kubeconfig(self.kubeconfig, server_url, self.token, ca_cert)
        logger.info("serving the API at %s", self.url)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.api.close()
        # A TLS connection closed by the server waits for the client's close_notify,
        # which an idle pooled client never sends: uvicorn would wait out its graceful
        # timeout and leave the socket open. Idle connections are cut at once, and any
        # left after the shutdown too.
        connections = list(server.server_state.connections)
        for connection in connections:
            cycle = getattr(connection, "cycle", None)
            if cycle is None or cycle.response_complete:
                _abort(connection)
        await server.shutdown()
        for connection in connections:
            _abort(connection)
