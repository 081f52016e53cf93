"""Conformance of leases: grant, keep-alive, time-to-live, revoke and expiry."""

from __future__ import annotations

import anyio
import pytest

from kubeactors.store import Event, EventType, LeaseExistsError, LeaseNotFoundError

from .conftest import ViewFactory


async def test_grant_keep_alive_and_time_to_live(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        granted = await view.lease_grant(60, 1)
        assert (granted.id, granted.ttl) == (1, 60)
        assert (await view.lease_grant(0, 2)).ttl == 2  # raised to the minimum TTL
        with pytest.raises(LeaseExistsError):
            await view.lease_grant(60, 1)
        await view.put(b"a", b"1", lease=1)
        await view.put(b"b", b"1", lease=1)
        info = await view.lease_time_to_live(1, keys=True)
        assert (info.granted_ttl, sorted(info.keys)) == (60, [b"a", b"b"])
        assert 0 < info.ttl <= 60
        assert await view.lease_keep_alive(1) == 60
        assert (await view.lease_time_to_live(3)).ttl == -1
        with pytest.raises(LeaseNotFoundError):
            await view.lease_keep_alive(3)
        with pytest.raises(LeaseNotFoundError):
            await view.lease_revoke(3)


async def test_revoke_deletes_attached_keys_in_one_revision(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        await view.lease_grant(60, 1)
        await view.put(b"a", b"1", lease=1)
        await view.put(b"b", b"1", lease=1)
        await view.put(b"c", b"1", lease=1)
        await view.put(b"c", b"2")  # detached by a put without the lease
        watcher = await view.watch(b"a", b"\0")
        assert await view.lease_revoke(1) == 5
        await view.put(b"z")
        events = await watcher.until(b"z")
        assert [(e.type, e.kv.key, e.kv.mod_revision) for e in events] == [
            (EventType.DELETE, b"a", 5),
            (EventType.DELETE, b"b", 5),
        ]
        assert [kv.key for kv in (await view.range(b"a", b"\0")).kvs] == [b"c", b"z"]
        assert (await view.lease_time_to_live(1)).ttl == -1


async def test_expiry_deletes_keys(open_backend: ViewFactory) -> None:
    async with open_backend() as view:
        await view.lease_grant(2, 1)
        await view.put(b"a", b"1", lease=1)
        watcher = await view.watch(b"a")
        with anyio.fail_after(15):
            events: list[Event] = []
            while not events:
                await anyio.sleep(0.2)
                events = [e for e in watcher.events if e.type is EventType.DELETE]
        assert [(e.kv.key, e.kv.mod_revision) for e in events] == [(b"a", 2)]
        assert (await view.range(b"a")).kvs == []
