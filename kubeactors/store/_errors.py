"""The errors the store reports; each carries etcd's error `code` for comparison."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "CompactedError",
    "ConflictError",
    "DuplicateKeyError",
    "EmptyKeyError",
    "FutureRevisionError",
    "InvalidArgumentError",
    "KeyNotFoundError",
    "LeaseExistsError",
    "LeaseNotFoundError",
    "LeaseProvidedError",
    "RequestTooLargeError",
    "StoreError",
    "TooManyOpsError",
    "UnavailableError",
    "ValueProvidedError",
]


class StoreError(Exception):
    """Base of the errors the store reports to its callers."""

    code: ClassVar[str] = "store_error"


class ConflictError(StoreError):
    """A conditional write found the key at another revision than expected."""

    code = "conflict"

    def __init__(self, key: bytes, expected: int, actual: int) -> None:
        self.key = key
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"conflict on key {key!r}: expected mod_revision {expected}, found {actual}"
        )


class CompactedError(StoreError):
    """The requested revision has been compacted away."""

    code = "compacted"

    def __init__(self, requested: int, compact_revision: int) -> None:
        self.requested = requested
        self.compact_revision = compact_revision
        super().__init__(
            f"mvcc: required revision {requested} has been compacted "
            f"(compact revision {compact_revision})"
        )


class FutureRevisionError(StoreError):
    """The requested revision is above the current one."""

    code = "future_revision"

    def __init__(self, requested: int, current: int) -> None:
        self.requested = requested
        self.current = current
        super().__init__(
            f"mvcc: required revision {requested} is a future revision (current {current})"
        )


class EmptyKeyError(StoreError):
    code = "empty_key"

    def __init__(self, what: str = "key") -> None:
        super().__init__(f"{what} is not provided (empty key)")


class TooManyOpsError(StoreError):
    code = "too_many_ops"

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"too many operations in txn request: {count} > max_txn_ops {limit}")


class DuplicateKeyError(StoreError):
    code = "duplicate_key"

    def __init__(self, key: bytes) -> None:
        self.key = key
        super().__init__(f"duplicate key given in txn request: {key!r}")


class RequestTooLargeError(StoreError):
    code = "request_too_large"

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"request is too large: {size} bytes > max_request_bytes {limit}")


class LeaseNotFoundError(StoreError):
    code = "lease_not_found"

    def __init__(self, lease: int) -> None:
        self.lease = lease
        super().__init__(f"requested lease not found: {lease}")


class LeaseExistsError(StoreError):
    code = "lease_exists"

    def __init__(self, lease: int) -> None:
        super().__init__(f"lease already exists: {lease}")


class KeyNotFoundError(StoreError):
    """A put with ignore_value or ignore_lease on a key that does not exist."""

    code = "key_not_found"

    def __init__(self, key: bytes) -> None:
        super().__init__(f"key not found: {key!r} (ignore_value/ignore_lease need an existing key)")


class ValueProvidedError(StoreError):
    code = "value_provided"

    def __init__(self) -> None:
        super().__init__("value is provided while ignore_value is set")


class LeaseProvidedError(StoreError):
    code = "lease_provided"

    def __init__(self) -> None:
        super().__init__("lease is provided while ignore_lease is set")


class InvalidArgumentError(StoreError):
    """A field has a value the store cannot accept; the message names it."""

    code = "invalid_argument"


class UnavailableError(StoreError):
    """The store's backend (an etcd cluster) could not be reached or could not answer.

    `maybe_applied` is True when a write was sent and its outcome is unknown (the
    member failed before answering): read the key to learn whether it took effect.
    """

    code = "unavailable"

    def __init__(self, reason: str, *, maybe_applied: bool = False) -> None:
        self.reason = reason
        self.maybe_applied = maybe_applied
        outcome = "; the write may or may not have been applied" if maybe_applied else ""
        super().__init__(f"store unavailable: {reason}{outcome}")
