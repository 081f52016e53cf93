"""The data plane: kubelets over container runtimes, fed by one shared dispatcher."""

from ._admission import Rejection, admit, effective_requests, tolerates, untolerated
from ._backoff import BackOff
from ._dispatch import NODE_INDEX, PodDispatcher
from ._messages import (
    ContainerChanged,
    DispatcherMessage,
    KubeletMessage,
    NodeUpdated,
    PodReported,
    PodsAssigned,
    ProbePod,
    ReadLogs,
    Register,
    ReportNodeStatus,
    RetryPod,
    SyncPod,
    Unregister,
)
from ._settings import NodeSettings
from ._shape import NodeShape, host_ip, pod_cidr
from .heartbeat import LEASE_NAMESPACE, HeartbeatHub, HeartbeatMessage, Track, Untrack
from .kubelet import Kubelet, make_runtime

__all__ = [
    "LEASE_NAMESPACE",
    "NODE_INDEX",
    "BackOff",
    "ContainerChanged",
    "DispatcherMessage",
    "HeartbeatHub",
    "HeartbeatMessage",
    "Kubelet",
    "KubeletMessage",
    "NodeSettings",
    "NodeShape",
    "NodeUpdated",
    "PodDispatcher",
    "PodReported",
    "PodsAssigned",
    "ProbePod",
    "ReadLogs",
    "Register",
    "Rejection",
    "ReportNodeStatus",
    "RetryPod",
    "SyncPod",
    "Track",
    "Unregister",
    "Untrack",
    "admit",
    "effective_requests",
    "host_ip",
    "make_runtime",
    "pod_cidr",
    "tolerates",
    "untolerated",
]
