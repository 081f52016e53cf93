"""The data plane: a kubelet per simulated node, fed by one shared pod dispatcher."""

from ._dispatch import NODE_INDEX, PodDispatcher
from ._messages import (
    DispatcherMessage,
    KubeletMessage,
    PodsAssigned,
    Register,
    RetryPod,
    Unregister,
)
from ._shape import NodeShape, host_ip, pod_cidr
from .kubelet import Kubelet

__all__ = [
    "NODE_INDEX",
    "DispatcherMessage",
    "Kubelet",
    "KubeletMessage",
    "NodeShape",
    "PodDispatcher",
    "PodsAssigned",
    "Register",
    "RetryPod",
    "Unregister",
    "host_ip",
    "pod_cidr",
]
