"""`etcdctl lease` against our endpoint: grant, attach keys, keep alive, revoke, expire."""

from __future__ import annotations

import re
from pathlib import Path

import anyio
from anyio.streams.buffered import BufferedByteReceiveStream

from .harness import Endpoint, environment, serving

_GRANTED = re.compile(r"^lease ([0-9a-f]+) granted with TTL\((\d+)s\)$")


async def grant(etcd: Endpoint, ttl: int) -> str:
    output = (await etcd.etcdctl("lease", "grant", str(ttl))).strip()
    match = _GRANTED.match(output)
    assert match is not None, output
    assert int(match.group(2)) == ttl
    return match.group(1)


async def test_lease_with_keys_attached_then_revoked_deletes_them(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        lease = await grant(etcd, 60)
        await etcd.etcdctl("put", "--lease", lease, "/l/a", "1")
        await etcd.etcdctl("put", "--lease", lease, "/l/b", "2")
        await etcd.etcdctl("put", "/l/kept", "3")
        attached = await etcd.etcdctl_json("lease", "timetolive", lease, "--keys")
        assert attached["id"] == int(lease, 16)
        assert attached["granted-ttl"] == 60
        assert 0 < attached["ttl"] <= 60
        assert sorted(attached["keys"]) == ["L2wvYQ==", "L2wvYg=="]  # /l/a, /l/b
        text = await etcd.etcdctl("lease", "timetolive", lease, "--keys")
        assert text.startswith(f"lease {lease} granted with TTL(60s), remaining(")
        assert text.strip().endswith("attached keys([/l/a /l/b])")
        assert (await etcd.etcdctl_json("get", "/l/a"))["kvs"][0]["lease"] == int(lease, 16)
        assert await etcd.etcdctl("lease", "revoke", lease) == f"lease {lease} revoked\n"
        assert await etcd.etcdctl("get", "--prefix", "/l/", "--keys-only") == "/l/kept\n\n"
        assert await etcd.etcdctl("lease", "timetolive", lease) == (
            f"lease {lease} already expired\n"
        )
        error = await etcd.etcdctl_fails("lease", "revoke", lease)
        assert "etcdserver: requested lease not found" in error


async def test_keep_alive_once_and_as_a_stream(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        lease = await grant(etcd, 3)
        once = await etcd.etcdctl("lease", "keep-alive", "--once", lease)
        assert once == f"lease {lease} keepalived with TTL(3)\n"
        process = await anyio.open_process(
            etcd.command("lease", "keep-alive", lease), env=environment()
        )
        try:
            assert process.stdout is not None
            lines = BufferedByteReceiveStream(process.stdout)
            with anyio.fail_after(20):
                for _ in range(2):
                    line = await lines.receive_until(b"\n", 4096)
                    assert line.decode() == f"lease {lease} keepalived with TTL(3)"
        finally:
            process.kill()
            await process.aclose()


async def test_an_expired_lease_takes_its_keys_with_it(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        lease = await grant(etcd, 2)
        await etcd.etcdctl("put", "--lease", lease, "short", "lived")
        with anyio.fail_after(20):
            while await etcd.etcdctl("get", "short"):
                await etcd.system.clock.sleep(0.2)
        assert await etcd.etcdctl("lease", "timetolive", lease) == (
            f"lease {lease} already expired\n"
        )


async def test_put_with_an_unknown_lease_is_refused(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        error = await etcd.etcdctl_fails("put", "--lease", "1234abcd", "key", "value")
        assert "etcdserver: requested lease not found" in error
        assert await etcd.etcdctl("get", "key") == ""


async def test_lease_list_names_every_granted_lease(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        first, second = await grant(etcd, 60), await grant(etcd, 60)
        listed = await etcd.etcdctl("lease", "list")
        assert listed.splitlines()[0] == "found 2 leases"
        assert sorted(listed.splitlines()[1:]) == sorted([first, second])
