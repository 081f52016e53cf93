"""The store actor: etcd's MVCC semantics over an in-memory index and a SQLite log."""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path
from typing import Any

import anyio

from ..actors import Actor, Reply, VirtualClock
from ._catch_up import catch_up
from ._db import Database, Row
from ._errors import (
    CompactedError,
    ConflictError,
    EmptyKeyError,
    FutureRevisionError,
    InvalidArgumentError,
    LeaseExistsError,
    LeaseNotFoundError,
    RequestTooLargeError,
    StoreError,
)
from ._index import KeyIndex
from ._lease import MAX_LEASE_TTL, ExpiryReply, LeaseTable
from ._memory import MEMORY, Log, MemoryLog
from ._messages import (
    Compact,
    Delete,
    DeleteRange,
    Get,
    LeaseGrant,
    LeaseKeepAlive,
    LeaseList,
    LeaseRevoke,
    LeaseTimeToLiveRequest,
    Put,
    PutMany,
    Range,
    Status,
    StoreRequest,
    StoreStatus,
    Tick,
    Txn,
    Watch,
)
from ._ops import DeleteOp, PutOp, RangeOp
from ._options import StoreOptions
from ._txn import Applier, check_put, check_range, check_txn, shape_range
from ._types import (
    DeleteResult,
    Event,
    EventType,
    KeyValue,
    LeaseGrantResult,
    LeaseTimeToLive,
    RangeResult,
    WriteResult,
)
from ._watch import WatchCancelledError, WatchHub, WatchStream

__all__ = ["StoreActor"]

logger = logging.getLogger(__name__)

_PUT = EventType.PUT


class _Pending:
    """One acknowledged-after-commit request: its events (empty: no revision taken).

    A plain class in this compiled module: mypyc makes it a native class, so the
    commit loop reads its fields as C struct loads (a msgspec Struct's go through
    `PyObject_GetAttr`, about ten times the instructions), once per write."""

    __slots__ = ("events", "leases_granted", "leases_removed", "reply", "result", "revision")

    def __init__(self, revision: int, events: list[Event], reply: Reply[Any], result: Any) -> None:
        self.revision = revision
        self.events = events
        self.reply = reply
        self.result = result
        # Tuples, empty for nearly every write: no lists allocated per request.
        self.leases_granted: tuple[tuple[int, int], ...] = ()
        self.leases_removed: tuple[int, ...] = ()


class StoreActor(Actor[StoreRequest]):
    """Owns the SQLite database; one revision per modifying request, many per commit.

    Requests are checked and applied to the in-memory index as they arrive, in
    mailbox order, then committed by a background task in groups (one transaction for
    everything queued meanwhile). A request is acknowledged, published to watchers and
    made visible to plain reads only after its transaction commits, so nobody sees
    what a crash could undo.

    With the path `":memory:"` (`MEMORY`) there is no database: commits cost nothing,
    history is the in-memory window only (older revisions are compacted as they leave
    it) and nothing survives the actor (see `MemoryLog`), for simulations.
    """

    mailbox_size = 4096

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "FULL",
        options: StoreOptions | None = None,
    ) -> None:
        if options is None:
            options = StoreOptions(synchronous=synchronous)
        self._path = str(path)
        self._options = options
        self._max_request_bytes = options.max_request_bytes  # read at every write
        self._db: Log | None = None
        self._memory = self._path == MEMORY
        self._index = KeyIndex()
        self._leases = LeaseTable()
        self._revision = 0
        self._committed_revision = 0
        self._compact_revision = 0
        self._compacted_through = 0
        self._history: deque[tuple[int, list[Event]]] = deque()
        self._history_events = 0
        self._pending: list[_Pending] = []
        self._meta: dict[str, int] = {}
        self._has_work = anyio.Event()
        self._rows_since_checkpoint = 0
        self._checkpoint_due = anyio.Event()
        self._hub = WatchHub()

    # Lifecycle.

    async def on_start(self) -> None:
        db: Log
        if self._memory:
            db = MemoryLog(self._index, self._history)
        else:
            # On a virtual clock the commit runs on the loop's thread (see `Database`).
            inline = isinstance(self.context.clock, VirtualClock)
            db = await Database.open(self._path, self._options.synchronous, inline=inline)
        self._db = db
        found = await db.recover()
        self._index.load(found.kvs)
        self._revision = self._committed_revision = found.revision
        self._compact_revision = found.compact_revision
        self._compacted_through = max(found.compacted_through, 0)
        now = self.context.clock.now()
        for lease_id, ttl in found.leases:
            self._leases.grant(lease_id, ttl, now)
        for kv in found.kvs:
            if kv.lease:
                self._leases.attach(kv.key, kv.lease)
        logger.info(
            "store %s opened at revision %d with %d keys",
            self._path,
            self._revision,
            len(found.kvs),
        )
        self.context.start_soon(self._commit_loop, name="store-commit")
        if not self._memory:
            self.context.start_soon(self._checkpoint_loop, name="store-checkpoint")
        self.context.send_every(self._options.lease_check_interval, Tick())
        self.context.send_every(self._options.progress_interval, Tick(progress=True))

    async def on_stop(self) -> None:
        self._hub.close_all()
        for pending in self._pending:
            pending.reply.fail(StoreError("store stopped before the write committed"))
        self._pending.clear()
        if self._db is not None:
            await self._db.close()
            self._db = None

    async def receive(self, message: StoreRequest) -> None:
        try:
            match message:
                case Put():
                    self._put(message)
                case PutMany():
                    self._put_many(message.puts)
                case Get(key=key, reply=reply):
                    reply.send(self._index.get(key))
                case Range():
                    self._range(message)
                case Delete():
                    self._delete(message)
                case DeleteRange():
                    self._delete_range(message)
                case Txn():
                    self._txn(message)
                case Watch():
                    self._watch(message)
                case Compact():
                    self._compact(message)
                case LeaseGrant():
                    self._lease_grant(message)
                case LeaseRevoke():
                    self._lease_revoke(message.id, message.reply)
                case LeaseKeepAlive():
                    self._lease_keep_alive(message)
                case LeaseTimeToLiveRequest():
                    self._lease_time_to_live(message)
                case LeaseList(reply=reply):
                    reply.send(self._leases.ids())
                case Status(reply=reply):
                    reply.send(
                        StoreStatus(
                            self._committed_revision,
                            self._compact_revision,
                            len(self._index),
                            len(self._hub),
                            len(self._leases),
                            self._compacted_through,
                        )
                    )
                case Tick(progress=True):
                    self._hub.progress(self._committed_revision)
                case Tick():
                    self._expire_leases()
        except StoreError as error:
            reply_of: Reply[Any] | None = getattr(message, "reply", None)
            if reply_of is None:
                raise
            reply_of.fail(error)

    # Writes: applied to the index now, acknowledged after commit.

    def _enqueue(self, applier: Applier | None, reply: Reply[Any], result: object) -> _Pending:
        events = applier.events if applier is not None else []
        if events:
            self._revision += 1
        pending = _Pending(self._revision, events, reply, result)
        self._pending.append(pending)
        self._has_work.set()
        return pending

    def _check_size(self, size: int) -> None:
        if size > self._max_request_bytes:
            raise RequestTooLargeError(size, self._max_request_bytes)

    def _check_expected(self, key: bytes, expected: int | None) -> None:
        if expected is None:
            return
        current = self._index.latest(key)
        actual = current.mod_revision if current is not None else 0
        if actual != expected:
            raise ConflictError(key, expected, actual)

    def _put(self, request: Put) -> None:
        self._apply_put(request)
        self._has_work.set()

    def _put_many(self, puts: list[Put]) -> None:
        for put in puts:
            try:
                self._apply_put(put)
            except StoreError as error:
                put.reply.fail(error)
        self._has_work.set()  # once for the message: the commit loop takes all at once

    def _apply_put(self, request: Put) -> None:
        """Check and apply one put to the index, its reply to come after the commit
        (the caller wakes the commit loop)."""
        key = request.key
        if request.lease or request.ignore_value or request.ignore_lease or not key:
            self._put_with_options(request)
            return
        # The common case (no lease, no ignore flags) without the txn machinery.
        value = request.value
        self._check_size(len(key) + len(value) + 16)
        index = self._index
        prev = index.latest(key)
        expected = request.expect_mod_revision
        if expected is not None:
            actual = prev.mod_revision if prev is not None else 0
            if actual != expected:
                raise ConflictError(key, expected, actual)
        revision = self._revision + 1
        if prev is None:
            kv = KeyValue(key, value, revision, revision, 1)
        else:
            kv = KeyValue(key, value, prev.create_revision, revision, prev.version + 1)
            if prev.lease:
                self._leases.detach(key, prev.lease)
        index.write(key, kv)
        self._revision = revision
        self._pending.append(
            _Pending(
                revision,
                [Event(_PUT, kv, prev)],
                request.reply,
                WriteResult(revision, prev, kv),
            )
        )

    def _put_with_options(self, request: Put) -> None:
        op = PutOp(
            request.key,
            request.value,
            request.lease,
            True,
            request.ignore_value,
            request.ignore_lease,
        )
        check_put(op)
        self._check_size(len(request.key) + len(request.value) + 16)
        self._check_expected(request.key, request.expect_mod_revision)
        applier = Applier(self._index, self._leases, self._revision + 1)
        applier.check_put(op, in_txn=False)
        applier.put(op)
        event = applier.events[0]
        self._enqueue(
            applier, request.reply, WriteResult(applier.revision, event.prev_kv, event.kv)
        )

    def _delete(self, request: Delete) -> None:
        if not request.key:
            raise EmptyKeyError()
        self._check_expected(request.key, request.expect_mod_revision)
        applier = Applier(self._index, self._leases, self._revision + 1)
        prev = self._index.latest(request.key)
        if prev is not None:
            applier.delete_one(prev)
        pending = self._enqueue(applier, request.reply, None)
        pending.result = WriteResult(pending.revision, prev, None)

    def _delete_range(self, request: DeleteRange) -> None:
        if not request.key and request.range_end is None:
            raise EmptyKeyError()
        applier = Applier(self._index, self._leases, self._revision + 1)
        result = applier.delete(DeleteOp(request.key, request.range_end, request.prev_kv))
        pending = self._enqueue(applier, request.reply, None)
        pending.result = DeleteResult(pending.revision, result.deleted, result.prev_kvs)

    def _txn(self, request: Txn) -> None:
        check_txn(request.txn, self._options.max_txn_ops, self._options.max_request_bytes)
        applier = Applier(self._index, self._leases, self._revision + 1)
        result = applier.run(request.txn)
        self._enqueue(applier, request.reply, result)

    # Reads: the committed state in memory, history from SQLite.

    def _range(self, request: Range) -> None:
        op = RangeOp(
            request.key,
            request.range_end,
            request.limit,
            request.revision,
            request.keys_only,
            request.count_only,
        )
        check_range(op)
        current = self._committed_revision
        revision = request.revision
        if revision > current:
            raise FutureRevisionError(revision, current)
        if revision and revision < self._compact_revision:
            raise CompactedError(revision, self._compact_revision)
        if revision in (0, current):
            if op.count_only:
                count = self._index.committed_count(op.key, op.range_end)
                request.reply.send(RangeResult([], current, count, False))
                return
            kvs = self._index.committed_range(op.key, op.range_end)
            request.reply.send(shape_range(kvs, op, current))
            return
        self.context.start_soon(lambda: self._historical_range(op, request.reply, current))

    async def _historical_range(self, op: RangeOp, reply: Reply[RangeResult], current: int) -> None:
        db = self._db
        assert db is not None
        try:
            kvs = await db.range_at(op.key, op.range_end, op.revision)
        except Exception as error:  # a failed read answers its asker, not the store
            logger.exception("historical range failed")
            reply.fail(StoreError(f"historical range failed: {error}"))
            return
        reply.send(shape_range(kvs, op, current))

    # Watches.

    def _watch(self, request: Watch) -> None:
        if not request.key and request.range_end is None:
            raise EmptyKeyError()
        if request.start_revision < 0:
            raise InvalidArgumentError(
                f"start_revision must not be negative, got {request.start_revision}"
            )
        current = self._committed_revision
        start = request.start_revision or current + 1
        stream = WatchStream(
            self._hub,
            request.key,
            request.range_end,
            request.capacity,
            start_revision=start,
            prev_kv=request.prev_kv,
            no_put=request.no_put,
            no_delete=request.no_delete,
            progress_notify=request.progress_notify,
        )
        stream.revision = stream._queued = current
        if start < self._compact_revision:
            stream._cancel(
                WatchCancelledError(f"start revision {start} is compacted", self._compact_revision)
            )
            request.reply.send(stream)
            return
        self._hub.add(stream)
        if start <= current:
            oldest = self._history[0][0] if self._history else current + 1
            if start >= oldest:
                events = [
                    event
                    for revision, batch in self._history
                    if revision >= start
                    for event in batch
                ]
                stream.revision = stream._queued = start - 1
                self._hub.deliver(stream, events, current)
            else:
                stream.revision = stream._queued = start - 1
                stream._hold()
                self.context.start_soon(lambda: self._catch_up(stream, start, current))
        request.reply.send(stream)

    async def _catch_up(self, stream: WatchStream, first: int, last: int) -> None:
        db = self._db
        assert db is not None
        await catch_up(db, self._hub, stream, first, last, self._options.catch_up_chunk)

    # Compaction.

    def _compact(self, request: Compact) -> None:
        revision = request.revision
        if revision > self._revision:
            raise FutureRevisionError(revision, self._revision)
        if revision <= self._compact_revision:
            raise CompactedError(revision, self._compact_revision)
        self._compact_to(revision)
        self._enqueue(None, request.reply, revision)

    def _compact_to(self, revision: int) -> None:
        """Move the compaction point; the next commit records it, and the commit loop
        then removes the history below it step by step between groups of writes."""
        self._compact_revision = revision
        self._meta["compact_revision"] = revision
        self._meta["revision"] = self._revision
        for stream in self._hub.streams():
            if stream.catching_up and stream._queued + 1 < revision:
                stream._cancel(
                    WatchCancelledError(f"compacted at {revision} during catch-up", revision)
                )

    def _auto_compact(self) -> None:
        keep = self._options.auto_compact_keep
        if keep and self._committed_revision - self._compact_revision >= 2 * keep:
            self._compact_to(self._committed_revision - keep)
            logger.debug("auto-compaction to revision %d", self._compact_revision)

    # Leases.

    def _lease_grant(self, request: LeaseGrant) -> None:
        if request.ttl > MAX_LEASE_TTL:
            raise InvalidArgumentError(f"ttl {request.ttl} is above the maximum {MAX_LEASE_TTL}")
        if request.id < 0:
            raise InvalidArgumentError(f"lease id must not be negative, got {request.id}")
        lease_id = request.id
        if lease_id in self._leases:
            raise LeaseExistsError(lease_id)
        while not lease_id or lease_id in self._leases:
            lease_id = self.context.random.randrange(1, 2**62)
        ttl = max(request.ttl, self._options.min_lease_ttl)
        self._leases.grant(lease_id, ttl, self.context.clock.now())
        pending = self._enqueue(None, request.reply, None)
        pending.result = LeaseGrantResult(lease_id, ttl, pending.revision)
        pending.leases_granted = ((lease_id, ttl),)

    def _lease_revoke(self, lease_id: int, reply: Reply[int]) -> None:
        lease = self._leases.get(lease_id)
        if lease is None:
            raise LeaseNotFoundError(lease_id)
        applier = Applier(self._index, self._leases, self._revision + 1)
        for key in sorted(lease.keys):
            prev = self._index.latest(key)
            if prev is not None:
                applier.delete_one(prev)
        self._leases.remove(lease_id)
        pending = self._enqueue(applier, reply, None)
        pending.result = pending.revision
        pending.leases_removed = (lease_id,)

    def _lease_keep_alive(self, request: LeaseKeepAlive) -> None:
        lease = self._leases.get(request.id)
        if lease is None:
            raise LeaseNotFoundError(request.id)
        lease.expiry = self.context.clock.now() + lease.ttl
        request.reply.send(lease.ttl)

    def _lease_time_to_live(self, request: LeaseTimeToLiveRequest) -> None:
        lease = self._leases.get(request.id)
        if lease is None:
            request.reply.send(LeaseTimeToLive(request.id, -1, 0))
            return
        keys = sorted(lease.keys) if request.keys else []
        remaining = lease.remaining(self.context.clock.now())
        request.reply.send(LeaseTimeToLive(request.id, remaining, lease.ttl, keys))

    def _expire_leases(self) -> None:
        for lease_id in self._leases.expired(self.context.clock.now()):
            logger.debug("lease %d expired", lease_id)
            self._lease_revoke(lease_id, ExpiryReply())

    # The commit path.

    async def _commit_loop(self) -> None:
        while True:
            if self._pending:
                batch, self._pending = self._pending, []
                meta, self._meta = self._meta, {}
                self._index.seal()
                await self._commit(batch, meta)
            elif self._compacted_through < self._compact_revision:
                await self._compact_step()
            else:
                await self._has_work.wait()
                self._has_work = anyio.Event()

    async def _commit(self, batch: list[_Pending], meta: dict[str, int]) -> None:
        db = self._db
        assert db is not None
        rows: list[Row] = []
        granted: list[tuple[int, int]] = []
        removed: list[int] = []
        for pending in () if self._memory else batch:
            for sub, event in enumerate(pending.events):
                kv = event.kv
                rows.append(
                    (
                        kv.mod_revision,
                        sub,
                        kv.key,
                        kv.value,
                        kv.create_revision,
                        kv.version,
                        kv.lease,
                    )
                )
            if pending.leases_granted:
                granted.extend(pending.leases_granted)
            if pending.leases_removed:
                removed.extend(pending.leases_removed)
        try:
            await db.write(rows, granted, removed, meta)
        except BaseException as error:
            for pending in batch:
                pending.reply.fail(StoreError(f"commit failed: {error!r}"))
            raise
        self._index.commit_oldest()
        self._rows_since_checkpoint += len(rows) + 1
        if self._rows_since_checkpoint >= self._options.checkpoint_rows:
            self._rows_since_checkpoint = 0
            self._checkpoint_due.set()
        events: list[Event] = []
        history = self._history
        for pending in batch:
            taken = pending.events
            if taken:
                events.extend(taken)
                history.append((pending.revision, taken))
        self._history_events += len(events)
        self._trim_history()
        self._committed_revision = batch[-1].revision
        self._auto_compact()
        for pending in batch:
            pending.reply.send(pending.result)
        if events:
            self._hub.publish(events, self._committed_revision)

    async def _checkpoint_loop(self) -> None:
        db = self._db
        assert db is not None
        while True:
            await self._checkpoint_due.wait()
            self._checkpoint_due = anyio.Event()
            await db.checkpoint()

    def _trim_history(self) -> None:
        """Drop the oldest revisions from the window until it holds at most
        `history_window` events (always the newest revision)."""
        history = self._history
        excess = self._history_events - self._options.history_window
        if excess <= 0:
            return
        popleft = history.popleft
        kept = len(history)
        while excess > 0 and len(history) > 1:
            excess -= len(popleft()[1])
        self._history_events = self._options.history_window + excess
        if self._memory and len(history) < kept and history[0][0] > self._compact_revision:
            # What left the window is gone: compacted, with nothing to remove.
            self._compact_revision = self._compacted_through = history[0][0]

    async def _compact_step(self) -> None:
        db = self._db
        assert db is not None
        first = self._compacted_through + 1
        last = min(first + self._options.compaction_step - 1, self._compact_revision)
        await db.compact_step(self._compact_revision, first, last)
        self._compacted_through = last
        if last == self._compact_revision:
            logger.info("store %s compacted through revision %d", self._path, last)
