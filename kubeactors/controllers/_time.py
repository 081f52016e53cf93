"""Kubernetes timestamps (RFC 3339, seconds) to and from `datetime`."""

from __future__ import annotations

from ..api import format_time, parse_time

__all__ = ["format_time", "parse_time"]
