"""The heartbeat hub's messages.

Interpreted on purpose: the hub is compiled with mypyc, which drops a msgspec Struct's
class keywords (`frozen=True`) when it compiles the module that defines it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from ..actors import ActorRef
from ..api import Node

__all__ = ["Track", "Untrack", "_Answered", "_Lost", "_Renewed", "_Tick"]


class Track(msgspec.Struct, frozen=True):
    """Heartbeat for `node` from now on; `kubelet` is asked for its status periodically.

    With `status` (the kubelet's own, read only: the Node as it would post it now,
    or None), the hub posts that status itself, in one batch with the other nodes'
    of the tick, each still its own update by its own node, instead of cueing the
    kubelet to post it alone.
    """

    node: str
    kubelet: ActorRef[Any]
    status: Callable[[], Node | None] | None = None


class Untrack(msgspec.Struct, frozen=True):
    node: str


class _Tick(msgspec.Struct, frozen=True):
    pass


class _Renewed(msgspec.Struct, frozen=True):
    node: str
    resource_version: str


class _Lost(msgspec.Struct, frozen=True):
    """The lease's version is unknown (created elsewhere, or a conflict): read it again."""

    node: str


class _Answered(msgspec.Struct, frozen=True):
    """The answers to one batch of renewals: per node, the Lease written or the error."""

    nodes: list[str]
    answers: list[Any]
