"""The members of an etcd cluster seen as one client: failover, and retries where safe.

The policy is clientv3's: a read, or any request etcd refused before proposing it,
is retried on another member until `retry_for` runs out; a write that reached a
member which then failed is never sent again (it may have been applied), and its
caller learns that the outcome is unknown.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import grpc
import grpc.aio

from ..actors import Clock
from ..store import UnavailableError
from ._client import EtcdClient
from ._errors import to_store_error

__all__ = ["Endpoints", "parse_endpoints"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Refusals that mean the request was never proposed, so sending it again is safe.
_NOT_SENT = ("failed to connect to all addresses", "etcdserver: no leader")
_REFUSED = ("etcdserver: too many requests", "etcdserver: not capable")
# Failures of a member or of its leadership, worth trying another member for.
_TRANSIENT_CODES = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
_DOWN = {grpc.ChannelConnectivity.TRANSIENT_FAILURE, grpc.ChannelConnectivity.SHUTDOWN}


def parse_endpoints(text: str) -> list[str]:
    """`host:port` addresses from `host:port,host:port` (with or without `http://`)."""
    endpoints: list[str] = []
    for part in text.split(","):
        address = part.strip().removeprefix("http://")
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"etcd endpoint {part.strip()!r} is not host:port")
        endpoints.append(address)
    return endpoints


def is_transient(error: grpc.aio.AioRpcError) -> bool:
    """Whether another member (or the same one later) may well answer."""
    return error.code() in _TRANSIENT_CODES or error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def never_applied(error: grpc.aio.AioRpcError) -> bool:
    """Whether etcd cannot have applied the request that failed with `error`."""
    details = error.details() or ""
    return any(text in details for text in _NOT_SENT + _REFUSED)


class Endpoints:
    """One `EtcdClient` per member; requests go to the current member, and move on to
    the next one that is not known to be down when it fails."""

    def __init__(
        self,
        addresses: Sequence[str],
        clock: Clock,
        *,
        timeout: float = 10.0,
        retry_for: float = 20.0,
    ) -> None:
        if not addresses:
            raise ValueError("an etcd store needs at least one endpoint")
        # `hasleader`: a member cut off from its leader refuses at once ("no leader")
        # instead of leaving requests and watches hanging, as clientv3 asks.
        self._clients = [
            EtcdClient(address, timeout=timeout, metadata=(("hasleader", "true"),))
            for address in addresses
        ]
        self._current = 0
        self._clock = clock
        self.retry_for = retry_for

    @property
    def addresses(self) -> list[str]:
        return [client.address for client in self._clients]

    def pick(self) -> EtcdClient:
        """The current member, or the next one whose connection is not failing."""
        count = len(self._clients)
        for step in range(count):
            index = (self._current + step) % count
            if self._clients[index].connectivity not in _DOWN:
                self._current = index
                return self._clients[index]
        return self._clients[self._current]

    def failed(self, client: EtcdClient) -> None:
        """`client`'s member failed a request: send the next ones elsewhere."""
        if self._clients[self._current] is client:
            self._current = (self._current + 1) % len(self._clients)

    async def backoff(self, attempt: int) -> None:
        await self._clock.sleep(min(0.05 * 2**attempt, 1.0))

    async def call(
        self,
        invoke: Callable[[EtcdClient], Awaitable[T]],
        *,
        idempotent: bool,
        requested: int = 0,
    ) -> T:
        """`invoke(client)` on a live member; etcd's errors come out as `StoreError`s."""
        deadline = self._clock.now() + self.retry_for
        attempt = 0
        while True:
            client = self.pick()
            try:
                return await invoke(client)
            except grpc.aio.AioRpcError as error:
                details = error.details() or ""
                if not is_transient(error):
                    raise to_store_error(error.code(), details, requested=requested) from None
                self.failed(client)
                if not (idempotent or never_applied(error)):
                    raise UnavailableError(
                        f"etcd member {client.address} failed: {details}", maybe_applied=True
                    ) from None
                if self._clock.now() >= deadline:
                    raise UnavailableError(
                        f"no etcd member of {', '.join(self.addresses)} answered within "
                        f"{self.retry_for} s (last: {client.address}: {details})"
                    ) from None
                logger.info("etcd member %s: %s; trying again", client.address, details)
            await self.backoff(attempt)
            attempt += 1

    async def close(self) -> None:
        for client in self._clients:
            await client.close()
