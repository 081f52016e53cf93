"""The exceptions the actor runtime raises."""

from __future__ import annotations

__all__ = [
    "ActorCrashed",
    "ActorError",
    "ActorStopped",
    "AskTimeout",
    "SupervisorGaveUp",
]


class ActorError(Exception):
    """Base class of every error the actor runtime raises."""


class AskTimeout(ActorError, TimeoutError):
    """An `ask` got no reply within its timeout."""

    def __init__(self, target: str, message: object, timeout: float) -> None:
        self.target = target
        self.message = message
        self.timeout = timeout
        super().__init__(
            f"no reply from actor {target!r} within {timeout:g}s to {type(message).__name__}"
        )


class ActorStopped(ActorError):
    """The actor asked has stopped, so no reply can ever come.

    Also raised for a request the actor was interrupted in by a restart of its
    supervisor's group (one-for-all) or by shutdown.
    """

    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(f"actor {target!r} has stopped")


class ActorCrashed(ActorError):
    """The actor raised while handling the message that carried this reply."""

    def __init__(self, target: str, cause: BaseException) -> None:
        self.target = target
        self.cause = cause
        super().__init__(f"actor {target!r} crashed handling the request: {cause!r}")


class SupervisorGaveUp(ActorError):
    """A supervisor exceeded its restart intensity and failed upward."""

    def __init__(self, supervisor: str, max_restarts: int, within: float) -> None:
        self.supervisor = supervisor
        super().__init__(
            f"supervisor {supervisor!r} gave up: more than {max_restarts} restarts "
            f"within {within:g}s"
        )
