"""Messages between the shared pod dispatcher and the kubelets."""

from __future__ import annotations

from typing import Any

import msgspec

from ..actors import ActorRef
from ..api import Pod
from ..client import Delta

__all__ = [
    "DispatcherMessage",
    "KubeletMessage",
    "PodsAssigned",
    "Register",
    "RetryPod",
    "Unregister",
]


class PodsAssigned(msgspec.Struct, frozen=True):
    """Changes to pods bound to the receiving kubelet's node."""

    deltas: list[Delta[Pod]]


class RetryPod(msgspec.Struct, frozen=True):
    """Try again to report the pod at this "namespace/name" key."""

    key: str


KubeletMessage = PodsAssigned | RetryPod


class Register(msgspec.Struct, frozen=True):
    """Send the pods bound to `node` to `kubelet`, starting with those bound already."""

    node: str
    kubelet: ActorRef[Any]


class Unregister(msgspec.Struct, frozen=True):
    node: str


DispatcherMessage = Register | Unregister
