"""A small asyncio client for etcd's v3 gRPC API, for tests, benchmarks and tools.

It speaks to any etcd v3 endpoint (ours or a real etcd) with the same messages, so
measurements and checks compare the two servers over the same wire.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import grpc
import grpc.aio

from ._proto import rpc_pb2

__all__ = ["EtcdClient"]


class EtcdClient:
    """`async with EtcdClient("127.0.0.1:2379") as client:`; methods take and return
    etcd's protobuf messages and raise `grpc.aio.AioRpcError` with etcd's status."""

    def __init__(
        self,
        address: str,
        *,
        timeout: float | None = 30.0,
        metadata: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.address = address
        self.timeout = timeout
        self.metadata = metadata
        """Sent with every call (etcd's `hasleader`, say)."""
        self._channel: Any = grpc.aio.insecure_channel(
            address, options=[("grpc.max_receive_message_length", 2**31 - 1)]
        )
        self._calls: dict[str, Any] = {}

    @property
    def connectivity(self) -> grpc.ChannelConnectivity:
        """The channel's state now; asking starts a connection attempt if it is idle."""
        state: grpc.ChannelConnectivity = self._channel.get_state(try_to_connect=True)
        return state

    def _unary(self, path: str, response_type: Any) -> Any:
        call = self._calls.get(path)
        if call is None:
            call = self._channel.unary_unary(
                path,
                request_serializer=lambda message: message.SerializeToString(),
                response_deserializer=response_type.FromString,
            )
            self._calls[path] = call
        return call

    async def wait_ready(self) -> None:
        """Wait until the channel connects (the server may still be starting)."""
        await self._channel.channel_ready()

    async def range(self, request: rpc_pb2.RangeRequest) -> rpc_pb2.RangeResponse:
        call = self._unary("/etcdserverpb.KV/Range", rpc_pb2.RangeResponse)
        response: rpc_pb2.RangeResponse = await call(
            request, timeout=self.timeout, metadata=self.metadata
        )
        return response

    async def put(self, request: rpc_pb2.PutRequest) -> rpc_pb2.PutResponse:
        call = self._unary("/etcdserverpb.KV/Put", rpc_pb2.PutResponse)
        response: rpc_pb2.PutResponse = await call(
            request, timeout=self.timeout, metadata=self.metadata
        )
        return response

    async def delete_range(
        self, request: rpc_pb2.DeleteRangeRequest
    ) -> rpc_pb2.DeleteRangeResponse:
        call = self._unary("/etcdserverpb.KV/DeleteRange", rpc_pb2.DeleteRangeResponse)
        response: rpc_pb2.DeleteRangeResponse = await call(
            request, timeout=self.timeout, metadata=self.metadata
        )
        return response

    async def txn(self, request: rpc_pb2.TxnRequest) -> rpc_pb2.TxnResponse:
        call = self._unary("/etcdserverpb.KV/Txn", rpc_pb2.TxnResponse)
        response: rpc_pb2.TxnResponse = await call(
            request, timeout=self.timeout, metadata=self.metadata
        )
        return response

    async def compact(self, request: rpc_pb2.CompactionRequest) -> rpc_pb2.CompactionResponse:
        call = self._unary("/etcdserverpb.KV/Compact", rpc_pb2.CompactionResponse)
        response: rpc_pb2.CompactionResponse = await call(
            request, timeout=self.timeout, metadata=self.metadata
        )
        return response

    async def lease_grant(self, request: rpc_pb2.LeaseGrantRequest) -> rpc_pb2.LeaseGrantResponse:
        call = self._unary("/etcdserverpb.Lease/LeaseGrant", rpc_pb2.LeaseGrantResponse)
        response: rpc_pb2.LeaseGrantResponse = await call(
            request, timeout=self.timeout, metadata=self.metadata
        )
        return response

    async def lease_revoke(
        self, request: rpc_pb2.LeaseRevokeRequest
    ) -> rpc_pb2.LeaseRevokeResponse:
        call = self._unary("/etcdserverpb.Lease/LeaseRevoke", rpc_pb2.LeaseRevokeResponse)
        response: rpc_pb2.LeaseRevokeResponse = await call(
            request, timeout=self.timeout, metadata=self.metadata
        )
        return response

    async def lease_time_to_live(
        self, request: rpc_pb2.LeaseTimeToLiveRequest
    ) -> rpc_pb2.LeaseTimeToLiveResponse:
        call = self._unary("/etcdserverpb.Lease/LeaseTimeToLive", rpc_pb2.LeaseTimeToLiveResponse)
        response: rpc_pb2.LeaseTimeToLiveResponse = await call(
            request, timeout=self.timeout, metadata=self.metadata
        )
        return response

    async def lease_leases(self) -> rpc_pb2.LeaseLeasesResponse:
        call = self._unary("/etcdserverpb.Lease/LeaseLeases", rpc_pb2.LeaseLeasesResponse)
        response: rpc_pb2.LeaseLeasesResponse = await call(
            rpc_pb2.LeaseLeasesRequest(), timeout=self.timeout, metadata=self.metadata
        )
        return response

    async def lease_keep_alive_once(self, lease_id: int) -> rpc_pb2.LeaseKeepAliveResponse:
        """One round on a LeaseKeepAlive stream (TTL 0 in the answer: no such lease)."""
        call = self._calls.get("keepalive")
        if call is None:
            call = self._channel.stream_stream(
                "/etcdserverpb.Lease/LeaseKeepAlive",
                request_serializer=lambda message: message.SerializeToString(),
                response_deserializer=rpc_pb2.LeaseKeepAliveResponse.FromString,
            )
            self._calls["keepalive"] = call
        stream = call(timeout=self.timeout, metadata=self.metadata)
        try:
            await stream.write(rpc_pb2.LeaseKeepAliveRequest(ID=lease_id))
            response: rpc_pb2.LeaseKeepAliveResponse = await stream.read()
            await stream.done_writing()
            return response
        finally:
            stream.cancel()

    async def status(self) -> rpc_pb2.StatusResponse:
        call = self._unary("/etcdserverpb.Maintenance/Status", rpc_pb2.StatusResponse)
        response: rpc_pb2.StatusResponse = await call(
            rpc_pb2.StatusRequest(), timeout=self.timeout, metadata=self.metadata
        )
        return response

    def watch(
        self, requests: AsyncIterator[rpc_pb2.WatchRequest]
    ) -> AsyncIterator[rpc_pb2.WatchResponse]:
        """Open a Watch stream fed by `requests`; iterate the result for responses."""
        call = self._calls.get("watch")
        if call is None:
            call = self._channel.stream_stream(
                "/etcdserverpb.Watch/Watch",
                request_serializer=lambda message: message.SerializeToString(),
                response_deserializer=rpc_pb2.WatchResponse.FromString,
            )
            self._calls["watch"] = call
        stream: AsyncIterator[rpc_pb2.WatchResponse] = call(requests, metadata=self.metadata)
        return stream

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> EtcdClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()
