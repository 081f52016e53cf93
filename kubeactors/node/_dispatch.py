"""One pod informer for every kubelet in the process, dispatching by `spec.nodeName`."""

from __future__ import annotations

import logging
from collections import defaultdict

from ..actors import Actor, ActorRef
from ..api import Pod
from ..client import Client, Delta, Informer
from ._messages import DispatcherMessage, KubeletMessage, PodsAssigned, Register, Unregister

__all__ = ["NODE_INDEX", "PodDispatcher"]

logger = logging.getLogger(__name__)

NODE_INDEX = "spec.nodeName"


def _node_of(pod: Pod) -> list[str]:
    return [pod.spec.node_name] if pod.spec.node_name else []


class PodDispatcher(Actor[DispatcherMessage]):
    """Watches all pods once and hands each change to the kubelet of its node.

    Thousands of kubelets share this one watch: a change reaches its kubelet
    through a dictionary lookup on `spec.nodeName`, never by testing every kubelet.
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self._kubelets: dict[str, ActorRef[KubeletMessage]] = {}
        self._informer: Informer[Pod] = Informer(client, Pod)

    async def on_start(self) -> None:
        self._informer = Informer(self._client, Pod)
        self._informer.add_index(NODE_INDEX, _node_of)
        self._informer.add_batch_handler(self._dispatch)
        self.context.start_soon(self._informer.run, name="pod-dispatcher-informer")

    async def receive(self, message: DispatcherMessage) -> None:
        match message:
            case Register(node=node, kubelet=kubelet):
                self._kubelets[node] = kubelet
                bound = (
                    self._informer.by_index(NODE_INDEX, node)
                    if self._informer.synced.is_set()
                    else []
                )
                if bound:
                    await kubelet.tell(PodsAssigned([Delta("ADDED", pod) for pod in bound]))
            case Unregister(node=node):
                self._kubelets.pop(node, None)

    async def _dispatch(self, deltas: list[Delta[Pod]]) -> None:
        by_node: defaultdict[str, list[Delta[Pod]]] = defaultdict(list)
        for delta in deltas:
            node = delta.object.spec.node_name
            if node:
                by_node[node].append(delta)
        for node, changes in by_node.items():
            kubelet = self._kubelets.get(node)
            if kubelet is not None:
                await kubelet.tell(PodsAssigned(changes))
