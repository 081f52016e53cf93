"""The heartbeat hub's batches of renewals, against a recording API server."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import msgspec

from kubeactors.api import Lease, Node, ObjectMeta, UpdateMany, node_user
from kubeactors.client import Client
from kubeactors.node._heartbeat_messages import _Answered
from kubeactors.node.heartbeat import HeartbeatHub, _Entry

_NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _same(node: Node) -> Node | None:
    return node


class _Api:
    """An API server that only records what it is told."""

    def __init__(self) -> None:
        self.told: list[Any] = []

    async def tell(self, message: Any) -> None:
        self.told.append(message)


async def test_each_renewal_and_status_of_a_batch_goes_as_its_own_node() -> None:
    """Renewals carry each node's latest Lease, status posts its Node, each as that node."""
    api = _Api()
    admin = Client(api)  # type: ignore[arg-type]

    def client_for(node: str) -> Client:
        return admin.as_user(node_user(node))

    hub = HeartbeatHub(admin, wall_clock=lambda: _NOW, slots=1, client_for=client_for)
    hub._context = SimpleNamespace(self=SimpleNamespace(try_tell=lambda m: None))  # type: ignore[assignment]
    for name in ("a", "b"):
        lease = hub._lease(name, "", "")
        kubelet = SimpleNamespace(try_tell=lambda m: None)
        node = Node(metadata=ObjectMeta(name=name))
        hub._entries[name] = _Entry(
            kubelet,  # type: ignore[arg-type]
            0,
            client_for(name),
            lease,
            functools.partial(_same, node),
        )
        hub._by_slot[0].add(name)
    # Stored as version 7 and 9, "b" by someone else's hand (its holder changed).
    stored = {
        name: msgspec.structs.replace(
            hub._lease(name, version, ""),
            spec=msgspec.structs.replace(hub._lease(name, "", "").spec, holder_identity=holder),
        )
        for name, version, holder in (("a", "7", "a"), ("b", "9", "other"))
    }
    await hub.receive(_Answered(["a", "b"], [stored["a"], stored["b"]]))
    for _ in range(2):
        await hub._on_tick()
    batches = [message for message in api.told if isinstance(message, UpdateMany)]
    assert len(batches) == 3  # the first tick posts the statuses too
    renewals, statuses = [batches[0], batches[2]], batches[1]
    assert [update.subresource for update in statuses.updates] == ["status", "status"]
    assert [update.user.name if update.user else "" for update in statuses.updates] == [
        "system:node:a",
        "system:node:b",
    ]
    nodes = [update.obj for update in statuses.updates if isinstance(update.obj, Node)]
    assert [node.metadata.name for node in nodes] == ["a", "b"]
    for batch in renewals:
        assert {update.subresource for update in batch.updates} == {""}
        users = [update.user.name if update.user else "" for update in batch.updates]
        assert users == ["system:node:a", "system:node:b"]
        leases = [update.obj for update in batch.updates if isinstance(update.obj, Lease)]
        assert len(leases) == 2
        assert [lease.metadata.resource_version for lease in leases] == ["7", "9"]
        assert [lease.spec.holder_identity for lease in leases] == ["a", "other"]
        assert {lease.spec.renew_time for lease in leases} == {"2026-01-01T00:00:00.000000Z"}
