"""The types an informer's users name: its changes, handlers and indexers.

Kept out of the informer's module, which is compiled (see setup.py): a generic class
defined in a compiled module cannot be subscripted at run time (`Delta[Pod]`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

import msgspec

from ..api import ApiObject, WatchEventType

__all__ = ["BatchHandler", "Delta", "Indexer"]

R = TypeVar("R", bound=ApiObject)

Indexer = Callable[[R], Iterable[str]]
"""The index values of an object (for pods by node: `[pod.spec.nodeName]`)."""


class Delta(msgspec.Struct, Generic[R], frozen=True):
    """One change to the cache: the object now, and for an update the one it replaced."""

    type: WatchEventType
    object: R
    old: R | None = None


BatchHandler = Callable[[list[Delta[R]]], Awaitable[None]]
"""Called with each batch of changes, after the cache has taken them in."""
