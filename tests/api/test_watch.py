"""API watches of one kind share the work of a write: one decode, one converted batch
for every watch without selectors; each watch still gets its own list, and watches
with selectors or of other kinds are not confused with them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import msgspec

from kubeactors.api import ConfigMap, ObjectMeta, Pod, WatchEvent

from .harness import make_pod, running_api


async def _take(watch: Any, count: int) -> list[WatchEvent[Any]]:
    events: list[WatchEvent[Any]] = []
    with anyio.fail_after(5):
        async for batch in watch:
            events.extend(batch)
            if len(events) >= count:
                break
    return events


async def test_plain_watches_share_events_selector_watches_see_transitions(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as h:
        pod = await h.client.create(make_pod("a"))
        version = pod.metadata.resource_version
        plain = [await h.client.watch(Pod, resource_version=version) for _ in range(3)]
        selected = await h.client.watch(Pod, resource_version=version, label_selector="app=web")
        maps = await h.client.watch(ConfigMap, resource_version=version)

        labelled = await h.client.update(
            msgspec.structs.replace(
                pod, metadata=msgspec.structs.replace(pod.metadata, labels={"app": "web"})
            )
        )
        await h.client.create(ConfigMap(metadata=ObjectMeta(name="a"), data={"k": "v"}))
        await h.client.update(
            msgspec.structs.replace(
                labelled, metadata=msgspec.structs.replace(labelled.metadata, labels={})
            )
        )

        seen = [await _take(watch, 2) for watch in plain]
        assert [(e.type, e.object.metadata.labels) for e in seen[0]] == [
            ("MODIFIED", {"app": "web"}),
            ("MODIFIED", {}),
        ]
        assert seen[0] == seen[1] == seen[2]
        # The same frozen events, in lists of their own.
        assert all(a is b for a, b in zip(seen[0], seen[1], strict=True))
        await h.client.create(make_pod("b"))
        with anyio.fail_after(5):
            batches = [await watch.__anext__() for watch in plain]
        assert batches[0] == batches[1] == batches[2]
        assert batches[0] is not batches[1]  # a consumer may change its own list
        batches[0].clear()
        assert [e.object.metadata.name for e in batches[1]] == ["b"]

        assert [(e.type, e.object.metadata.name) for e in await _take(selected, 2)] == [
            ("ADDED", "a"),
            ("DELETED", "a"),
        ]
        assert [(e.type, type(e.object)) for e in await _take(maps, 1)] == [("ADDED", ConfigMap)]
        for watch in plain:
            watch.close()
        selected.close()
        maps.close()
