"""`HttpClient` against a served API: the same answers and errors as the in-process client."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
import pytest

from kubeactors.api import ApiError, Pod, WatchEvent
from kubeactors.http import HttpClient

from .harness import pod, ready_node, served


async def test_crud_and_errors_over_https(tmp_path: Path) -> None:
    async with served(tmp_path) as api, HttpClient.from_kubeconfig(api.server.kubeconfig) as http:
        created = await http.create(pod("a", "team", app="x"))
        assert created.metadata.namespace == "team"
        assert created.metadata.resource_version
        same = await http.get(Pod, "a", "team")
        assert same == await api.client.get(Pod, "a", "team")
        await http.create(pod("b"))
        assert sorted(p.metadata.name for p in (await http.list(Pod)).items) == ["a", "b"]
        assert [p.metadata.name for p in (await http.list(Pod, "team")).items] == ["a"]
        relabelled = msgspec.structs.replace(
            same, metadata=msgspec.structs.replace(same.metadata, labels={"app": "y"})
        )
        updated = await http.update(relabelled)
        assert updated.metadata.labels == {"app": "y"}
        with pytest.raises(ApiError) as stale:
            await http.update(relabelled)
        assert stale.value.reason == "Conflict"
        with pytest.raises(ApiError) as exists:
            await http.create(pod("b"))
        assert (exists.value.code, exists.value.reason) == (409, "AlreadyExists")
        deleted = await http.delete(Pod, "a", "team")
        assert deleted.metadata.name == "a"
        with pytest.raises(ApiError) as missing:
            await http.get(Pod, "a", "team")
        assert missing.value.status.message == 'pods "a" not found'
        node = await http.create(ready_node("n1"))
        assert node.metadata.namespace == ""


async def test_send_update_calls_back(tmp_path: Path) -> None:
    async with served(tmp_path) as api, HttpClient.from_kubeconfig(api.server.kubeconfig) as http:
        current = await http.create(pod("a"))
        done = anyio.Event()
        results: list[tuple[Pod | None, BaseException | None]] = []

        def on_done(updated: Pod | None, error: BaseException | None) -> None:
            results.append((updated, error))
            done.set()

        await http.send_update(current, on_done)
        with anyio.fail_after(30):
            await done.wait()
        [(updated, error)] = results
        assert error is None
        assert updated is not None
        assert int(updated.metadata.resource_version) > int(current.metadata.resource_version)


async def test_watch_replays_then_follows_and_closes(tmp_path: Path) -> None:
    async with served(tmp_path) as api, HttpClient.from_kubeconfig(api.server.kubeconfig) as http:
        await api.client.create(pod("old"))
        watch = await http.watch(Pod)
        seen: list[WatchEvent[Pod]] = []
        with anyio.fail_after(30):
            async for batch in watch:
                seen += batch
                if [e.object.metadata.name for e in seen] == ["old"]:
                    await api.client.create(pod("new"))
                    await api.client.delete(Pod, "old")
                if len(seen) >= 3:
                    break
        watch.close()
        assert [(e.type, e.object.metadata.name) for e in seen] == [
            ("ADDED", "old"),
            ("ADDED", "new"),
            ("DELETED", "old"),
        ]
        with pytest.raises(StopAsyncIteration):
            await watch.__anext__()


async def test_a_bad_watch_version_is_an_error(tmp_path: Path) -> None:
    async with served(tmp_path) as api, HttpClient.from_kubeconfig(api.server.kubeconfig) as http:
        with pytest.raises(ApiError) as caught:
            await http.watch(Pod, resource_version="not-a-number")
        assert caught.value.code == 400
