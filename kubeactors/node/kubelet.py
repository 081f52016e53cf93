"""The kubelet of one simulated node: registers the Node and runs the pods bound to it."""

from __future__ import annotations

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
from ._ipam import PodAddresses
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
        self._reported: dict[str, str] = {}
        """The resourceVersion each pod's last report was based on."""
        self._addresses = PodAddresses(self._cidr)

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
                        self._reported.pop(key, None)
                        self._addresses.release(key)
                    else:
                        self._pods[key] = pod
                        if pod.status.phase == "Running" and pod.status.pod_ip:
                            # Running since before a restart: keep its address.
                            self._addresses.adopt(key, pod.status.pod_ip)
                        await self._start(key)
            case RetryPod(key=key):
                await self._start(key, again=True)

    async def _start(self, key: str, *, again: bool = False) -> None:
        pod = self._pods.get(key)
        if pod is None or pod.status.phase == "Running":
            return
        version = pod.metadata.resource_version
        if not again and self._reported.get(key) == version:
            return  # reported already from this version; its answer is on the way
        self._reported[key] = version
        running = self._running(key, pod)
        context, retry_delay, name = self.context, self._retry_delay, self.name

        def answered(_: Pod | None, error: BaseException | None) -> None:
            # Runs in the task that answers. On a conflict a newer version exists and
            # the dispatcher brings it; try again with whatever is newest by then.
            if error is not None:
                logger.info("reporting %s on %s failed: %s", key, name, error)
                context.send_later(retry_delay, RetryPod(key))

        await self._client.send_update(running, answered)

    def _running(self, key: str, pod: Pod) -> Pod:
        now = format_time(self._wall_clock())
        status = PodStatus(
            phase="Running",
            conditions=[
                PodCondition(type=kind, status="True", last_transition_time=now)
                for kind in _RUNNING_CONDITIONS
            ],
            pod_ip=self._addresses.allocate(key),
            host_ip=self._host_ip,
            start_time=pod.status.start_time or now,
        )
        return msgspec.structs.replace(pod, status=status)
