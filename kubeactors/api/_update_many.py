"""`UpdateMany`: many updates in one message to the API server, each one as if sent alone.

Simulated nodes renew thousands of Leases at the same moment. Sent one by one, each
renewal costs a message to the API server and a reply message back, more than the
update itself; sent together, they cost one of each. Nothing else changes: every
update in the batch goes through the server's `receive` in order, as its own
`Update` (its own user, authorisation, admission, validation, resourceVersion check,
revision and watch event), and fails or succeeds on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from ..actors import Reply
from ._messages import UpdateMany

if TYPE_CHECKING:
    from ._server import ApiServer

__all__ = ["BATCHED", "update_many"]


class _Batched(Reply[Any]):
    """The placeholder reply of an update sent in a batch: the batch answers for it."""

    __slots__ = ()

    def __init__(self) -> None:
        pass

    @property
    def done(self) -> bool:
        return False

    def send(self, value: Any) -> None:
        raise RuntimeError("an update of a batch is answered through the batch's reply")

    def fail(self, error: BaseException) -> None:
        raise RuntimeError("an update of a batch is answered through the batch's reply")


BATCHED: Reply[Any] = _Batched()
"""The `reply` to give each `Update` of an `UpdateMany`."""


class _Batch:
    """Collects the answers of one `UpdateMany`; replies once all are in."""

    __slots__ = ("answers", "reply", "waiting")

    def __init__(self, count: int, reply: Reply[list[Any]]) -> None:
        self.answers: list[Any] = [None] * count
        self.waiting = count
        self.reply = reply

    def answer(self, index: int, value: object) -> None:
        self.answers[index] = value
        self.waiting -= 1
        if self.waiting == 0:
            self.reply.send(self.answers)


class _Answer(Reply[Any]):
    """The reply of one update of a batch: its answer goes to its place in the batch."""

    __slots__ = ("_answered", "_batch", "_index")

    def __init__(self, batch: _Batch, index: int) -> None:
        self._batch = batch
        self._index = index
        self._answered = False

    @property
    def done(self) -> bool:
        return self._answered

    def send(self, value: Any) -> None:
        self._complete(value)

    def fail(self, error: BaseException) -> None:
        self._complete(error)

    def _complete(self, answer: object) -> None:
        if not self._answered:
            self._answered = True
            self._batch.answer(self._index, answer)


async def update_many(server: ApiServer, request: UpdateMany) -> None:
    """Hand each update of `request` to `server.receive`, as if it came alone."""
    updates = request.updates
    if not updates:
        request.reply.send([])
        return
    batch = _Batch(len(updates), request.reply)
    for index, update in enumerate(updates):
        await server.receive(msgspec.structs.replace(update, reply=_Answer(batch, index)))
