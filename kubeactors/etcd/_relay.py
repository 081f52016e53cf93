"""Store `WatchStream`s fed by one etcd watch, resumed on another member without a gap."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import grpc
import grpc.aio

from ..actors import Clock, Reply
from ..store import Event, StoreError, UnavailableError, Watch, WatchCancelledError, WatchStream
from ._endpoints import Endpoints, is_transient
from ._errors import to_store_error
from ._proto import rpc_pb2
from ._requests import event_from_pb, wire_key

__all__ = ["WatchGroup", "relay_watch"]

logger = logging.getLogger(__name__)

pb = rpc_pb2


async def _create_then_wait(create: pb.WatchCreateRequest) -> AsyncIterator[pb.WatchRequest]:
    """The request side of one etcd watch stream: the create, then nothing until the
    call ends (closing the request side early would read as the client leaving)."""
    yield pb.WatchRequest(create_request=create)
    await anyio.Event().wait()


class WatchGroup:
    """The local streams one etcd watch feeds: watches of the same range and options
    share it (as kube-apiserver's watch cache shares one etcd watch per resource), so
    each etcd event crosses the wire once, however many watchers want it.

    A stream may join while the group's next revision is at or below its start (it
    drops the events before its start); its reply is answered once etcd has created
    the watch.
    """

    def __init__(self, start_revision: int) -> None:
        self.next_revision = start_revision
        self.created = False
        self.scope: anyio.CancelScope | None = None
        """The relay's scope: cancelled when the last stream leaves."""
        self._streams: dict[WatchStream, Reply[WatchStream] | None] = {}

    @property
    def closed(self) -> bool:
        return not self._streams

    def can_join(self, start_revision: int) -> bool:
        return bool(self._streams) and 0 < self.next_revision <= start_revision

    def join(self, stream: WatchStream, reply: Reply[WatchStream]) -> None:
        if self.created:
            reply.send(stream)
            self._streams[stream] = None
        else:
            self._streams[stream] = reply

    def leave(self, stream: WatchStream) -> None:
        self._streams.pop(stream, None)

    def on_created(self, revision: int, fresh: bool) -> None:
        self.created = True
        for stream, reply in list(self._streams.items()):
            if fresh:
                stream.feed([], revision)
            if reply is not None:
                self._streams[stream] = None
                reply.send(stream)

    def feed(self, events: list[Event], last: int) -> None:
        for stream in list(self._streams):
            stream.feed(events, last)

    def progress(self, revision: int) -> None:
        for stream in list(self._streams):
            if stream.progress_notify:
                stream.notify_progress(revision)

    def end(self, error: StoreError) -> None:
        """Fail the replies not yet answered with `error`; end the answered streams."""
        for stream, reply in list(self._streams.items()):
            if reply is not None:
                reply.fail(error)
                stream.close()
            elif isinstance(error, WatchCancelledError):
                stream.end(error)
            else:
                stream.end(WatchCancelledError(str(error)))
        self._streams.clear()


async def relay_watch(
    endpoints: Endpoints, request: Watch, group: WatchGroup, clock: Clock
) -> None:
    """Feed `group`'s streams etcd's events for `request` until none is left open,
    answering each stream's reply once etcd has created the watch.

    When the member serving the watch fails, the watch is created again on another
    member from the revision after the last event delivered (as clientv3 resumes), so
    the consumer sees every revision once and in order. A resume below etcd's
    compaction ends the stream with `WatchCancelledError` carrying the compact
    revision, as the embedded store does for a start below its compaction.
    """
    filters = []
    if request.no_put:
        filters.append(pb.WatchCreateRequest.NOPUT)
    if request.no_delete:
        filters.append(pb.WatchCreateRequest.NODELETE)
    attempt = 0
    failing_since: float | None = None
    while not group.closed:
        client = endpoints.pick()
        create = pb.WatchCreateRequest(
            key=wire_key(request.key, request.range_end),
            range_end=request.range_end or b"",
            start_revision=group.next_revision,
            prev_kv=request.prev_kv,
            progress_notify=request.progress_notify,
            filters=filters,
        )
        call: Any = client.watch(_create_then_wait(create))
        try:
            async for response in call:
                attempt, failing_since = 0, None
                revision = response.header.revision
                if response.created and response.canceled:
                    # etcd refused to create the watch (a bad range, say).
                    group.end(
                        to_store_error(grpc.StatusCode.INVALID_ARGUMENT, response.cancel_reason)
                    )
                    return
                if response.created:
                    fresh = not group.next_revision
                    if fresh:
                        group.next_revision = revision + 1
                    group.on_created(revision, fresh)
                    continue
                if response.canceled:
                    if response.compact_revision:
                        group.end(
                            WatchCancelledError(
                                f"start revision {group.next_revision} is compacted",
                                response.compact_revision,
                            )
                        )
                        return
                    logger.info("etcd cancelled a watch: %s; resuming", response.cancel_reason)
                    break
                if response.events:
                    events = [event_from_pb(event) for event in response.events]
                    last = events[-1].kv.mod_revision
                    group.next_revision = last + 1
                    group.feed(events, last)
                elif request.progress_notify and revision >= group.next_revision - 1:
                    group.progress(revision)
        except grpc.aio.AioRpcError as error:
            if not is_transient(error):
                group.end(to_store_error(error.code(), error.details() or ""))
                return
            endpoints.failed(client)
            now = clock.now()
            failing_since = now if failing_since is None else failing_since
            if now - failing_since >= endpoints.retry_for:
                group.end(UnavailableError(f"no etcd member could serve the watch: {error}"))
                return
            logger.info(
                "watch on %s failed (%s); resuming from revision %d",
                client.address,
                error.details(),
                group.next_revision,
            )
        finally:
            call.cancel()
        await endpoints.backoff(attempt)
        attempt += 1
