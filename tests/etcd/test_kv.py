"""etcdctl's key-value commands against our endpoint: put, get, del, txn, compaction."""

from __future__ import annotations

import base64
from pathlib import Path

from .harness import Endpoint, serving

_PROMPTS = ("compares:", "success requests (get, put, del):", "failure requests (get, put, del):")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def decoded(kvs: list[dict[str, object]]) -> list[tuple[str, str]]:
    return [
        (base64.b64decode(str(kv["key"])).decode(), base64.b64decode(str(kv["value"])).decode())
        for kv in kvs
    ]


async def txn(etcd: Endpoint, script: str) -> list[str]:
    """Pipe `script` into `etcdctl txn -i`; its output without the prompts."""
    output = await etcd.etcdctl("txn", "-i", input=script.encode())
    lines = output.splitlines()
    assert tuple(lines[:3]) == _PROMPTS
    return lines[3:]


async def test_put_then_get_one_key_a_prefix_and_a_range(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        for key, value in [("/a/1", "one"), ("/a/2", "two"), ("/a/3", "three"), ("/b", "bee")]:
            assert await etcd.etcdctl("put", key, value) == "OK\n"
        assert await etcd.etcdctl("get", "/a/2") == "/a/2\ntwo\n"
        assert await etcd.etcdctl("get", "/missing") == ""
        assert await etcd.etcdctl("get", "--prefix", "/a/", "--print-value-only") == (
            "one\ntwo\nthree\n"
        )
        assert await etcd.etcdctl("get", "/a/2", "/b", "--keys-only") == "/a/2\n\n/a/3\n\n"
        assert await etcd.etcdctl("get", "--from-key", "/a/3", "--keys-only") == ("/a/3\n\n/b\n\n")


async def test_get_json_carries_header_count_and_more_under_a_limit(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        for index in range(5):
            await etcd.etcdctl("put", f"/k/{index}", f"v{index}")
        answer = await etcd.etcdctl_json("get", "--prefix", "/k/", "--limit", "2")
        assert answer["header"]["revision"] == 5
        assert answer["header"]["member_id"] == etcd.server.identity.member_id
        assert answer["header"]["cluster_id"] == etcd.server.identity.cluster_id
        assert answer["header"]["raft_term"] == etcd.server.identity.raft_term
        assert answer["count"] == 5
        assert answer["more"] is True
        assert decoded(answer["kvs"]) == [("/k/0", "v0"), ("/k/1", "v1")]
        first = answer["kvs"][0]
        assert (first["create_revision"], first["mod_revision"], first["version"]) == (1, 1, 1)
        everything = await etcd.etcdctl_json("get", "--prefix", "/k/", "--limit", "5")
        assert everything.get("more", False) is False
        descending = await etcd.etcdctl_json(
            "get", "--prefix", "/k/", "--order", "DESCEND", "--sort-by", "MODIFY", "--limit", "2"
        )
        assert decoded(descending["kvs"]) == [("/k/4", "v4"), ("/k/3", "v3")]


async def test_get_at_a_past_revision_sees_the_value_then(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        await etcd.etcdctl("put", "key", "first")
        await etcd.etcdctl("put", "key", "second")
        await etcd.etcdctl("del", "key")
        assert await etcd.etcdctl("get", "key", "--rev", "1") == "key\nfirst\n"
        assert await etcd.etcdctl("get", "key", "--rev", "2") == "key\nsecond\n"
        assert await etcd.etcdctl("get", "key", "--rev", "3") == ""
        old = await etcd.etcdctl_json("get", "key", "--rev", "2")
        assert old["kvs"][0]["version"] == 2
        assert old["header"]["revision"] == 3
        error = await etcd.etcdctl_fails("get", "key", "--rev", "99")
        assert "etcdserver: mvcc: required revision is a future revision" in error


async def test_del_one_key_and_a_prefix_with_prev_kv(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        for key, value in [("/d/a", "1"), ("/d/b", "2"), ("/e", "3")]:
            await etcd.etcdctl("put", key, value)
        assert await etcd.etcdctl("del", "/nothing") == "0\n"
        assert await etcd.etcdctl("del", "--prefix", "--prev-kv", "/d/") == (
            "2\n/d/a\n1\n/d/b\n2\n"
        )
        assert await etcd.etcdctl("get", "--prefix", "/d/") == ""
        assert await etcd.etcdctl("del", "/e") == "1\n"
        status = await etcd.etcdctl_json("get", "/e")
        # The prefix delete took one revision for both keys, as in etcd.
        assert status["header"]["revision"] == 5


async def test_interactive_txn_runs_the_branch_its_compares_pick(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        await etcd.etcdctl("put", "flag", "on")
        script = 'value("flag") = "on"\n\nput result yes\nget flag\n\nput result no\n\n'
        assert await txn(etcd, script) == ["SUCCESS", "", "OK", "", "flag", "on"]
        assert await etcd.etcdctl("get", "result") == "result\nyes\n"
        await etcd.etcdctl("put", "flag", "off")
        assert await txn(etcd, script) == ["FAILURE", "", "OK"]
        assert await etcd.etcdctl("get", "result") == "result\nno\n"
        # A compare-and-swap on mod_revision, the way Kubernetes updates objects.
        revision = (await etcd.etcdctl_json("get", "result"))["kvs"][0]["mod_revision"]
        swap = f'mod("result") = "{revision}"\n\nput result swapped\n\n\n'
        assert await txn(etcd, swap) == ["SUCCESS", "", "OK"]
        assert await txn(etcd, swap) == ["FAILURE"]
        assert await etcd.etcdctl("get", "result", "--print-value-only") == "swapped\n"


async def test_txn_writes_all_its_keys_at_one_revision(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        script = 'version("a") = "0"\n\nput a 1\nput b 2\ndel c\n\n\n'
        assert await txn(etcd, script) == ["SUCCESS", "", "OK", "", "OK", "", "0"]
        answer = await etcd.etcdctl_json("get", "a", "c")
        assert [kv["mod_revision"] for kv in answer["kvs"]] == [1, 1]
        assert answer["header"]["revision"] == 1


async def test_compaction_refuses_reads_below_it_as_etcd_does(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        for value in ("1", "2", "3", "4"):
            await etcd.etcdctl("put", "key", value)
        assert await etcd.etcdctl("compaction", "3") == "compacted revision 3\n"
        error = await etcd.etcdctl_fails("get", "key", "--rev", "2")
        assert "etcdserver: mvcc: required revision has been compacted" in error
        assert await etcd.etcdctl("get", "key", "--rev", "3") == "key\n3\n"
        assert await etcd.etcdctl("get", "key") == "key\n4\n"
        again = await etcd.etcdctl_fails("compaction", "2")
        assert "etcdserver: mvcc: required revision has been compacted" in again
        future = await etcd.etcdctl_fails("compaction", "10")
        assert "etcdserver: mvcc: required revision is a future revision" in future
