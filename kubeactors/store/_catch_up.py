"""Watch catch-up: the events a new watch missed, read from SQLite in paced chunks."""

from __future__ import annotations

import logging

from ._memory import Log
from ._watch import WatchCancelledError, WatchHub, WatchStream

__all__ = ["catch_up"]

logger = logging.getLogger(__name__)


async def catch_up(
    db: Log, hub: WatchHub, stream: WatchStream, first: int, last: int, chunk: int
) -> None:
    """Deliver the events of revisions `first..last` to `stream`, then hand it to the
    live feed.

    Live events for it are held meanwhile, so nothing is lost or doubled between the
    two. Chunks are read only as the consumer makes room, and always end on a whole
    revision; a compaction past its position cancels it, as in etcd.
    """
    chunk = min(chunk, max(stream.capacity // 2, 1))
    try:
        while first <= last:
            if not await stream._wait_for_room():
                return
            events = await db.events(
                stream.key, stream.range_end, first, last, chunk, stream.prev_kv
            )
            if stream.closed:
                return
            if not events:
                break
            top = events[-1].kv.mod_revision
            if len(events) == chunk:
                complete = [e for e in events if e.kv.mod_revision < top]
                if not complete:
                    # One revision larger than a chunk: read it whole.
                    complete = await db.events(
                        stream.key, stream.range_end, top, top, 2**31, stream.prev_kv
                    )
                    top += 1
                events = complete
                first = top
            else:
                first = last + 1
            hub.deliver(stream, events, min(first - 1, last))
    except Exception as error:
        logger.exception("watch catch-up failed")
        stream._cancel(WatchCancelledError(f"catch-up failed: {error}"))
        return
    if not stream.closed:
        stream._advance(last)
        stream._release()
