"""`UpdateMany`: many updates in one message to the API server, each one as if sent alone.

Simulated nodes renew thousands of Leases at the same moment. Sent one by one, each
renewal costs a message to the API server, a message to the store and a reply message
back, more than the update itself; sent together, they cost one of each. Nothing else
changes: the server handles every update of the batch in order as its own `Update`
(its own user, authorisation, admission, validation, resourceVersion check, revision
and watch event), and each fails or succeeds on its own (`ApiServer._update_many`).
This module holds the replies that gather the answers (compiled, as the replies
that subclass them in `_written`).
"""

from __future__ import annotations

from typing import Any

from ..actors import Reply

__all__ = ["BATCHED", "BatchAnswer", "BatchAnswers"]


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


class BatchAnswers:
    """Collects the answers of one `UpdateMany`; replies once all are in."""

    __slots__ = ("answers", "reply", "waiting")

    def __init__(self, count: int, reply: Reply[list[Any]]) -> None:
        self.answers: list[Any] = [None] * count
        self.waiting = count
        self.reply = reply


class BatchAnswer(Reply[Any]):
    """The reply of one update of a batch: its answer (the object written, or the
    error) goes to its place in the batch, and the last one in sends them all."""

    __slots__ = ("_answered", "_batch", "_index")

    def __init__(self, batch: BatchAnswers, index: int) -> None:
        self._batch = batch
        self._index = index
        self._answered = False

    @property
    def done(self) -> bool:
        return self._answered

    def send(self, value: Any) -> None:
        if not self._answered:
            self._answered = True
            batch = self._batch
            batch.answers[self._index] = value
            batch.waiting -= 1
            if batch.waiting == 0:
                batch.reply.send(batch.answers)

    def fail(self, error: BaseException) -> None:
        self.send(error)  # the error is the answer in its place
