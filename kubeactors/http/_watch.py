"""Watch responses: newline-delimited JSON `{type, object}` events, streamed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from ..actors import Clock
from ..api import ApiError, ApiWatch, ResourceKind
from ._metrics import Metrics
from ._table import table

__all__ = ["WatchOptions", "Watches", "watch_events"]

logger = logging.getLogger(__name__)

_encoder = msgspec.json.Encoder()


class WatchOptions(msgspec.Struct, frozen=True):
    """How one watch request wants its events."""

    table_version: str | None = None
    include_object: str = "Metadata"
    timeout: float | None = None


class Watches:
    """The watches open on one server, so that a shutdown can end them all at once."""

    def __init__(self) -> None:
        self._open: set[ApiWatch[Any]] = set()
        self.closed = False

    def add(self, watch: ApiWatch[Any]) -> None:
        if self.closed:
            watch.close()
        self._open.add(watch)

    def discard(self, watch: ApiWatch[Any]) -> None:
        self._open.discard(watch)

    def close_all(self) -> None:
        self.closed = True
        for watch in list(self._open):
            watch.close()

    def __len__(self) -> int:
        return len(self._open)


def _line(kind: str, obj: Any) -> bytes:
    return b'{"type":"' + kind.encode() + b'","object":' + _encoder.encode(obj) + b"}\n"


async def watch_events(
    kind: ResourceKind[Any],
    watch: ApiWatch[Any],
    options: WatchOptions,
    *,
    watches: Watches,
    metrics: Metrics,
    clock: Clock,
    wall_clock: Callable[[], datetime],
) -> AsyncIterator[bytes]:
    """The body of a watch response: one JSON line per event, until the watch ends.

    Ends after `options.timeout` seconds (the client's `timeoutSeconds`), when the
    server shuts down, or with an ERROR event carrying a 410 Expired `Status` when the
    store can no longer serve the watch (the client relists).
    """
    watches.add(watch)
    metrics.watches_open[kind.kind] += 1
    timer = clock.call_later(options.timeout, watch.close) if options.timeout else None
    first_table = True
    try:
        async for batch in watch:
            lines = []
            for event in batch:
                obj: Any = event.object
                if options.table_version:
                    builtins: Mapping[str, Any] = msgspec.to_builtins(obj)
                    obj = table(
                        kind,
                        [builtins],
                        wall_clock(),
                        version=options.table_version,
                        include_object=options.include_object,
                        with_columns=first_table,
                    )
                    first_table = False
                lines.append(_line(event.type, obj))
            if lines:
                metrics.watch_events[kind.kind] += len(lines)
                yield b"".join(lines)
    except ApiError as error:
        yield _line("ERROR", error.status)
    finally:
        if timer is not None:
            timer.cancel()
        watch.close()
        watches.discard(watch)
        metrics.watches_open[kind.kind] -= 1
