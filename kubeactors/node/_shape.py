"""The size and addresses of a simulated node."""

from __future__ import annotations

import ipaddress

import msgspec

from ..api import parse_cpu, parse_memory

__all__ = ["NodeShape", "host_ip", "pod_cidr"]

_CLUSTER_CIDR = ipaddress.ip_network("10.0.0.0/8")
_LOOPBACK_CIDR = ipaddress.ip_network("127.0.0.0/8")
_HOST_NETWORK = ipaddress.ip_network("172.16.0.0/12")
_MAX_NODES = 2 ** (24 - 8)


class NodeShape(msgspec.Struct, frozen=True, kw_only=True):
    """What a simulated node offers, as Kubernetes quantities."""

    cpu: str = "4"
    memory: str = "16Gi"
    pods: int = 110

    def __post_init__(self) -> None:
        # Fail at construction, naming the field, rather than at node registration.
        for field, text in (("cpu", self.cpu), ("memory", self.memory)):
            try:
                amount = parse_cpu(text) if field == "cpu" else parse_memory(text)
            except ValueError as error:
                raise ValueError(f"node shape {field}: {error}") from None
            if amount <= 0:
                raise ValueError(f"node shape {field}: must be positive, got {text!r}")
        if not 0 < self.pods <= 254:
            raise ValueError(f"node shape pods: must be in 1..254 (one /24), got {self.pods}")

    def resources(self) -> dict[str, str]:
        return {"cpu": self.cpu, "memory": self.memory, "pods": str(self.pods)}


def _check_index(index: int) -> None:
    if not 0 <= index < _MAX_NODES:
        raise ValueError(f"node index must be in 0..{_MAX_NODES - 1}, got {index}")


def pod_cidr(index: int, *, loopback: bool = False) -> ipaddress.IPv4Network:
    """The /24 of the cluster CIDR that node number `index` gives its pods.

    Nodes running real processes take theirs from 127.0.0.0/8 instead (skipping
    127.0.0.0/24): every address there is this machine's loopback, so each pod can
    listen on its own address and its `podIP` is where it really answers.
    """
    _check_index(index)
    if loopback:
        if index >= _MAX_NODES - 1:
            raise ValueError(f"node index must be in 0..{_MAX_NODES - 2} for loopback pods")
        base = int(_LOOPBACK_CIDR.network_address) + ((index + 1) << 8)
        return ipaddress.IPv4Network((base, 24))
    base = int(_CLUSTER_CIDR.network_address) + (index << 8)
    return ipaddress.IPv4Network((base, 24))


def host_ip(index: int) -> ipaddress.IPv4Address:
    _check_index(index)
    return ipaddress.IPv4Address(int(_HOST_NETWORK.network_address) + index + 1)
