"""Kubernetes timestamps (RFC 3339, seconds) to and from `datetime`."""

from __future__ import annotations

from datetime import UTC, datetime

from ..api import format_time

__all__ = ["format_time", "parse_time"]


def parse_time(text: str | None) -> datetime | None:
    """Parse a timestamp Kubernetes wrote; None for a missing or malformed one."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
