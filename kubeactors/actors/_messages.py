"""Messages the runtime itself delivers to actors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from ._ref import ActorRef

__all__ = ["DeadLetter", "Terminated"]


class Terminated(msgspec.Struct, frozen=True):
    """Sent to every watcher of `ref` when that actor stops for good.

    `reason` is None for a normal stop and the exception for a crash that was not
    restarted.
    """

    ref: ActorRef[Any]
    reason: BaseException | None = None


class DeadLetter(msgspec.Struct, frozen=True):
    """A message that could not be delivered, and why."""

    recipient: str
    message: object
    reason: str
