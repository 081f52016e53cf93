"""The ResourceQuota controller: keeps each quota's `status.hard` and `status.used` true.

Admission refuses what would exceed a quota; this controller reports what a namespace
uses, as upstream's does: pods and their requests from a pod informer (a change in a
namespace with quotas requeues its quotas at once), limits too; the other counted kinds (services,
configmaps, secrets, replicationcontrollers, resourcequotas) read when a quota is
synced, and every quota again each `resync_period`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import msgspec

from ..api import (
    ApiObject,
    ConfigMap,
    Pod,
    QuantityError,
    ReplicationController,
    ResourceQuota,
    ResourceQuotaStatus,
    Secret,
    Service,
    parse_quantity,
)
from ..client import Informer
from ._base import Controller

__all__ = ["ResourceQuotaController", "quota_usage"]

_COUNTED: dict[str, type[ApiObject]] = {
    "pods": Pod,
    "services": Service,
    "configmaps": ConfigMap,
    "secrets": Secret,
    "replicationcontrollers": ReplicationController,
    "resourcequotas": ResourceQuota,
}
_REQUESTS = ("cpu", "memory")


def _counted(resource: str) -> str:
    """`pods`, `count/pods` and `count/services` name the kind counted."""
    return resource.removeprefix("count/").split(".")[0]


def _requested(pod: Pod, name: str, limits: bool = False) -> Fraction:
    total = Fraction(0)
    for container in pod.spec.containers:
        amounts = container.resources.limits if limits else container.resources.requests
        try:
            total += parse_quantity(amounts.get(name, "0"))
        except QuantityError:
            continue
    return total


def _format(resource: str, amount: Fraction) -> str:
    if amount.denominator == 1:
        whole = int(amount)
        if resource.split(".")[-1] == "memory":
            for suffix, unit in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
                if whole and whole % unit == 0:
                    return f"{whole // unit}{suffix}"
        return str(whole)
    millis = amount * 1000
    if millis.denominator == 1:
        return f"{int(millis)}m"
    return str(float(amount))


def quota_usage(resource: str, objects: dict[str, list[Any]]) -> str | None:
    """What a namespace uses of `resource` (a key of `spec.hard`), as upstream writes
    it, from its live objects by plural; None for a resource not tracked here."""
    counted = _counted(resource)
    if counted in _COUNTED:
        live = [o for o in objects.get(counted, []) if o.metadata.deletion_timestamp is None]
        if counted == "pods":
            live = [p for p in live if p.status.phase not in ("Succeeded", "Failed")]
        return str(len(live))
    limits = resource.startswith("limits.")
    name = resource.removeprefix("limits.").removeprefix("requests.")
    if name not in _REQUESTS:
        return None
    pods = [
        p
        for p in objects.get("pods", [])
        if p.metadata.deletion_timestamp is None and p.status.phase not in ("Succeeded", "Failed")
    ]
    return _format(resource, sum((_requested(p, name, limits) for p in pods), Fraction(0)))


def _key(obj: ApiObject) -> str:
    return f"{obj.metadata.namespace}/{obj.metadata.name}"


class ResourceQuotaController(Controller):
    name = "resourcequota"
    workers = 2
    resync_period = 15.0

    def setup(self) -> None:
        self._written: dict[str, ResourceQuota] = {}
        self.quotas: Informer[ResourceQuota] = self.informer(ResourceQuota)
        self.quotas.add_index("namespace", lambda q: [q.metadata.namespace])
        self.quotas.add_handler(
            on_add=lambda q: self._namespace_changed(q.metadata.namespace),
            on_update=lambda old, new: self.enqueue(_key(new)),
            on_delete=lambda q: self._namespace_changed(q.metadata.namespace),
        )
        self.pods: Informer[Pod] = self.informer(Pod)
        self.pods.add_index("namespace", lambda p: [p.metadata.namespace])
        self.pods.add_handler(
            on_add=lambda p: self._namespace_changed(p.metadata.namespace),
            on_update=lambda old, new: self._pod_changed(old, new),
            on_delete=lambda p: self._namespace_changed(p.metadata.namespace),
        )

    def all_keys(self) -> list[str]:
        return [_key(q) for q in self.quotas.items()]

    def _namespace_changed(self, namespace: str) -> None:
        for quota in self.quotas.by_index("namespace", namespace):
            self.enqueue(_key(quota))

    def _pod_changed(self, old: Pod, new: Pod) -> None:
        # Only what usage depends on: the phase and the deletion mark.
        if (old.status.phase, old.metadata.deletion_timestamp) != (
            new.status.phase,
            new.metadata.deletion_timestamp,
        ):
            self._namespace_changed(new.metadata.namespace)

    def _current(self, key: str) -> ResourceQuota | None:
        """The cached quota, or the one this controller wrote last if the cache has not
        caught up with it yet (else each write would conflict with the next sync)."""
        cached = self.quotas.get(key)
        written = self._written.get(key)
        if cached is None or written is None:
            self._written.pop(key, None)
            return cached
        if int(written.metadata.resource_version) > int(cached.metadata.resource_version):
            return written
        del self._written[key]
        return cached

    async def sync(self, key: str) -> None:
        quota = self._current(key)
        if quota is None or quota.metadata.deletion_timestamp is not None:
            return
        namespace = quota.metadata.namespace
        objects: dict[str, list[Any]] = {"pods": self.pods.by_index("namespace", namespace)}
        used: dict[str, str] = {}
        for resource in quota.spec.hard:
            counted = _counted(resource)
            if counted in _COUNTED and counted not in objects:
                listed = await self.client.list(_COUNTED[counted], namespace)
                objects[counted] = listed.items
            amount = quota_usage(resource, objects)
            if amount is not None:
                used[resource] = amount
        status = ResourceQuotaStatus(hard=dict(quota.spec.hard), used=used)
        if status != quota.status:
            written = await self.write_status(msgspec.structs.replace(quota, status=status))
            self._written[key] = written
