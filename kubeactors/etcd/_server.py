"""The gRPC server that exposes a store as an etcd v3 endpoint."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import grpc
import grpc.aio

from ..actors import ActorError, AskTimeout
from ..store import Store
from ._convert import Identity
from ._errors import EtcdError
from ._kv import KeyValueService, Limits
from ._lease import LeaseService
from ._maintenance import MaintenanceService
from ._proto import rpc_pb2
from ._watch import WatchService

__all__ = ["EtcdServer", "parse_client_url"]

logger = logging.getLogger(__name__)

Req = TypeVar("Req")
Resp = TypeVar("Resp")

# etcd lets gRPC receive this much above --max-request-bytes, so that an oversized
# request reaches the server and gets etcd's own "request is too large" error.
_GRPC_OVERHEAD_BYTES = 512 * 1024


def parse_client_url(url: str) -> tuple[str, int]:
    """The host and port of an `http://host:port` client URL, as etcd's flags take them."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"client URL {url!r}: only http:// is supported (no TLS yet)")
    if not parts.hostname or parts.port is None:
        raise ValueError(f"client URL {url!r} needs a host and a port")
    return parts.hostname, parts.port


async def _abort(context: Any, error: BaseException) -> None:
    if isinstance(error, EtcdError):
        await context.abort(error.code, error.message)
    if isinstance(error, AskTimeout):
        await context.abort(grpc.StatusCode.UNAVAILABLE, "etcdserver: request timed out")
    if isinstance(error, ActorError):
        await context.abort(grpc.StatusCode.UNAVAILABLE, "etcdserver: server stopped")
    raise error


def _unary(method: Callable[[Req], Awaitable[Resp]], request_type: Any, response_type: Any) -> Any:
    async def handle(request: Req, context: Any) -> Resp:
        try:
            return await method(request)
        except (EtcdError, ActorError) as error:
            await _abort(context, error)
            raise

    return grpc.unary_unary_rpc_method_handler(
        handle,
        request_deserializer=request_type.FromString,
        response_serializer=response_type.SerializeToString,
    )


def _bidi(
    method: Callable[[AsyncIterator[Req], Callable[[Resp], Awaitable[None]]], Awaitable[None]],
    request_type: Any,
    response_type: Any,
) -> Any:
    async def handle(requests: AsyncIterator[Req], context: Any) -> None:
        try:
            await method(requests, context.write)
        except (EtcdError, ActorError) as error:
            await _abort(context, error)

    return grpc.stream_stream_rpc_method_handler(
        handle,
        request_deserializer=request_type.FromString,
        response_serializer=response_type.SerializeToString,
    )


class EtcdServer:
    """etcd's v3 gRPC API (KV, Watch, Lease, Maintenance, Cluster) over one `Store`.

    `async with EtcdServer(store, port=0) as server:` listens on a free loopback
    port (`server.port`) until the block ends; the store's lifetime is the caller's.
    """

    def __init__(
        self,
        store: Store,
        *,
        host: str = "127.0.0.1",
        port: int = 2379,
        identity: Identity | None = None,
        limits: Limits | None = None,
        db_path: str | Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.limits = limits if limits is not None else Limits()
        self.identity = identity if identity is not None else Identity()
        self.kv = KeyValueService(store, self.identity, self.limits)
        self.watch = WatchService(store, self.identity, self.kv)
        self.lease = LeaseService(store, self.identity, self.kv)
        self.maintenance = MaintenanceService(
            self.identity, self.kv, Path(db_path) if db_path is not None else None
        )
        self._server: Any = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _handlers(self) -> list[Any]:
        pb = rpc_pb2
        kv, lease, maintenance = self.kv, self.lease, self.maintenance
        services: dict[str, dict[str, Any]] = {
            "etcdserverpb.KV": {
                "Range": _unary(kv.range, pb.RangeRequest, pb.RangeResponse),
                "Put": _unary(kv.put, pb.PutRequest, pb.PutResponse),
                "DeleteRange": _unary(
                    kv.delete_range, pb.DeleteRangeRequest, pb.DeleteRangeResponse
                ),
                "Txn": _unary(kv.txn, pb.TxnRequest, pb.TxnResponse),
                "Compact": _unary(kv.compact, pb.CompactionRequest, pb.CompactionResponse),
            },
            "etcdserverpb.Watch": {
                "Watch": _bidi(self.watch.serve, pb.WatchRequest, pb.WatchResponse),
            },
            "etcdserverpb.Lease": {
                "LeaseGrant": _unary(lease.grant, pb.LeaseGrantRequest, pb.LeaseGrantResponse),
                "LeaseRevoke": _unary(lease.revoke, pb.LeaseRevokeRequest, pb.LeaseRevokeResponse),
                "LeaseKeepAlive": _bidi(
                    lease.keep_alive, pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse
                ),
                "LeaseTimeToLive": _unary(
                    lease.time_to_live, pb.LeaseTimeToLiveRequest, pb.LeaseTimeToLiveResponse
                ),
                "LeaseLeases": _unary(lease.leases, pb.LeaseLeasesRequest, pb.LeaseLeasesResponse),
            },
            "etcdserverpb.Maintenance": {
                "Status": _unary(maintenance.status, pb.StatusRequest, pb.StatusResponse),
                "Alarm": _unary(maintenance.alarm, pb.AlarmRequest, pb.AlarmResponse),
                "Defragment": _unary(
                    maintenance.defragment, pb.DefragmentRequest, pb.DefragmentResponse
                ),
            },
            "etcdserverpb.Cluster": {
                "MemberList": _unary(
                    maintenance.member_list, pb.MemberListRequest, pb.MemberListResponse
                ),
            },
        }
        return [
            grpc.method_handlers_generic_handler(name, methods)
            for name, methods in services.items()
        ]

    async def start(self) -> None:
        """Listen on `host:port` (port 0: a free port, then stored in `port`)."""
        if self._server is not None:
            raise RuntimeError("the etcd server is already started")
        receive_limit = self.limits.max_request_bytes + _GRPC_OVERHEAD_BYTES
        server = grpc.aio.server(
            options=[
                ("grpc.max_receive_message_length", receive_limit),
                ("grpc.max_send_message_length", 2**31 - 1),
                # gRPC sets SO_REUSEPORT by default: two servers could then share one
                # port and split its clients between them. Fail to bind, as etcd does.
                ("grpc.so_reuseport", 0),
            ]
        )
        server.add_generic_rpc_handlers(self._handlers())
        try:
            bound: int = server.add_insecure_port(f"{self.host}:{self.port}")
        except RuntimeError as error:  # gRPC's way of saying the bind failed
            raise OSError(f"cannot listen on {self.host}:{self.port}: {error}") from None
        if bound == 0:
            raise OSError(f"cannot listen on {self.host}:{self.port}")
        self.port = bound
        if not self.identity.client_urls:
            self.identity.client_urls = (self.url,)
        await server.start()
        self._server = server
        logger.info("etcd v3 API listening on %s", self.url)

    async def stop(self, grace: float | None = 1.0) -> None:
        """Stop listening; calls still running get `grace` seconds to finish."""
        server, self._server = self._server, None
        if server is not None:
            await server.stop(grace)

    async def __aenter__(self) -> EtcdServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()
