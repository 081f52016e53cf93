"""gRPC's Python server with nothing behind it: the floor under `kubeactors etcd`'s cost.

`python -m benchmarks._etcd_floor PORT` serves etcd's KV Range and Put on a
`grpc.aio` server in an anyio event loop, set up exactly as `EtcdServer` sets
its server up, but answering every request with one prebuilt response (no store,
no conversion). Its throughput and CPU per call are what gRPC's Python server costs
by itself, so `benchmarks.etcd_wire` can say how much of ours is gRPC and how much
the store and the conversions.
"""

from __future__ import annotations

import signal
import sys
from typing import Any

import anyio
import grpc
import grpc.aio

from kubeactors.etcd._proto import rpc_pb2

__all__ = ["serve"]

_HEADER = rpc_pb2.ResponseHeader(cluster_id=1, member_id=1, revision=1, raft_term=1)


def _handler(request_type: Any, response: Any) -> Any:
    async def handle(request: object, context: object) -> Any:
        return response

    return grpc.unary_unary_rpc_method_handler(
        handle,
        request_deserializer=request_type.FromString,
        response_serializer=type(response).SerializeToString,
    )


async def serve(port: int) -> None:
    """Answer Range and Put on 127.0.0.1:`port` until SIGTERM or SIGINT."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    methods = {
        "Range": _handler(rpc_pb2.RangeRequest, rpc_pb2.RangeResponse(header=_HEADER)),
        "Put": _handler(rpc_pb2.PutRequest, rpc_pb2.PutResponse(header=_HEADER)),
    }
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("etcdserverpb.KV", methods)]
    )
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for _ in signals:
                break
    finally:
        await server.stop(None)


if __name__ == "__main__":
    anyio.run(serve, int(sys.argv[1]))
