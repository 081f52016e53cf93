"""The heartbeat hub's batches of renewals, against a recording API server."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import msgspec

from kubeactors.api import Lease, UpdateMany, node_user
from kubeactors.client import Client
from kubeactors.node.heartbeat import HeartbeatHub, _Answered, _Entry

_NOW = datetime(2026, 1, 1, tzinfo=UTC)


class _Api:
    """An API server that only records what it is told."""

    def __init__(self) -> None:
        self.told: list[Any] = []

    async def tell(self, message: Any) -> None:
        self.told.append(message)


async def test_each_renewal_of_a_batch_goes_as_its_own_node_with_its_latest_lease() -> None:
    api = _Api()
    admin = Client(api)  # type: ignore[arg-type]
    hub = HeartbeatHub(
        admin, wall_clock=lambda: _NOW, slots=1, client_for=lambda n: admin.as_user(node_user(n))
    )
    hub._context = SimpleNamespace(self=SimpleNamespace(try_tell=lambda m: None))  # type: ignore[assignment]
    for name in ("a", "b"):
        lease = hub._lease(name, "", "")
        kubelet = SimpleNamespace(try_tell=lambda m: None)
        hub._entries[name] = _Entry(kubelet, 0, hub._client_for(name), lease, None)  # type: ignore[arg-type, misc]
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
    assert len(batches) == 2
    for batch in batches:
        users = [update.user.name if update.user else "" for update in batch.updates]
        assert users == ["system:node:a", "system:node:b"]
        leases = [update.obj for update in batch.updates if isinstance(update.obj, Lease)]
        assert len(leases) == 2
        assert [lease.metadata.resource_version for lease in leases] == ["7", "9"]
        assert [lease.spec.holder_identity for lease in leases] == ["a", "other"]
        assert {lease.spec.renew_time for lease in leases} == {"2026-01-01T00:00:00.000000Z"}
