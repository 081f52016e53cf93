"""The actor runtime: actors with bounded mailboxes, supervision trees, an injected clock."""

from ._actor import Actor, ActorContext
from ._cell import RestartPolicy
from ._clock import Clock, SystemClock, TimerHandle
from ._deadletters import DeadLetters
from ._errors import ActorCrashed, ActorError, ActorStopped, AskTimeout, SupervisorGaveUp
from ._mailbox import Mailbox
from ._messages import DeadLetter, Terminated
from ._ref import ActorRef, CallbackReply, Reply
from ._stats import ActorStats
from ._supervisor import Strategy, Supervisor
from ._system import ActorSystem
from ._timeouts import AskTimeouts
from ._trace import Trace, TraceField
from ._virtual import DEFAULT_EPOCH, VirtualClock

__all__ = [
    "DEFAULT_EPOCH",
    "Actor",
    "ActorContext",
    "ActorCrashed",
    "ActorError",
    "ActorRef",
    "ActorStats",
    "ActorStopped",
    "ActorSystem",
    "AskTimeout",
    "AskTimeouts",
    "CallbackReply",
    "Clock",
    "DeadLetter",
    "DeadLetters",
    "Mailbox",
    "Reply",
    "RestartPolicy",
    "Strategy",
    "Supervisor",
    "SupervisorGaveUp",
    "SystemClock",
    "Terminated",
    "TimerHandle",
    "Trace",
    "TraceField",
    "VirtualClock",
]
