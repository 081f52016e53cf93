"""etcd's key-range conventions."""

from __future__ import annotations

__all__ = ["in_range", "prefix_end"]


def prefix_end(prefix: bytes) -> bytes:
    """The `range_end` that selects every key starting with `prefix` (etcd's convention).

    An empty prefix, or one of only 0xff bytes, selects every key: range_end `b"\\0"`.
    """
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return b"\0"
    return stripped[:-1] + bytes([stripped[-1] + 1])


def in_range(key: bytes, start: bytes, end: bytes | None) -> bool:
    """Whether `key` lies in etcd's range `[start, end)`.

    `end` None means the single key `start`; `b"\\0"` means every key from `start` on.
    """
    if end is None:
        return key == start
    if end == b"\0":
        return key >= start
    return start <= key < end
