"""One pod informer and one node informer for every kubelet in the process."""

from __future__ import annotations

import logging
from collections import defaultdict

from ..actors import Actor, ActorRef
from ..api import Node, Pod, Service
from ..client import ApiClient, Delta, Informer
from ._messages import (
    DispatcherMessage,
    KubeletMessage,
    NodesKnown,
    NodeUpdated,
    PodsAssigned,
    Register,
    ServicesKnown,
    Unregister,
    _Synced,
)
from ._node_status import allocatable_amounts
from ._service_env import ServiceEnvironment

__all__ = ["NODE_INDEX", "PodDispatcher"]

logger = logging.getLogger(__name__)

NODE_INDEX = "spec.nodeName"


def _node_of(pod: Pod) -> list[str]:
    return [pod.spec.node_name] if pod.spec.node_name else []


def _judged_by(old: Node, new: Node) -> bool:
    """Whether `new` changes what a kubelet admits and evicts pods by."""
    return (
        new.spec.taints != old.spec.taints
        or new.metadata.labels != old.metadata.labels
        or allocatable_amounts(new) != allocatable_amounts(old)
    )


class PodDispatcher(Actor[DispatcherMessage]):
    """Watches all pods, nodes and Services once and hands each change to its kubelet.

    Thousands of kubelets share these two watches: a change reaches its kubelet
    through a dictionary lookup on `spec.nodeName` (or the node's name), never by
    testing every kubelet. A kubelet holds the same frozen Node object the cache
    holds, not a copy, and reads Service variables from the one shared
    `ServiceEnvironment` (as upstream's kubelet reads its Service lister). A change
    to a Node reaches its kubelet only if it changes what the kubelet admits and
    evicts pods by (labels, taints, allocatable): the kubelet reads its Node as
    stored from this informer when it posts its status (upstream's node lister), so
    its own status posts coming back need not be handed to it.
    """

    def __init__(self, client: ApiClient) -> None:
        self._client = client
        self._kubelets: dict[str, ActorRef[KubeletMessage]] = {}
        self._pods: Informer[Pod] = Informer(client, Pod)
        self._nodes: Informer[Node] = Informer(client, Node)
        self._services = ServiceEnvironment(Informer(client, Service))
        self._synced = False

    async def on_start(self) -> None:
        self._synced = False
        self._pods = Informer(self._client, Pod)
        self._pods.add_index(NODE_INDEX, _node_of)
        self._pods.add_batch_handler(self._dispatch_pods)
        self._nodes = Informer(self._client, Node)
        self._nodes.add_batch_handler(self._dispatch_nodes)
        services: Informer[Service] = Informer(self._client, Service)
        self._services = ServiceEnvironment(services)
        self.context.start_soon(self._pods.run, name="pod-dispatcher-pods")
        self.context.start_soon(self._nodes.run, name="pod-dispatcher-nodes")
        self.context.start_soon(services.run, name="pod-dispatcher-services")
        self.context.start_soon(self._announce_sync, name="pod-dispatcher-sync")

    async def _announce_sync(self) -> None:
        await self._pods.wait_synced()
        await self._nodes.wait_synced()
        await self._services.wait_synced()
        await self.context.self.tell(_Synced())

    async def receive(self, message: DispatcherMessage) -> None:
        match message:
            case Register(node=node, kubelet=kubelet):
                self._kubelets[node] = kubelet
                if self._synced:
                    await self._introduce(node, kubelet)
            case Unregister(node=node):
                self._kubelets.pop(node, None)
            case _Synced():
                self._synced = True
                for node, kubelet in list(self._kubelets.items()):
                    await self._introduce(node, kubelet)

    async def _introduce(self, node: str, kubelet: ActorRef[KubeletMessage]) -> None:
        """Everything a newly registered kubelet must know: its Node and all its pods."""
        await kubelet.tell(ServicesKnown(self._services))
        await kubelet.tell(NodesKnown(self._nodes))
        current = self._nodes.get(node)
        if current is not None:
            await kubelet.tell(NodeUpdated(current))
        bound = self._pods.by_index(NODE_INDEX, node)
        await kubelet.tell(PodsAssigned([Delta("ADDED", pod) for pod in bound], initial=True))

    async def _dispatch_pods(self, deltas: list[Delta[Pod]]) -> None:
        by_node: defaultdict[str, list[Delta[Pod]]] = defaultdict(list)
        for delta in deltas:
            node = delta.object.spec.node_name
            if node:
                by_node[node].append(delta)
        for node, changes in by_node.items():
            kubelet = self._kubelets.get(node)
            if kubelet is not None:
                await kubelet.tell(PodsAssigned(changes))

    async def _dispatch_nodes(self, deltas: list[Delta[Node]]) -> None:
        for delta in deltas:
            if delta.type == "DELETED":
                continue
            if delta.old is not None and not _judged_by(delta.old, delta.object):
                continue  # its own status post, most often: read from the cache
            kubelet = self._kubelets.get(delta.object.metadata.name)
            if kubelet is not None:
                update = NodeUpdated(delta.object)
                if not kubelet.try_tell(update):  # a kubelet's mailbox nearly always has room
                    await kubelet.tell(update)
