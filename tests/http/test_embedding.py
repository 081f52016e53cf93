"""`Cluster(serve=True)`: an embedded cluster serves its API while it runs."""

from __future__ import annotations

import ssl

import httpx

from kubeactors.cluster import Cluster


async def test_an_embedded_cluster_serves_its_nodes_and_pods() -> None:
    async with Cluster(nodes=2, serve=True) as cluster:
        server = cluster.server
        assert server is not None
        verify = ssl.create_default_context(cafile=server.data_dir / "pki" / "ca.crt")
        headers = {"Authorization": f"Bearer {server.token}"}
        async with httpx.AsyncClient(base_url=server.url, verify=verify, headers=headers) as http:
            nodes = (await http.get("/api/v1/nodes")).json()
            assert sorted(n["metadata"]["name"] for n in nodes["items"]) == ["node-0", "node-1"]
            await cluster.create_pods(3)
            await cluster.wait_until_running(3)
            pods = (await http.get("/api/v1/namespaces/default/pods")).json()["items"]
            assert [p["status"]["phase"] for p in pods] == ["Running"] * 3
            assert {p["spec"]["nodeName"] for p in pods} <= {"node-0", "node-1"}
        url = server.url
    assert cluster.server is None
    async with httpx.AsyncClient(verify=False) as http:
        try:
            await http.get(url + "/healthz")
        except httpx.ConnectError:
            pass
        else:
            raise AssertionError("the server still answers after the cluster stopped")


async def test_logs_of_a_pod_come_from_its_kubelet() -> None:
    async with Cluster(nodes=1, serve=True) as cluster:
        server = cluster.server
        assert server is not None
        verify = ssl.create_default_context(cafile=server.data_dir / "pki" / "ca.crt")
        headers = {"Authorization": f"Bearer {server.token}"}
        await cluster.create_pods(1)
        await cluster.wait_until_running(1)
        [pod] = await cluster.pods()
        async with httpx.AsyncClient(base_url=server.url, verify=verify, headers=headers) as http:
            path = f"/api/v1/namespaces/default/pods/{pod.metadata.name}/log"
            response = await http.get(path)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("text/plain")
            previous = await http.get(path, params={"previous": "true"})
            assert previous.status_code == 400
            assert "previous terminated container" in previous.json()["message"]
