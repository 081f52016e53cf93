"""The kubelet of one simulated node: registers the Node and runs the pods bound to it."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable
from datetime import datetime

import msgspec

from ..actors import Actor, ActorRef
from ..api import (
    ApiError,
    Node,
    NodeAddress,
    NodeCondition,
    NodeSpec,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodCondition,
    PodStatus,
    format_time,
    object_key,
)
from ..client import Client
from ._messages import DispatcherMessage, KubeletMessage, PodsAssigned, Register, RetryPod
from ._shape import NodeShape, host_ip, pod_cidr

__all__ = ["Kubelet"]

logger = logging.getLogger(__name__)

_RUNNING_CONDITIONS = ("PodScheduled", "Initialized", "ContainersReady", "Ready")


class Kubelet(Actor[KubeletMessage]):
    """One simulated node: its Node object, and each pod bound to it marked Running.

    Pods reach it from the process's one `PodDispatcher`. Starting a pod is
    instantaneous here (issue 7 adds a container runtime); reporting it Running is
    a status update through the API server, sent in a background task so that the
    kubelet keeps taking messages, and retried with the newest version on conflict.
    """

    mailbox_size = 256

    def __init__(
        self,
        client: Client,
        dispatcher: ActorRef[DispatcherMessage],
        *,
        name: str,
        index: int,
        shape: NodeShape,
        wall_clock: Callable[[], datetime],
        retry_delay: float = 0.1,
    ) -> None:
        self._client = client
        self._dispatcher = dispatcher
        self.name = name
        self._shape = shape
        self._cidr = pod_cidr(index)
        self._host_ip = str(host_ip(index))
        self._wall_clock = wall_clock
        self._retry_delay = retry_delay
        self._pods: dict[str, Pod] = {}
        self._reporting: set[str] = set()
        self._ips: dict[str, ipaddress.IPv4Address] = {}
        self._free_ips = list(reversed(list(self._cidr.hosts())[1:]))

    async def on_start(self) -> None:
        node = self._node()
        try:
            await self._client.create(node)
        except ApiError as error:
            if error.reason != "AlreadyExists":
                raise
            logger.info("node %s was registered already", self.name)
        await self._dispatcher.tell(Register(self.name, self.context.self))

    def _node(self) -> Node:
        now = format_time(self._wall_clock())
        resources = self._shape.resources()
        return Node(
            metadata=ObjectMeta(name=self.name, labels={"kubernetes.io/hostname": self.name}),
            spec=NodeSpec(pod_cidr=str(self._cidr)),
            status=NodeStatus(
                capacity=resources,
                allocatable=dict(resources),
                conditions=[
                    NodeCondition(
                        type="Ready",
                        status="True",
                        last_heartbeat_time=now,
                        last_transition_time=now,
                        reason="KubeletReady",
                        message="kubelet is posting ready status",
                    )
                ],
                addresses=[
                    NodeAddress(type="InternalIP", address=self._host_ip),
                    NodeAddress(type="Hostname", address=self.name),
                ],
            ),
        )

    async def receive(self, message: KubeletMessage) -> None:
        match message:
            case PodsAssigned(deltas=deltas):
                for delta in deltas:
                    pod = delta.object
                    key = object_key(pod)
                    if delta.type == "DELETED":
                        self._pods.pop(key, None)
                        self._release_ip(key)
                    else:
                        self._pods[key] = pod
                        self._start(key)
            case RetryPod(key=key):
                self._start(key)

    def _start(self, key: str) -> None:
        pod = self._pods.get(key)
        if pod is None or pod.status.phase == "Running" or key in self._reporting:
            return
        self._reporting.add(key)
        running = self._running(key, pod)
        self.context.start_soon(lambda: self._report(key, running), name=f"report {key}")

    def _running(self, key: str, pod: Pod) -> Pod:
        now = format_time(self._wall_clock())
        status = PodStatus(
            phase="Running",
            conditions=[
                PodCondition(type=kind, status="True", last_transition_time=now)
                for kind in _RUNNING_CONDITIONS
            ],
            pod_ip=str(self._allocate_ip(key)),
            host_ip=self._host_ip,
            start_time=pod.status.start_time or now,
        )
        return msgspec.structs.replace(pod, status=status)

    async def _report(self, key: str, pod: Pod) -> None:
        try:
            await self._client.update(pod)
        except ApiError as error:
            # A newer version exists (or the pod is gone): the dispatcher brings it.
            logger.info("reporting %s on %s failed: %s", key, self.name, error.reason)
            self.context.send_later(self._retry_delay, RetryPod(key))
        finally:
            self._reporting.discard(key)

    def _allocate_ip(self, key: str) -> ipaddress.IPv4Address:
        address = self._ips.get(key)
        if address is None:
            if not self._free_ips:
                raise RuntimeError(f"node {self.name} has no pod IP left in {self._cidr}")
            address = self._free_ips.pop()
            self._ips[key] = address
        return address

    def _release_ip(self, key: str) -> None:
        address = self._ips.pop(key, None)
        if address is not None:
            self._free_ips.append(address)
