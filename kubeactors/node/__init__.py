"""The data plane: kubelets over container runtimes, fed by one shared dispatcher."""

from ._admission import Rejection, admit, effective_requests, tolerates, untolerated
from ._backoff import BackOff
from ._dispatch import NODE_INDEX, PodDispatcher
from ._env import EnvError, EnvSources, container_env, expand
from ._messages import (
    ContainerChanged,
    DispatcherMessage,
    FollowLogs,
    KubeletMessage,
    NodesKnown,
    NodeUpdated,
    PodReported,
    PodsAssigned,
    ProbePod,
    ReadLogs,
    Register,
    ReportNodeStatus,
    RetryPod,
    ServicesKnown,
    SyncPod,
    Unregister,
)
from ._service_env import ServiceEnvironment, service_variables
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
    "EnvError",
    "EnvSources",
    "FollowLogs",
    "HeartbeatHub",
    "HeartbeatMessage",
    "Kubelet",
    "KubeletMessage",
    "NodeSettings",
    "NodeShape",
    "NodeUpdated",
    "NodesKnown",
    "PodDispatcher",
    "PodReported",
    "PodsAssigned",
    "ProbePod",
    "ReadLogs",
    "Register",
    "Rejection",
    "ReportNodeStatus",
    "RetryPod",
    "ServiceEnvironment",
    "ServicesKnown",
    "SyncPod",
    "Track",
    "Unregister",
    "Untrack",
    "admit",
    "container_env",
    "effective_requests",
    "expand",
    "host_ip",
    "make_runtime",
    "pod_cidr",
    "service_variables",
    "tolerates",
    "untolerated",
]
