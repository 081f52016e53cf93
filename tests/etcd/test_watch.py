"""`etcdctl watch` against our endpoint, seeing what other etcdctl processes write."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import anyio

from .harness import serving


def text(value: object) -> str:
    return base64.b64decode(str(value)).decode()


def summary(event: dict[str, Any]) -> tuple[str, str, str]:
    kind = "DELETE" if event.get("type") == 1 else "PUT"
    kv = event["kv"]
    return kind, text(kv["key"]), text(kv.get("value", ""))


async def test_watch_a_prefix_sees_puts_and_deletes_by_another_etcdctl(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd, etcd.watching("--prefix", "/w/") as watch:
        await etcd.etcdctl("put", "/w/a", "1")
        await etcd.etcdctl("put", "/other", "ignored")
        await etcd.etcdctl("put", "/w/b", "2")
        await etcd.etcdctl("del", "/w/a")
        events = await watch.events(3)
        assert [summary(event) for event in events] == [
            ("PUT", "/w/a", "1"),
            ("PUT", "/w/b", "2"),
            ("DELETE", "/w/a", ""),
        ]
        assert [event["kv"]["mod_revision"] for event in events] == [1, 3, 4]
        assert all("prev_kv" not in event for event in events)


async def test_watch_from_a_past_revision_replays_history_in_order(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        for value in ("1", "2", "3"):
            await etcd.etcdctl("put", "key", value)
        async with etcd.watching("key", "--rev", "2") as watch:
            replayed = await watch.events(2)
            await etcd.etcdctl("put", "key", "4")
            live = await watch.events(1)
        assert [summary(event)[2] for event in [*replayed, *live]] == ["2", "3", "4"]
        assert [event["kv"]["version"] for event in [*replayed, *live]] == [2, 3, 4]


async def test_watch_with_prev_kv_carries_the_value_before(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        await etcd.etcdctl("put", "/p/x", "old")
        async with etcd.watching("--prefix", "/p/", "--prev-kv") as watch:
            await etcd.etcdctl("put", "/p/x", "new")
            await etcd.etcdctl("del", "/p/x")
            events = await watch.events(2)
        assert [text(event["prev_kv"]["value"]) for event in events] == ["old", "new"]
        assert summary(events[1]) == ("DELETE", "/p/x", "")


async def test_watch_below_the_compaction_is_cancelled_as_etcd_cancels_it(
    tmp_path: Path,
) -> None:
    async with serving(tmp_path) as etcd:
        for value in ("1", "2", "3"):
            await etcd.etcdctl("put", "key", value)
        await etcd.etcdctl("compaction", "3")
        with anyio.fail_after(20):
            error = await etcd.etcdctl_fails("watch", "key", "--rev", "1")
        assert "etcdserver: mvcc: required revision has been compacted" in error
