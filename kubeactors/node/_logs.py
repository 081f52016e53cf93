"""Which of a container's log lines a `pods/log` request gets: the kubelet's part of
`sinceSeconds`/`sinceTime`, applied before `tailLines` as upstream's log reader does."""

from __future__ import annotations

from collections.abc import AsyncIterator

from .runtime._base import format_log_time

__all__ = ["follow_since", "lines_since", "since_stamp"]


def since_stamp(now: float, since_seconds: int | None, since_time: float | None) -> str | None:
    """The CRI timestamp a kept line must not precede, or None to keep every line.

    CRI stamps have a fixed width (nanoseconds, `Z`), so comparing them as strings
    orders them by time without parsing each line.
    """
    if since_time is not None:
        return format_log_time(since_time)
    if since_seconds is not None:
        return format_log_time(now - since_seconds)
    return None


def _keep(lines: list[str], since: str, timestamps: bool) -> list[str]:
    kept: list[str] = []
    for line in lines:
        stamp, _, text = line.partition(" ")
        if stamp >= since:
            kept.append(line if timestamps else text)
    return kept


def _tail(lines: list[str], tail: int | None) -> list[str]:
    if tail is None:
        return lines
    return lines[-tail:] if tail > 0 else []


def lines_since(lines: list[str], since: str, *, tail: int | None, timestamps: bool) -> list[str]:
    """`lines` (read with timestamps) written at `since` or later, the last `tail` of
    them, with their stamps only when `timestamps` asks for them."""
    return _tail(_keep(lines, since, timestamps), tail)


async def follow_since(
    batches: AsyncIterator[list[str]], since: str, *, tail: int | None, timestamps: bool
) -> AsyncIterator[list[str]]:
    """As `lines_since` for a followed log: the first batch (the lines so far) is cut to
    `tail`; later ones are filtered too, since `sinceTime` may lie in the future."""
    first = True
    try:
        async for lines in batches:
            kept = _keep(lines, since, timestamps)
            if first:
                kept, first = _tail(kept, tail), False
            yield kept
    finally:
        closing = getattr(batches, "aclose", None)
        if closing is not None:
            await closing()
