"""etcd's server errors: the gRPC status codes and messages its clients recognise.

Clients (etcdctl, clientv3, python-etcd3) match on the exact message text to turn
a status into a typed error, so the texts below are etcd's own
(api/v3rpc/rpctypes/error.go), not paraphrases.
"""

from __future__ import annotations

import grpc

from ..store import (
    CompactedError,
    DuplicateKeyError,
    EmptyKeyError,
    FutureRevisionError,
    InvalidArgumentError,
    KeyNotFoundError,
    LeaseExistsError,
    LeaseNotFoundError,
    LeaseProvidedError,
    RequestTooLargeError,
    StoreError,
    TooManyOpsError,
    ValueProvidedError,
)

__all__ = [
    "EtcdError",
    "compacted",
    "empty_key",
    "from_store_error",
    "future_revision",
    "invalid_argument",
    "lease_not_found",
    "lease_ttl_too_large",
    "request_too_large",
    "to_store_error",
    "unsupported",
]

_INVALID = grpc.StatusCode.INVALID_ARGUMENT


class EtcdError(Exception):
    """An error to send to the client as the gRPC status `code` with `message`."""

    def __init__(self, code: grpc.StatusCode, message: str, *, compact_revision: int = 0) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.compact_revision = compact_revision


def compacted(compact_revision: int = 0) -> EtcdError:
    return EtcdError(
        grpc.StatusCode.OUT_OF_RANGE,
        "etcdserver: mvcc: required revision has been compacted",
        compact_revision=compact_revision,
    )


def future_revision() -> EtcdError:
    return EtcdError(
        grpc.StatusCode.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision"
    )


def empty_key() -> EtcdError:
    return EtcdError(_INVALID, "etcdserver: key is not provided")


def invalid_argument(message: str) -> EtcdError:
    return EtcdError(_INVALID, f"etcdserver: {message}")


def lease_not_found() -> EtcdError:
    return EtcdError(grpc.StatusCode.NOT_FOUND, "etcdserver: requested lease not found")


def lease_ttl_too_large() -> EtcdError:
    return EtcdError(grpc.StatusCode.OUT_OF_RANGE, "etcdserver: too large lease TTL")


def request_too_large() -> EtcdError:
    return EtcdError(_INVALID, "etcdserver: request is too large")


def unsupported(feature: str) -> EtcdError:
    """A request this endpoint cannot serve because the store lacks `feature`."""
    return EtcdError(
        grpc.StatusCode.UNIMPLEMENTED, f"kubeactors: the store does not support {feature}"
    )


_BY_TYPE: dict[type[StoreError], tuple[grpc.StatusCode, str]] = {
    EmptyKeyError: (_INVALID, "etcdserver: key is not provided"),
    KeyNotFoundError: (_INVALID, "etcdserver: key not found"),
    ValueProvidedError: (_INVALID, "etcdserver: value is provided"),
    LeaseProvidedError: (_INVALID, "etcdserver: lease is provided"),
    TooManyOpsError: (_INVALID, "etcdserver: too many operations in txn request"),
    DuplicateKeyError: (_INVALID, "etcdserver: duplicate key given in txn request"),
    RequestTooLargeError: (_INVALID, "etcdserver: request is too large"),
    LeaseNotFoundError: (grpc.StatusCode.NOT_FOUND, "etcdserver: requested lease not found"),
    LeaseExistsError: (grpc.StatusCode.FAILED_PRECONDITION, "etcdserver: lease already exists"),
}


def from_store_error(error: StoreError) -> EtcdError:
    """The etcd error a client expects for a store error."""
    if isinstance(error, CompactedError):
        return compacted(error.compact_revision)
    if isinstance(error, FutureRevisionError):
        return future_revision()
    for error_type, (code, message) in _BY_TYPE.items():
        if isinstance(error, error_type):
            return EtcdError(code, message)
    # InvalidArgumentError and the rest: the store's message names the field at fault.
    code = _INVALID if error.code == "invalid_argument" else grpc.StatusCode.UNKNOWN
    return EtcdError(code, f"etcdserver: {error}")


def to_store_error(code: grpc.StatusCode, message: str, *, requested: int = 0) -> StoreError:
    """The store's error for etcd's status (the reverse of `from_store_error`), so that
    callers of an etcd-backed store see the same errors as with the embedded one.
    `requested` is the revision the request named, for the revision errors."""
    if "required revision has been compacted" in message:
        return CompactedError(requested, 0)
    if "required revision is a future revision" in message:
        return FutureRevisionError(requested, 0)
    for error_type, (_, text) in _BY_TYPE.items():
        if text in message:
            # etcd's message is the one to keep: it lacks the details the store's
            # own constructors want (the key, the limits).
            error = error_type.__new__(error_type)
            StoreError.__init__(error, message)
            return error
    if code == _INVALID or "too large lease TTL" in message:
        return InvalidArgumentError(message)
    return StoreError(f"etcd: {message} ({code.name})")
