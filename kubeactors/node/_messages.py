"""Messages between the shared dispatcher, the heartbeat hub and the kubelets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec

from ..actors import ActorRef, Reply
from ..api import Node, Pod
from ..client import Delta, Informer
from ._service_env import ServiceEnvironment
from .runtime import ContainerEvent

__all__ = [
    "ContainerChanged",
    "DispatcherMessage",
    "FollowLogs",
    "KubeletMessage",
    "NodeUpdated",
    "NodesKnown",
    "PodReported",
    "PodsAssigned",
    "ProbePod",
    "ReadLogs",
    "Register",
    "ReportNodeStatus",
    "RetryPod",
    "ServicesKnown",
    "SyncPod",
    "Unregister",
]


class PodsAssigned(msgspec.Struct, frozen=True):
    """Changes to pods bound to the receiving kubelet's node.

    `initial` marks the dispatcher's first delivery after it registered the kubelet:
    every pod bound to the node is in it, so runtime sandboxes of other pods are
    orphans.
    """

    deltas: list[Delta[Pod]]
    initial: bool = False


class ServicesKnown(msgspec.Struct, frozen=True):
    """Where the kubelet reads the Service variables of its pods (shared, read only)."""

    services: ServiceEnvironment


class NodeUpdated(msgspec.Struct, frozen=True):
    """The kubelet's own Node as stored now: sent when first registered and then on
    each change to what the kubelet judges pods by (labels, taints, allocatable), not
    for its own status posts coming back."""

    node: Node


class NodesKnown(msgspec.Struct, frozen=True):
    """Where the kubelet reads its Node as stored now, to post its status from (the
    dispatcher's Node informer, shared and read only: upstream's node lister)."""

    nodes: Informer[Node]


class RetryPod(msgspec.Struct, frozen=True):
    """Try again to report the pod at this "namespace/name" key."""

    key: str


class PodReported(msgspec.Struct, frozen=True):
    """The answer to a pod status update: the stored pod, or the error."""

    key: str
    pod: Pod | None
    error: BaseException | None = None


class SyncPod(msgspec.Struct, frozen=True):
    """Look at this pod again (a back-off or a probe period is over)."""

    key: str


class ProbePod(msgspec.Struct, frozen=True):
    """Probe this pod's containers now (their period is over)."""

    key: str


class ContainerChanged(msgspec.Struct, frozen=True):
    event: ContainerEvent


class ReadLogs(msgspec.Struct, frozen=True, kw_only=True):
    """The log lines of a container of a pod on this node (what `pods/log` serves).

    `previous` reads the container before its last restart; `since_seconds` (before
    now) or `since_time` (seconds since the epoch) leaves out older lines; `tail` keeps
    the last lines; `timestamps` prefixes each line with its RFC 3339 time.
    """

    namespace: str
    pod: str
    container: str = ""
    tail: int | None = None
    previous: bool = False
    timestamps: bool = False
    since_seconds: int | None = None
    since_time: float | None = None
    reply: Reply[list[str]]


class FollowLogs(msgspec.Struct, frozen=True, kw_only=True):
    """As `ReadLogs`, answered with a stream: batches of lines, the first the lines
    written so far, then new ones as they come until the container ends."""

    namespace: str
    pod: str
    container: str = ""
    tail: int | None = None
    previous: bool = False
    timestamps: bool = False
    since_seconds: int | None = None
    since_time: float | None = None
    reply: Reply[AsyncIterator[list[str]]]


class ReportNodeStatus(msgspec.Struct, frozen=True):
    """Post the full node status now (the heartbeat hub's periodic cue)."""


KubeletMessage = (
    PodsAssigned
    | NodeUpdated
    | NodesKnown
    | RetryPod
    | PodReported
    | SyncPod
    | ProbePod
    | ContainerChanged
    | ReportNodeStatus
    | ReadLogs
    | FollowLogs
    | ServicesKnown
)


class Register(msgspec.Struct, frozen=True):
    """Send the pods bound to `node` to `kubelet`, starting with those bound already."""

    node: str
    kubelet: ActorRef[Any]


class Unregister(msgspec.Struct, frozen=True):
    node: str


class _Synced(msgspec.Struct, frozen=True):
    """The dispatcher's informers have listed everything once."""


DispatcherMessage = Register | Unregister | _Synced
