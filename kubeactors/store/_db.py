"""The store's SQLite schema and every statement it runs.

`kv` holds one row per key change: a put, or a tombstone (`version` 0) for a delete.
A transaction writes all its rows at one `revision`, told apart by `sub`. The index on
`(key, revision)` serves historical reads; the primary key serves watch catch-up,
recovery and compaction, which all walk revisions in order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence

import aiosqlite
import anyio

from ._types import Event, EventType, KeyValue

__all__ = ["Database", "Recovered", "Row"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    revision INTEGER NOT NULL,
    sub INTEGER NOT NULL,
    key BLOB NOT NULL,
    value BLOB NOT NULL,
    create_revision INTEGER NOT NULL,
    version INTEGER NOT NULL,
    lease INTEGER NOT NULL,
    PRIMARY KEY (revision, sub)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_key ON kv (key, revision);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lease (id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL);
"""

Row = tuple[int, int, bytes, bytes, int, int, int]
"""(revision, sub, key, value, create_revision, version, lease)."""

_COLUMNS = "revision, key, value, create_revision, version, lease"


class Recovered:
    """What opening the database found."""

    def __init__(self) -> None:
        self.kvs: list[KeyValue] = []
        self.revision = 0
        self.compact_revision = 0
        self.compacted_through = 0
        self.leases: list[tuple[int, int]] = []


def _kv(row: Sequence[object]) -> KeyValue:
    revision, key, value, create_revision, version, lease = row
    return KeyValue(key, value, create_revision, revision, version, lease)  # type: ignore[arg-type]


def _key_filter(start: bytes, end: bytes | None) -> tuple[str, tuple[bytes, ...]]:
    if end is None:
        return "key = ?", (start,)
    if end == b"\0":
        return "key >= ?", (start,)
    return "key >= ? AND key < ?", (start, end)


class Database:
    """The store's two SQLite connections, used by the store actor only.

    The writer is a plain sqlite3 connection driven through one worker thread at a
    time: a group commit (inserts, lease and meta rows, COMMIT) is a single thread
    hop. The reader (aiosqlite) serves recovery, historical reads and watch catch-up,
    which see committed data only, as they should, and runs the WAL checkpoints,
    which would otherwise stall a commit now and then.

    With `inline`, the writer runs on the event loop's thread instead, checkpoints
    included: for a store on a virtual clock, which stands still until a commit is
    done whichever thread does it, the hop would only add a thread switch and the
    clock's wait for the thread.
    """

    def __init__(
        self, writer: sqlite3.Connection, reader: aiosqlite.Connection, *, inline: bool = False
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._one_writer = anyio.CapacityLimiter(1)
        self._inline = inline

    async def _run_writer(self, transaction: Callable[[], None]) -> None:
        if self._inline:
            transaction()
        else:
            await anyio.to_thread.run_sync(transaction, limiter=self._one_writer)

    @classmethod
    async def open(cls, path: str, synchronous: str, *, inline: bool = False) -> Database:
        def connect() -> sqlite3.Connection:
            writer = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            writer.execute("PRAGMA journal_mode=WAL")
            writer.execute(f"PRAGMA synchronous={synchronous}")
            writer.execute("PRAGMA wal_autocheckpoint=0")
            writer.executescript(_SCHEMA)
            return writer

        writer = await anyio.to_thread.run_sync(connect)
        reader = await aiosqlite.connect(path)
        await reader.execute(f"PRAGMA synchronous={synchronous}")
        return cls(writer, reader, inline=inline)

    async def close(self) -> None:
        await self._reader.close()
        await anyio.to_thread.run_sync(self._writer.close, limiter=self._one_writer)

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the database without blocking writers."""
        if self._inline:
            self._writer.execute("PRAGMA wal_checkpoint(PASSIVE)")
            return
        await self._reader.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def recover(self) -> Recovered:
        found = Recovered()
        db = self._reader
        async with db.execute("SELECT name, value FROM meta") as cursor:
            meta = {str(name): int(value) async for name, value in cursor}
        found.compacted_through = meta.get("compacted_through", 0)
        # History removed is compacted, even if the point itself was not yet recorded.
        found.compact_revision = max(meta.get("compact_revision", 0), found.compacted_through)
        async with db.execute("SELECT max(revision) FROM kv") as cursor:
            row = await cursor.fetchone()
        top = int(row[0]) if row is not None and row[0] is not None else 0
        # Compaction may remove the newest tombstones; the compact point still counts.
        found.revision = max(top, found.compact_revision, meta.get("revision", 0))
        async with db.execute(
            "SELECT max(revision), key, value, create_revision, version, lease FROM kv GROUP BY key"
        ) as cursor:
            async for row in cursor:
                if row[4]:
                    found.kvs.append(_kv(row))
        async with db.execute("SELECT id, ttl FROM lease") as cursor:
            found.leases = [(int(i), int(t)) async for i, t in cursor]
        # End the read transaction so the WAL can be checkpointed.
        await db.commit()
        return found

    async def write(
        self,
        rows: Sequence[Row],
        leases_granted: Iterable[tuple[int, int]],
        leases_removed: Iterable[int],
        meta: dict[str, int],
    ) -> None:
        """Write one group of transactions and commit: durable when this returns."""
        granted = list(leases_granted)
        removed = [(lease,) for lease in leases_removed]
        writer = self._writer

        def transaction() -> None:
            writer.execute("BEGIN")
            try:
                if rows:
                    writer.executemany("INSERT INTO kv VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                if granted:
                    writer.executemany("INSERT OR REPLACE INTO lease VALUES (?, ?)", granted)
                if removed:
                    writer.executemany("DELETE FROM lease WHERE id = ?", removed)
                if meta:
                    writer.executemany(
                        "INSERT OR REPLACE INTO meta VALUES (?, ?)", list(meta.items())
                    )
                writer.execute("COMMIT")
            except BaseException:
                writer.execute("ROLLBACK")
                raise

        await self._run_writer(transaction)

    async def range_at(self, start: bytes, end: bytes | None, revision: int) -> list[KeyValue]:
        """The live keys in the range as of `revision` (which must not be compacted)."""
        where, params = _key_filter(start, end)
        sql = (
            f"SELECT max(revision), key, value, create_revision, version, lease FROM kv "
            f"WHERE {where} AND revision <= ? GROUP BY key ORDER BY key"
        )
        async with self._reader.execute(sql, (*params, revision)) as cursor:
            rows = await cursor.fetchall()
        return [_kv(row) for row in rows if row[4]]

    async def events(
        self,
        start: bytes,
        end: bytes | None,
        first: int,
        last: int,
        limit: int,
        with_prev: bool,
    ) -> list[Event]:
        """The changes in the key range at revisions `first..last`, oldest first, at
        most `limit` rows (the caller continues after the last revision it got)."""
        where, params = _key_filter(start, end)
        where = where.replace("key", "k.key")
        if with_prev:
            sql = (
                "SELECT k.revision, k.key, k.value, k.create_revision, k.version, k.lease, "
                "p.revision, p.key, p.value, p.create_revision, p.version, p.lease "
                "FROM kv AS k LEFT JOIN kv AS p ON p.key = k.key AND p.revision = "
                "(SELECT max(revision) FROM kv WHERE key = k.key AND revision < k.revision) "
                f"WHERE k.revision >= ? AND k.revision <= ? AND {where} "
                "ORDER BY k.revision, k.sub LIMIT ?"
            )
        else:
            sql = (
                "SELECT k.revision, k.key, k.value, k.create_revision, k.version, k.lease "
                f"FROM kv AS k WHERE k.revision >= ? AND k.revision <= ? AND {where} "
                "ORDER BY k.revision, k.sub LIMIT ?"
            )
        async with self._reader.execute(sql, (first, last, *params, limit)) as cursor:
            rows = await cursor.fetchall()
        events: list[Event] = []
        for row in rows:
            kv = _kv(row[:6])
            prev = _kv(row[6:]) if with_prev and row[6] is not None and row[10] else None
            kind = EventType.PUT if kv.version else EventType.DELETE
            events.append(Event(kind, kv, prev))
        return events

    async def compact_step(self, compact_revision: int, first: int, last: int) -> None:
        """Remove, among revisions `first..last` (all <= `compact_revision`), every row
        superseded at or below the compact point, and every tombstone; then record the
        progress in the same transaction so a restart resumes where this stopped."""
        writer = self._writer

        def transaction() -> None:
            writer.execute("BEGIN")
            try:
                writer.execute(
                    "DELETE FROM kv WHERE revision >= ? AND revision <= ? AND (version = 0 "
                    "OR EXISTS (SELECT 1 FROM kv AS newer WHERE newer.key = kv.key "
                    "AND newer.revision > kv.revision AND newer.revision <= ?))",
                    (first, last, compact_revision),
                )
                writer.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('compacted_through', ?)", (last,)
                )
                writer.execute("COMMIT")
            except BaseException:
                writer.execute("ROLLBACK")
                raise

        await self._run_writer(transaction)
