"""What PodTopologySpread's default constraints need to know of a pod's workload.

As upstream's `helper.DefaultSelector`: the selector of a pod's default spreading
constraints merges the selectors of the Services that select the pod, and that of
the ReplicationController or ReplicaSet that controls it. The scheduler keeps them
from informers; a pod selected by none has no default constraints.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..api import ReplicaSet, ReplicationController, Service
from ._podinfo import PodInfo
from ._selectors import LabelSelector, Requirement, SelectorError, parse_label_selector

__all__ = ["Workloads"]


class Workloads:
    """Service and controller selectors by namespace and name."""

    def __init__(self) -> None:
        self.services: dict[str, dict[str, dict[str, str]]] = {}
        self.controllers: dict[tuple[str, str, str], LabelSelector | None] = {}
        """(kind, namespace, name) -> the controller's pod selector."""
        self.version = 0
        """Bumped by every change, so that what is derived from them may be kept until then."""

    def apply(self, obj: Any, deleted: bool) -> None:
        """An informer's news of a Service, ReplicaSet or ReplicationController."""
        meta = obj.metadata
        namespace = meta.namespace or "default"
        self.version += 1
        if isinstance(obj, Service):
            services = self.services.setdefault(namespace, {})
            if deleted or not obj.spec.selector:
                services.pop(meta.name, None)
            else:
                services[meta.name] = dict(obj.spec.selector)
            return
        key = (obj.kind, namespace, meta.name)
        if deleted:
            self.controllers.pop(key, None)
            return
        if isinstance(obj, ReplicationController):
            selector = obj.spec.selector or {}
            self.controllers[key] = _exact(selector)
        elif isinstance(obj, ReplicaSet):
            try:
                self.controllers[key] = parse_label_selector(
                    msgspec.to_builtins(obj.spec.selector), "spec.selector"
                )
            except SelectorError:
                self.controllers[key] = None

    def default_selector(self, pod: PodInfo) -> LabelSelector | None:
        """The selector of `pod`'s default spreading constraints; None if empty."""
        merged: dict[str, str] = {}
        for selector in self.services.get(pod.namespace, {}).values():
            if all(pod.labels.get(key) == value for key, value in selector.items()):
                merged.update(selector)
        requirements = list(_exact(merged).requirements) if merged else []
        kind, name = pod.owner
        owner = self.controllers.get((kind, pod.namespace, name)) if kind else None
        if owner is not None:
            if kind == "ReplicationController":
                requirements = [r for r in requirements if r.key not in _keys(owner)]
            requirements.extend(owner.requirements)
        if not requirements:
            return None
        unique = sorted(set(requirements), key=lambda r: (r.key, r.operator, r.values))
        return LabelSelector(tuple(unique))


def _exact(labels: dict[str, str]) -> LabelSelector:
    return LabelSelector(
        tuple(Requirement(key, "In", (value,)) for key, value in sorted(labels.items()))
    )


def _keys(selector: LabelSelector) -> set[str]:
    return {requirement.key for requirement in selector.requirements}
