"""Resource arithmetic the scheduler and kubelet share: what a pod asks, what a node has."""

from __future__ import annotations

from typing import NamedTuple

from ._node import Node
from ._pod import Pod
from ._quantity import parse_cpu, parse_memory

__all__ = ["Resources", "node_allocatable", "pod_requests"]


class Resources(NamedTuple):
    """CPU in millicores, memory in bytes, and a pod count."""

    cpu_millis: int
    memory_bytes: int
    pods: int


def pod_requests(pod: Pod) -> Resources:
    """The sum of the containers' requests (a pod counts as one pod)."""
    cpu = memory = 0
    for container in pod.spec.containers:
        requests = container.resources.requests
        if "cpu" in requests:
            cpu += parse_cpu(requests["cpu"])
        if "memory" in requests:
            memory += parse_memory(requests["memory"])
    return Resources(cpu, memory, 1)


def node_allocatable(node: Node) -> Resources:
    """Allocatable cpu, memory and pods; falls back to capacity when allocatable is unset."""
    amounts = node.status.allocatable or node.status.capacity
    return Resources(
        parse_cpu(amounts.get("cpu", "0")),
        parse_memory(amounts.get("memory", "0")),
        parse_memory(amounts.get("pods", "0")),
    )
