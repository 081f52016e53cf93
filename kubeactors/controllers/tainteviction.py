"""The taint eviction controller: pods leave nodes with NoExecute taints they do not tolerate.

Upstream's TaintEvictionController (the NoExecute taint manager). For each pod bound
to a node with NoExecute taints it works out when the pod must go: at once for a
taint no toleration of the pod matches, `tolerationSeconds` after the taint was
added for one it tolerates for a while, never for one it tolerates for ever. A pod
that must go later gets a timer on the controller's clock; the timer is cancelled
when the taint goes, the pod changes its mind (its tolerations cannot change, but
it may finish or be deleted) or the pod leaves. Eviction is a graceful delete.
"""

from __future__ import annotations

import logging
from datetime import datetime

from .._mypyc import mypyc_attr
from ..actors import TimerHandle
from ..api import ApiError, Node, Pod, Taint
from ..client import Client, Informer
from ._base import Controller
from ._taints import eviction_due
from ._time import parse_time

__all__ = ["TaintEvictionController"]

logger = logging.getLogger(__name__)

_NODE_INDEX = "spec.nodeName"


def _no_execute(node: Node | None) -> list[Taint]:
    if node is None:
        return []
    return [t for t in node.spec.taints if t.effect == "NoExecute"]


def _taint_key(taint: Taint) -> tuple[str, str, str]:
    return (taint.key, taint.value, taint.effect)


@mypyc_attr(allow_interpreted_subclasses=True)
class TaintEvictionController(Controller):
    """Deletes each pod when the NoExecute taints of its node say it must go (see above).

    `default_toleration_seconds` stands in for the not-ready and unreachable
    tolerations upstream's admission adds to pods that have none (None: no default).
    """

    name = "taint-eviction"
    workers = 4

    def __init__(self, client: Client, default_toleration_seconds: int | None = 300) -> None:
        super().__init__(client)
        self.default_toleration_seconds = default_toleration_seconds
        self._timers: dict[str, TimerHandle] = {}
        self._first_seen: dict[str, dict[tuple[str, str, str], datetime]] = {}
        self.evictions = 0

    def setup(self) -> None:
        self.nodes: Informer[Node] = self.informer(Node)
        self.pods: Informer[Pod] = self.informer(Pod)
        self.pods.add_index(
            _NODE_INDEX, lambda pod: [pod.spec.node_name] if pod.spec.node_name else []
        )
        self.nodes.add_handler(
            on_add=self._node_changed,
            on_update=lambda old, new: self._node_changed(new, old),
            on_delete=self._node_deleted,
        )
        self.pods.add_handler(
            on_add=self._pod_changed,
            on_update=lambda old, new: self._pod_changed(new),
            on_delete=self._pod_deleted,
        )

    async def on_stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        await super().on_stop()

    # -- events -------------------------------------------------------------------

    def _node_changed(self, node: Node, old: Node | None = None) -> None:
        taints = _no_execute(node)
        name = node.metadata.name
        if taints:
            now = self.context.clock.wall()
            before = self._first_seen.get(name, {})
            self._first_seen[name] = {key: before.get(key, now) for key in map(_taint_key, taints)}
        else:
            self._first_seen.pop(name, None)
        if old is None and not taints:
            return
        if old is not None and _no_execute(old) == taints:
            return  # nothing that matters here changed
        for pod in self.pods.by_index(_NODE_INDEX, name):
            self.enqueue(f"{pod.metadata.namespace}/{pod.metadata.name}")

    def _node_deleted(self, node: Node) -> None:
        self._first_seen.pop(node.metadata.name, None)

    def _pod_changed(self, pod: Pod) -> None:
        if pod.spec.node_name and _no_execute(self.nodes.get(pod.spec.node_name)):
            self.enqueue(f"{pod.metadata.namespace}/{pod.metadata.name}")
        else:
            self._cancel(f"{pod.metadata.namespace}/{pod.metadata.name}")

    def _pod_deleted(self, pod: Pod) -> None:
        self._cancel(f"{pod.metadata.namespace}/{pod.metadata.name}")

    def _cancel(self, key: str) -> None:
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    # -- sync -----------------------------------------------------------------------

    def all_keys(self) -> list[str]:
        return [
            f"{pod.metadata.namespace}/{pod.metadata.name}"
            for node in self.nodes.items()
            if _no_execute(node)
            for pod in self.pods.by_index(_NODE_INDEX, node.metadata.name)
        ]

    def _added(self, node: str, taint: Taint) -> datetime:
        """When `taint` was put on `node`: its `timeAdded`, else when we first saw it."""
        stamped = parse_time(taint.time_added)
        if stamped is not None:
            return stamped
        return self._first_seen.get(node, {}).get(_taint_key(taint)) or self.context.clock.wall()

    async def sync(self, key: str) -> None:
        self._cancel(key)
        pod = self.pods.get(key)
        if (
            pod is None
            or not pod.spec.node_name
            or pod.metadata.deletion_timestamp is not None
            or pod.status.phase in ("Succeeded", "Failed")
        ):
            return
        node = pod.spec.node_name
        taints = _no_execute(self.nodes.get(node))
        due = eviction_due(
            pod, taints, self.default_toleration_seconds, lambda t: self._added(node, t)
        )
        if due is None:
            return
        wait = (due - self.context.clock.wall()).total_seconds()
        if wait > 0:
            self._timers[key] = self.context.clock.call_later(wait, lambda: self.enqueue(key))
            return
        try:
            await self.client.delete(Pod, pod.metadata.name, pod.metadata.namespace)
        except ApiError as error:
            if error.code != 404:
                raise
            return
        self.evictions += 1
        logger.info("evicted %s from %s: a NoExecute taint it no longer tolerates", key, node)
