"""kube-proxy: the Service table, `resolve()` for simulated traffic, a loopback TCP proxy."""

from ._table import SERVICE_NAME_LABEL, Backend, NoEndpointsError, ServicePortEntry, ServiceTable
from ._tcp import LoopbackProxy, loopback_address
from .kubeproxy import KubeProxy

__all__ = [
    "SERVICE_NAME_LABEL",
    "Backend",
    "KubeProxy",
    "LoopbackProxy",
    "NoEndpointsError",
    "ServicePortEntry",
    "ServiceTable",
    "loopback_address",
]
