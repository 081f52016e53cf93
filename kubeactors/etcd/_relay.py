"""A store `WatchStream` fed by an etcd watch, resumed on another member without a gap."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
import grpc
import grpc.aio

from ..actors import Clock, Reply
from ..store import UnavailableError, Watch, WatchCancelledError, WatchStream
from ._endpoints import Endpoints, is_transient
from ._errors import to_store_error
from ._proto import rpc_pb2
from ._requests import event_from_pb, wire_key

__all__ = ["relay_watch"]

logger = logging.getLogger(__name__)

pb = rpc_pb2


async def _create_then_wait(create: pb.WatchCreateRequest) -> AsyncIterator[pb.WatchRequest]:
    """The request side of one etcd watch stream: the create, then nothing until the
    call ends (closing the request side early would read as the client leaving)."""
    yield pb.WatchRequest(create_request=create)
    await anyio.Event().wait()


async def relay_watch(
    endpoints: Endpoints, request: Watch, stream: WatchStream, clock: Clock
) -> None:
    """Answer `request.reply` with `stream` once etcd has created the watch, then feed
    it etcd's events until it closes.

    When the member serving the watch fails, the watch is created again on another
    member from the revision after the last event delivered (as clientv3 resumes), so
    the consumer sees every revision once and in order. A resume below etcd's
    compaction ends the stream with `WatchCancelledError` carrying the compact
    revision, as the embedded store does for a start below its compaction.
    """
    reply: Reply[WatchStream] | None = request.reply
    filters = []
    if request.no_put:
        filters.append(pb.WatchCreateRequest.NOPUT)
    if request.no_delete:
        filters.append(pb.WatchCreateRequest.NODELETE)
    next_revision = request.start_revision
    attempt = 0
    failing_since: float | None = None
    while not stream.closed:
        client = endpoints.pick()
        create = pb.WatchCreateRequest(
            key=wire_key(request.key, request.range_end),
            range_end=request.range_end or b"",
            start_revision=next_revision,
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
                    error = to_store_error(grpc.StatusCode.INVALID_ARGUMENT, response.cancel_reason)
                    if reply is not None:
                        reply.fail(error)
                        stream.close()
                    else:
                        stream.end(WatchCancelledError(response.cancel_reason))
                    return
                if response.created:
                    if not next_revision:
                        next_revision = revision + 1
                        stream.feed([], revision)
                    if reply is not None:
                        reply.send(stream)
                        reply = None
                    continue
                if response.canceled:
                    if response.compact_revision:
                        stream.end(
                            WatchCancelledError(
                                f"start revision {next_revision} is compacted",
                                response.compact_revision,
                            )
                        )
                        return
                    logger.info("etcd cancelled a watch: %s; resuming", response.cancel_reason)
                    break
                if response.events:
                    events = [event_from_pb(event) for event in response.events]
                    last = events[-1].kv.mod_revision
                    next_revision = last + 1
                    stream.feed(events, last)
                elif request.progress_notify and revision >= next_revision - 1:
                    stream.notify_progress(revision)
        except grpc.aio.AioRpcError as error:
            if not is_transient(error):
                failure = to_store_error(error.code(), error.details() or "")
                if reply is not None:
                    reply.fail(failure)
                    stream.close()
                else:
                    stream.end(WatchCancelledError(str(failure)))
                return
            endpoints.failed(client)
            now = clock.now()
            failing_since = now if failing_since is None else failing_since
            if now - failing_since >= endpoints.retry_for:
                failure = UnavailableError(f"no etcd member could serve the watch: {error}")
                if reply is not None:
                    reply.fail(failure)
                    stream.close()
                else:
                    stream.end(WatchCancelledError(str(failure)))
                return
            logger.info(
                "watch on %s failed (%s); resuming from revision %d",
                client.address,
                error.details(),
                next_revision,
            )
        finally:
            call.cancel()
        await endpoints.backoff(attempt)
        attempt += 1
