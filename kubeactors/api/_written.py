"""The replies that turn the store's answers to the API server's writes into the
API's: the object at its new version, or the error as the API words it.

Compiled, as `Reply` is: the store's commit calls their `send` and they call the
server's `_written`, natively both.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import msgspec

from ..actors import Reply
from ..store import CompactedError, ConflictError, RequestTooLargeError, WriteResult
from ._kinds import ResourceKind, UnknownKindError
from ._messages import Create
from ._meta import ApiObject
from ._status import ApiError, bad_request, internal_error
from ._update_many import BatchAnswer, BatchAnswers

if TYPE_CHECKING:
    from ._server import ApiServer

__all__ = [
    "BatchWrittenReply",
    "CreatedReply",
    "WrittenReply",
    "ignored_reply",
    "store_failure",
    "update_failure",
]

logger = logging.getLogger(__name__)

replace = msgspec.structs.replace


class WrittenReply(Reply[WriteResult]):
    """The store's answer to an update's write, turned into the caller's: the object
    at its new version, or the error as the API words it. (A class, not a forwarding
    reply and two closures: one is made for every update.)"""

    __slots__ = ("_key", "_kind", "_server", "_stored", "_upstream")

    def __init__(
        self,
        server: ApiServer,
        kind: ResourceKind[Any],
        key: bytes,
        stored: ApiObject,
        upstream: Reply[Any],
    ) -> None:
        self._server = server
        self._kind = kind
        self._key = key
        self._stored = stored
        self._upstream = upstream

    @property
    def done(self) -> bool:
        return self._upstream.done

    def send(self, value: WriteResult) -> None:
        try:
            written = self._server._written(self._kind, self._key, value.revision, self._stored)
        except Exception as error:
            self._upstream.fail(error)
            return
        self._upstream.send(written)

    def fail(self, error: BaseException) -> None:
        self._upstream.fail(update_failure(self._kind, self._stored.metadata.name, error))


class BatchWrittenReply(BatchAnswer):
    """The store's answer to the write of an update of a batch, turned into the
    caller's (as `WrittenReply`) and put in its place in the batch (as the
    `BatchAnswer` it is). One object, not a `WrittenReply` forwarding to a
    `BatchAnswer`: one is made for every Lease renewal and node status post."""

    __slots__ = ("_key", "_kind", "_server", "_stored")

    def __init__(
        self,
        server: ApiServer,
        kind: ResourceKind[Any],
        key: bytes,
        stored: ApiObject,
        batch: BatchAnswers,
        index: int,
    ) -> None:
        # `BatchAnswer.__init__`'s fields set here, without a second call per update.
        self._batch = batch
        self._index = index
        self._answered = False
        self._server = server
        self._kind = kind
        self._key = key
        self._stored = stored

    def send(self, value: Any) -> None:
        try:
            written = self._server._written(self._kind, self._key, value.revision, self._stored)
        except Exception as error:
            written = error  # the error is the answer in its place
        BatchAnswer.send(self, written)

    def fail(self, error: BaseException) -> None:
        BatchAnswer.send(self, update_failure(self._kind, self._stored.metadata.name, error))


class CreatedReply(WrittenReply):
    """The store's answer to a create's write, turned into the caller's: the object
    at its first version; a name taken already is AlreadyExists, or (for a generated
    name with attempts left) the create again under a new name."""

    __slots__ = ("_generated", "_request")

    def __init__(
        self,
        server: ApiServer,
        kind: ResourceKind[Any],
        key: bytes,
        stored: ApiObject,
        request: Create,
        generated: bool,
    ) -> None:
        super().__init__(server, kind, key, stored, request.reply)
        self._request = request
        self._generated = generated

    def fail(self, error: BaseException) -> None:
        request = self._request
        if not isinstance(error, ConflictError):
            request.reply.fail(store_failure(error))
            return
        if self._generated and request.name_attempts > 1:
            retry = replace(request, name_attempts=request.name_attempts - 1)
            if self._server.context.self.try_tell(retry):
                return
        request.reply.fail(ApiError.already_exists(self._kind.plural, self._stored.metadata.name))


def update_failure(kind: ResourceKind[Any], name: str, error: BaseException) -> BaseException:
    """A store error as an update's answer: a conflict on a key gone is NotFound."""
    if isinstance(error, ConflictError):
        if error.actual == 0:
            return ApiError.not_found(kind.plural, name)
        return ApiError.conflict(kind.plural, name)
    return store_failure(error)


class IgnoredReply(Reply[Any]):
    """The reply of a background write nobody waits for: a failure is logged."""

    __slots__ = ("_done",)

    def __init__(self) -> None:
        self._done = False

    @property
    def done(self) -> bool:
        return self._done

    def send(self, value: Any) -> None:
        self._done = True

    def fail(self, error: BaseException) -> None:
        self._done = True
        logger.info("a background write failed: %s", error)


def ignored_reply() -> Reply[Any]:
    return IgnoredReply()


def store_failure(error: BaseException) -> BaseException:
    """A store error as the API words it."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, CompactedError):
        return ApiError.expired(str(error))
    if isinstance(error, RequestTooLargeError):
        return ApiError.too_large(str(error))
    if isinstance(error, UnknownKindError):
        return bad_request(str(error))
    logger.warning("store request failed: %r", error)
    return internal_error(f"storage error: {error}")
