"""The messages controllers take besides their informers' changes: `Inspect` (answered
with a `ControllerStatus`), `Resync`, and the garbage collector's `KindsChanged`.

Interpreted on purpose: the controllers' modules are compiled with mypyc, which drops
a msgspec Struct's class keywords (`frozen=True`) when it compiles the module that
defines it.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..actors import Reply
from ..api import ResourceKind

__all__ = ["ControllerStatus", "Inspect", "KindsChanged", "Resync"]


class ControllerStatus(msgspec.Struct, frozen=True):
    """What a controller is doing: keys queued and in hand, syncs done and failed."""

    name: str
    synced: bool
    queued: int
    processing: int
    syncs: int
    failures: int


class Inspect(msgspec.Struct, frozen=True):
    reply: Reply[ControllerStatus]


class Resync(msgspec.Struct, frozen=True):
    """Requeue every key (the periodic resync of upstream's informers)."""


class KindsChanged(msgspec.Struct, frozen=True):
    """The API server's kinds changed (a CRD established or gone): watch accordingly."""

    added: list[ResourceKind[Any]]
    removed: list[ResourceKind[Any]]
