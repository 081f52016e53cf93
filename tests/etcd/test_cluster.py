"""`etcdctl endpoint status/health` and `member list`: a one-member cluster that leads itself."""

from __future__ import annotations

from pathlib import Path

import anyio

from kubeactors.etcd import ETCD_VERSION

from .harness import environment, serving


async def test_endpoint_status_reports_version_leader_and_revision(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        await etcd.etcdctl("put", "a", "1")
        await etcd.etcdctl("put", "b", "2")
        (status,) = await etcd.etcdctl_json("endpoint", "status")
        assert status["Endpoint"] == etcd.address
        body = status["Status"]
        member_id = etcd.server.identity.member_id
        assert body["version"] == ETCD_VERSION == "3.4.0"
        assert body["header"]["revision"] == 2
        assert body["header"]["member_id"] == member_id
        assert body["leader"] == member_id
        assert body["raftTerm"] == etcd.server.identity.raft_term
        assert body["dbSize"] > 0
        fields = (await etcd.etcdctl("endpoint", "status")).split(", ")
        assert fields[:3] == [etcd.address, f"{member_id:x}", ETCD_VERSION]
        # leader, not a learner, raft term, raft index and applied index (the revision)
        assert fields[4:9] == ["true", "false", "1", "2", "2"]


async def test_endpoint_health_commits_a_read(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        result = await anyio.run_process(
            etcd.command("endpoint", "health"), check=True, env=environment()
        )
        # etcdctl 3.4 prints the health line on stderr.
        assert result.stderr.decode().startswith(
            f"{etcd.address} is healthy: successfully committed proposal"
        )


async def test_member_list_names_the_one_member_and_its_client_url(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        listing = await etcd.etcdctl_json("member", "list")
        (member,) = listing["members"]
        assert member["ID"] == etcd.server.identity.member_id
        assert member["name"] == etcd.server.identity.name
        assert member["clientURLs"] == [etcd.server.url]
        assert listing["header"]["cluster_id"] == etcd.server.identity.cluster_id
        line = await etcd.etcdctl("member", "list")
        member_id = etcd.server.identity.member_id
        assert line == f"{member_id:x}, started, kubeactors, , {etcd.server.url}, false\n"


async def test_alarm_list_is_empty_and_defrag_succeeds(tmp_path: Path) -> None:
    async with serving(tmp_path) as etcd:
        assert await etcd.etcdctl("alarm", "list") == ""
        assert await etcd.etcdctl("defrag") == (
            f"Finished defragmenting etcd member[{etcd.address}]\n"
        )
