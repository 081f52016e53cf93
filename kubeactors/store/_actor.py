"""The store actor: an append-only revision log in SQLite with group commit."""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass
from pathlib import Path

import aiosqlite
import anyio

from ..actors import Actor, Reply
from ._keys import in_range
from ._messages import Delete, Get, Put, Range, StoreRequest, Watch
from ._types import (
    ConflictError,
    Event,
    EventType,
    KeyValue,
    RangeResult,
    StoreError,
    WriteResult,
)
from ._watch import WatchHub, WatchStream

__all__ = ["StoreActor"]

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS log (
    revision INTEGER PRIMARY KEY,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    create_revision INTEGER NOT NULL,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL
)
"""


@dataclass(slots=True)
class _PendingWrite:
    event: Event
    reply: Reply[WriteResult]


class StoreActor(Actor[StoreRequest]):
    """Owns the SQLite database; one revision per write, many writes per commit.

    Writes are checked and given their revision as they arrive, then committed by a
    background task in groups (one transaction for everything queued meanwhile).
    A write is acknowledged, published to watchers and made visible to reads only
    after its transaction commits, so a reader never sees what a crash could undo.
    """

    mailbox_size = 4096

    def __init__(self, path: str | Path, *, synchronous: str = "FULL") -> None:
        if synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {synchronous!r}")
        self._path = str(path)
        self._synchronous = synchronous
        self._db: aiosqlite.Connection | None = None
        self._revision = 0
        self._committed_revision = 0
        self._latest: dict[bytes, KeyValue] = {}
        self._committed: dict[bytes, KeyValue] = {}
        self._history: list[Event] = []
        self._history_revisions: list[int] = []
        self._pending: list[_PendingWrite] = []
        self._has_pending = anyio.Event()
        self._hub = WatchHub()

    async def on_start(self) -> None:
        db = await aiosqlite.connect(self._path)
        self._db = db
        await db.execute("PRAGMA journal_mode=WAL")
        await db.execute(f"PRAGMA synchronous={self._synchronous}")
        await db.execute(_SCHEMA)
        await db.commit()
        async with db.execute(
            "SELECT revision, key, value, create_revision, version, deleted FROM log "
            "ORDER BY revision"
        ) as cursor:
            async for revision, key, value, create_revision, version, deleted in cursor:
                self._replay(revision, key, value, create_revision, version, bool(deleted))
        self._committed = dict(self._latest)
        self._committed_revision = self._revision
        logger.info("store %s opened at revision %d", self._path, self._revision)
        self.context.start_soon(self._commit_loop, name="store-commit")

    async def on_stop(self) -> None:
        self._hub.close_all()
        for pending in self._pending:
            pending.reply.fail(StoreError("store stopped before the write committed"))
        self._pending.clear()
        if self._db is not None:
            await self._db.close()
            self._db = None

    def _replay(
        self,
        revision: int,
        key: bytes,
        value: bytes,
        create_revision: int,
        version: int,
        deleted: bool,
    ) -> None:
        kv = KeyValue(key, value, create_revision, revision, version)
        prev = self._latest.get(key)
        if deleted:
            self._latest.pop(key, None)
            event = Event(EventType.DELETE, kv, prev)
        else:
            self._latest[key] = kv
            event = Event(EventType.PUT, kv, prev)
        self._history.append(event)
        self._history_revisions.append(revision)
        self._revision = revision

    async def receive(self, message: StoreRequest) -> None:
        match message:
            case Put():
                self._put(message)
            case Delete():
                self._delete(message)
            case Get(key=key, reply=reply):
                reply.send(self._committed.get(key))
            case Range():
                self._range(message)
            case Watch():
                self._watch(message)

    def _check(self, key: bytes, expected: int | None, reply: Reply[WriteResult]) -> bool:
        if not key:
            reply.fail(StoreError("key is empty"))
            return False
        if expected is None:
            return True
        current = self._latest.get(key)
        actual = current.mod_revision if current is not None else 0
        if actual != expected:
            reply.fail(ConflictError(key, expected, actual))
            return False
        return True

    def _put(self, request: Put) -> None:
        if not self._check(request.key, request.expect_mod_revision, request.reply):
            return
        prev = self._latest.get(request.key)
        self._revision += 1
        kv = KeyValue(
            request.key,
            request.value,
            create_revision=prev.create_revision if prev else self._revision,
            mod_revision=self._revision,
            version=prev.version + 1 if prev else 1,
        )
        self._latest[request.key] = kv
        self._enqueue(Event(EventType.PUT, kv, prev), request.reply)

    def _delete(self, request: Delete) -> None:
        if not self._check(request.key, request.expect_mod_revision, request.reply):
            return
        prev = self._latest.pop(request.key, None)
        if prev is None:
            # Deleting a missing key changes nothing, so it takes no revision.
            request.reply.send(WriteResult(revision=self._committed_revision))
            return
        self._revision += 1
        tombstone = KeyValue(request.key, b"", 0, self._revision, 0)
        self._enqueue(Event(EventType.DELETE, tombstone, prev), request.reply)

    def _enqueue(self, event: Event, reply: Reply[WriteResult]) -> None:
        self._pending.append(_PendingWrite(event, reply))
        self._has_pending.set()

    def _range(self, request: Range) -> None:
        if request.limit < 0:
            request.reply.fail(StoreError(f"limit must not be negative, got {request.limit}"))
            return
        if request.range_end is None:
            found = self._committed.get(request.key)
            kvs = [found] if found is not None else []
        else:
            kvs = sorted(
                (
                    kv
                    for key, kv in self._committed.items()
                    if in_range(key, request.key, request.range_end)
                ),
                key=lambda kv: kv.key,
            )
        count = len(kvs)
        more = False
        if request.limit and count > request.limit:
            kvs = kvs[: request.limit]
            more = True
        request.reply.send(RangeResult(kvs, self._committed_revision, count, more))

    def _watch(self, request: Watch) -> None:
        stream = WatchStream(self._hub, request.key, request.range_end, request.capacity)
        backlog: list[Event] = []
        if request.start_revision:
            start = bisect.bisect_left(self._history_revisions, request.start_revision)
            backlog = self._history[start:]
        self._hub.add(stream, backlog)
        request.reply.send(stream)

    async def _commit_loop(self) -> None:
        while True:
            await self._has_pending.wait()
            self._has_pending = anyio.Event()
            batch, self._pending = self._pending, []
            await self._commit(batch)

    async def _commit(self, batch: list[_PendingWrite]) -> None:
        db = self._db
        assert db is not None
        rows = [
            (
                p.event.kv.mod_revision,
                p.event.kv.key,
                p.event.kv.value,
                p.event.kv.create_revision,
                p.event.kv.version,
                p.event.type is EventType.DELETE,
            )
            for p in batch
        ]
        await db.executemany("INSERT INTO log VALUES (?, ?, ?, ?, ?, ?)", rows)
        await db.commit()
        events = [p.event for p in batch]
        for event in events:
            if event.type is EventType.PUT:
                self._committed[event.kv.key] = event.kv
            else:
                self._committed.pop(event.kv.key, None)
            self._history.append(event)
            self._history_revisions.append(event.kv.mod_revision)
        self._committed_revision = events[-1].kv.mod_revision
        for pending in batch:
            event = pending.event
            kv = event.kv if event.type is EventType.PUT else None
            pending.reply.send(WriteResult(event.kv.mod_revision, event.prev_kv, kv))
        self._hub.publish(events)
