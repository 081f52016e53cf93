"""The Watch service: one bidirectional stream carrying many watches."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import anyio.abc

from ..store import Store, WatchCancelledError, WatchStream
from . import _errors as errors
from ._convert import Identity, event_to_pb, range_end_of
from ._kv import KeyValueService, store_errors
from ._proto import rpc_pb2

__all__ = ["WatchService"]

logger = logging.getLogger(__name__)

_NOPUT = rpc_pb2.WatchCreateRequest.NOPUT
_NODELETE = rpc_pb2.WatchCreateRequest.NODELETE
_DUPLICATE_ID = "mvcc: duplicate watch ID provided on the WatchStream"
_EMPTY_RANGE = "mvcc: watcher range is empty"

Send = Callable[[rpc_pb2.WatchResponse], Awaitable[None]]


class WatchService:
    """Serves etcd's Watch RPC from the store's watch streams.

    The store filters each watch's events (start revision, NOPUT/NODELETE,
    prev_kv); each watch runs as a task that turns its batches into responses and
    hands them to the stream's single writer, so one watch's responses stay in
    revision order.
    """

    def __init__(self, store: Store, identity: Identity, kv: KeyValueService) -> None:
        self._store = store
        self._identity = identity
        self._kv = kv

    async def serve(
        self,
        requests: AsyncIterator[rpc_pb2.WatchRequest],
        write: Callable[[rpc_pb2.WatchResponse], Awaitable[None]],
    ) -> None:
        """Run one Watch stream until the client closes it."""
        send, receive = anyio.create_memory_object_stream[rpc_pb2.WatchResponse](1024)
        async with send, anyio.create_task_group() as group:

            async def writer() -> None:
                async with receive:
                    async for response in receive:
                        await write(response)

            group.start_soon(writer)
            session = _WatchSession(self, group, send.send)
            try:
                async for request in requests:
                    await session.handle(request)
            finally:
                session.close_all()
                group.cancel_scope.cancel()


class _WatchSession:
    def __init__(self, service: WatchService, group: anyio.abc.TaskGroup, send: Send) -> None:
        self._service = service
        self._group = group
        self._send = send
        self._watches: dict[int, tuple[WatchStream | None, anyio.CancelScope]] = {}
        self._next_id = 0

    def _header(self, revision: int) -> rpc_pb2.ResponseHeader:
        return self._service._identity.header(revision)

    async def handle(self, request: rpc_pb2.WatchRequest) -> None:
        match request.WhichOneof("request_union"):
            case "create_request":
                await self._create(request.create_request)
            case "cancel_request":
                await self._cancel(request.cancel_request.watch_id)
            case "progress_request":
                revision = await self._service._kv.current_revision()
                # etcd 3.4 answers a progress request with watch_id -1, for every watch.
                await self._send(rpc_pb2.WatchResponse(header=self._header(revision), watch_id=-1))
            case other:
                logger.debug("ignoring watch request %s", other)

    async def _create(self, create: rpc_pb2.WatchCreateRequest) -> None:
        revision = await self._service._kv.current_revision()
        watch_id = create.watch_id
        if watch_id and watch_id in self._watches:
            await self._refuse(revision, _DUPLICATE_ID)
            return
        if not watch_id:
            while self._next_id in self._watches:
                self._next_id += 1
            watch_id = self._next_id
            self._next_id += 1
        end = create.range_end
        if end and end != b"\0" and create.key >= end:
            await self._refuse(revision, _EMPTY_RANGE)
            return
        try:
            with store_errors():
                stream = await self._service._store.watch(
                    create.key,
                    range_end_of(create.range_end),
                    start_revision=max(create.start_revision, 0),
                    prev_kv=create.prev_kv,
                    no_put=_NOPUT in create.filters,
                    no_delete=_NODELETE in create.filters,
                    progress_notify=create.progress_notify,
                )
        except errors.EtcdError as error:
            await self._refuse(revision, error.message)
            return
        scope = anyio.CancelScope()
        self._watches[watch_id] = (stream, scope)
        await self._send(
            rpc_pb2.WatchResponse(header=self._header(revision), watch_id=watch_id, created=True)
        )
        self._group.start_soon(self._run, watch_id, stream, scope)

    async def _refuse(self, revision: int, reason: str) -> None:
        """etcd's answer to a watch it cannot create: created and canceled at once."""
        await self._send(
            rpc_pb2.WatchResponse(
                header=self._header(revision),
                watch_id=-1,
                created=True,
                canceled=True,
                cancel_reason=reason,
            )
        )

    async def _run(self, watch_id: int, stream: WatchStream, scope: anyio.CancelScope) -> None:
        with scope:
            try:
                async for batch in stream:
                    # An empty batch is a progress notification: nothing new up to revision.
                    await self._send(
                        rpc_pb2.WatchResponse(
                            header=self._header(stream.revision),
                            watch_id=watch_id,
                            events=[event_to_pb(event) for event in batch],
                        )
                    )
            except WatchCancelledError as error:
                self._watches.pop(watch_id, None)
                await self._send(
                    rpc_pb2.WatchResponse(
                        header=self._header(stream.revision),
                        watch_id=watch_id,
                        canceled=True,
                        compact_revision=error.compact_revision,
                        cancel_reason=(
                            errors.compacted().message if error.compact_revision else error.reason
                        ),
                    )
                )

    async def _cancel(self, watch_id: int) -> None:
        entry = self._watches.pop(watch_id, None)
        if entry is None:
            return  # etcd ignores a cancel of an unknown watch
        stream, scope = entry
        scope.cancel()
        if stream is not None:
            stream.close()
        revision = await self._service._kv.current_revision()
        await self._send(
            rpc_pb2.WatchResponse(header=self._header(revision), watch_id=watch_id, canceled=True)
        )

    def close_all(self) -> None:
        for stream, scope in self._watches.values():
            scope.cancel()
            if stream is not None:
                stream.close()
        self._watches.clear()
