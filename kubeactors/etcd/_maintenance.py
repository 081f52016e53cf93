"""The Maintenance (Status, Alarm) and Cluster (MemberList) services of a one-member cluster."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ._convert import Identity
from ._kv import KeyValueService
from ._proto import rpc_pb2

__all__ = ["ETCD_VERSION", "MaintenanceService"]

ETCD_VERSION = "3.4.0"
"""The etcd version reported by Status: clients enable the 3.4 API features by it."""


class MaintenanceService:
    def __init__(self, identity: Identity, kv: KeyValueService, db_path: Path | None) -> None:
        self._identity = identity
        self._kv = kv
        self._db_path = db_path

    def _db_size(self) -> int:
        if self._db_path is None:
            return 0
        size = 0
        # SQLite in WAL mode keeps recent pages in the -wal file beside the database.
        for suffix in ("", "-wal"):
            with contextlib.suppress(FileNotFoundError):
                size += os.stat(f"{self._db_path}{suffix}").st_size
        return size

    async def status(self, request: rpc_pb2.StatusRequest) -> rpc_pb2.StatusResponse:
        revision = await self._kv.current_revision()
        size = self._db_size()
        return rpc_pb2.StatusResponse(
            header=self._identity.header(revision),
            version=ETCD_VERSION,
            dbSize=size,
            dbSizeInUse=size,
            leader=self._identity.member_id,
            raftIndex=revision,
            raftAppliedIndex=revision,
            raftTerm=self._identity.raft_term,
        )

    async def alarm(self, request: rpc_pb2.AlarmRequest) -> rpc_pb2.AlarmResponse:
        revision = await self._kv.current_revision()
        return rpc_pb2.AlarmResponse(header=self._identity.header(revision))

    async def defragment(self, request: rpc_pb2.DefragmentRequest) -> rpc_pb2.DefragmentResponse:
        """Accepted and done at once: SQLite reuses freed pages itself, and compaction
        (the store's) is what frees them."""
        revision = await self._kv.current_revision()
        return rpc_pb2.DefragmentResponse(header=self._identity.header(revision))

    async def member_list(self, request: rpc_pb2.MemberListRequest) -> rpc_pb2.MemberListResponse:
        revision = await self._kv.current_revision()
        member = rpc_pb2.Member(
            ID=self._identity.member_id,
            name=self._identity.name,
            peerURLs=list(self._identity.peer_urls),
            clientURLs=list(self._identity.client_urls),
        )
        return rpc_pb2.MemberListResponse(header=self._identity.header(revision), members=[member])
