"""The Lease service: grant, revoke, keep-alive stream and time-to-live over the store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from ..store import LeaseNotFoundError, Store
from . import _errors as errors
from ._convert import Identity
from ._kv import KeyValueService, store_errors
from ._proto import rpc_pb2

__all__ = ["MAX_LEASE_TTL", "LeaseService"]

MAX_LEASE_TTL = 9_000_000_000
"""etcd's largest lease TTL in seconds (lease.MaxLeaseTTL)."""


class LeaseService:
    def __init__(self, store: Store, identity: Identity, kv: KeyValueService) -> None:
        self._store = store
        self._identity = identity
        self._kv = kv

    async def grant(self, request: rpc_pb2.LeaseGrantRequest) -> rpc_pb2.LeaseGrantResponse:
        if request.TTL > MAX_LEASE_TTL:
            raise errors.lease_ttl_too_large()
        with store_errors():
            result = await self._store.lease_grant(request.TTL, lease_id=request.ID)
        return rpc_pb2.LeaseGrantResponse(
            header=self._identity.header(result.revision), ID=result.id, TTL=result.ttl
        )

    async def revoke(self, request: rpc_pb2.LeaseRevokeRequest) -> rpc_pb2.LeaseRevokeResponse:
        with store_errors():
            revision = await self._store.lease_revoke(request.ID)
        return rpc_pb2.LeaseRevokeResponse(header=self._identity.header(revision))

    async def time_to_live(
        self, request: rpc_pb2.LeaseTimeToLiveRequest
    ) -> rpc_pb2.LeaseTimeToLiveResponse:
        with store_errors():
            found = await self._store.lease_time_to_live(request.ID, keys=request.keys)
        revision = await self._kv.current_revision()
        # An unknown lease is no error: etcd answers TTL -1, as the store does.
        return rpc_pb2.LeaseTimeToLiveResponse(
            header=self._identity.header(revision),
            ID=found.id,
            TTL=found.ttl,
            grantedTTL=found.granted_ttl,
            keys=found.keys,
        )

    async def leases(self, request: rpc_pb2.LeaseLeasesRequest) -> rpc_pb2.LeaseLeasesResponse:
        with store_errors():
            ids = await self._store.lease_list()
        revision = await self._kv.current_revision()
        return rpc_pb2.LeaseLeasesResponse(
            header=self._identity.header(revision),
            leases=[rpc_pb2.LeaseStatus(ID=lease_id) for lease_id in ids],
        )

    async def keep_alive(
        self,
        requests: AsyncIterator[rpc_pb2.LeaseKeepAliveRequest],
        write: Callable[[rpc_pb2.LeaseKeepAliveResponse], Awaitable[None]],
    ) -> None:
        async for request in requests:
            try:
                ttl = await self._store.lease_keep_alive(request.ID)
            except LeaseNotFoundError:
                ttl = 0  # etcd's answer for a lease that is gone: the client stops
            revision = await self._kv.current_revision()
            await write(
                rpc_pb2.LeaseKeepAliveResponse(
                    header=self._identity.header(revision), ID=request.ID, TTL=ttl
                )
            )
