from pathlib import Path
from typing import Any

import msgspec
import pytest

from kubeactors.api import ConfigMap, ObjectMeta, OwnerReference, Pod, ReplicaSet
from kubeactors.client import Client
from kubeactors.cluster import Cluster
from kubeactors.controllers import GarbageCollector

from ..api.crds import widget_crd
from ..api.harness import Harness, make_pod, running_api
from .faults import wait_for
from .objects import replica_set


async def _family(client: Client, children: int = 3) -> tuple[ReplicaSet, list[Pod]]:
    owner = await client.create(replica_set("web", 0))
    reference = OwnerReference(
        api_version="apps/v1",
        kind="ReplicaSet",
        name="web",
        uid=owner.metadata.uid,
        controller=True,
        block_owner_deletion=True,
    )
    pods = []
    for index in range(children):
        pod = make_pod(f"child-{index}")
        meta = msgspec.structs.replace(pod.metadata, owner_references=[reference])
        pods.append(await client.create(msgspec.structs.replace(pod, metadata=meta)))
    return owner, pods


def _collector(h: Harness) -> None:
    h.system.spawn(lambda: GarbageCollector(h.client), name="gc")


async def test_background_deletes_the_dependents_of_a_deleted_owner(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        _collector(h)
        await _family(h.client)
        await h.client.create(make_pod("unrelated"))
        await h.client.delete(ReplicaSet, "web", "default")
        pods = await wait_for(h.client, Pod, lambda pods: len(pods) == 1)
        assert pods[0].metadata.name == "unrelated"


async def test_orphan_keeps_the_dependents_without_the_reference(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        _collector(h)
        await _family(h.client)
        await h.client.delete(ReplicaSet, "web", "default", propagation_policy="Orphan")
        await wait_for(h.client, ReplicaSet, lambda items: not items)
        pods = await wait_for(
            h.client, Pod, lambda pods: all(not p.metadata.owner_references for p in pods)
        )
        assert len(pods) == 3


async def test_foreground_deletes_dependents_before_the_owner(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        _collector(h)
        await _family(h.client)
        await h.client.delete(ReplicaSet, "web", "default", propagation_policy="Foreground")
        await wait_for(h.client, ReplicaSet, lambda items: not items)
        assert (await h.client.list(Pod)).items == []


@pytest.mark.parametrize("other_owner_alive", [False, True])
async def test_a_dangling_reference_is_dropped_or_its_object_deleted(
    tmp_path: Path, other_owner_alive: bool
) -> None:
    async with running_api(tmp_path) as h:
        _collector(h)
        owner, _ = await _family(h.client, children=0)
        live = OwnerReference(
            api_version="apps/v1", kind="ReplicaSet", name="web", uid=owner.metadata.uid
        )
        ghost = OwnerReference(api_version="apps/v1", kind="ReplicaSet", name="ghost", uid="nope")
        pod = make_pod("child")
        refs = [ghost, live] if other_owner_alive else [ghost]
        meta = msgspec.structs.replace(pod.metadata, owner_references=refs)
        await h.client.create(msgspec.structs.replace(pod, metadata=meta))
        if other_owner_alive:
            (kept,) = await wait_for(
                h.client, Pod, lambda pods: len(pods[0].metadata.owner_references) == 1
            )
            assert kept.metadata.owner_references[0].uid == owner.metadata.uid
        else:
            await wait_for(h.client, Pod, lambda pods: not pods)


def _owned_by(obj: Any) -> OwnerReference:
    return OwnerReference(
        api_version=obj.api_version,
        kind=obj.kind,
        name=obj.metadata.name,
        uid=obj.metadata.uid,
        block_owner_deletion=True,
    )


@pytest.mark.parametrize("crd_first", [True, False])
async def test_custom_objects_own_and_are_owned(tmp_path: Path, crd_first: bool) -> None:
    """An operator's objects: a custom owner takes its ConfigMap and its custom
    dependents with it, whether its CRD was there when the collector started or came
    after."""
    if crd_first:
        async with Cluster(nodes=0, data_dir=tmp_path) as cluster:
            await cluster.client.create(widget_crd())
    async with Cluster(nodes=0, data_dir=tmp_path) as cluster:
        client = cluster.client
        if not crd_first:
            await client.create(widget_crd())
        await client.list(ConfigMap)  # the API server has answered: its kinds are loaded
        widget: type[Any] = cluster.kinds.of_resource("example.com", "widgets").type

        def make(name: str, owner: Any = None) -> Any:
            refs = [_owned_by(owner)] if owner is not None else []
            meta = ObjectMeta(name=name, namespace="default", owner_references=refs)
            return widget(metadata=meta, spec={"size": 1})

        parent = await client.create(make("parent"))
        child = await client.create(make("child", parent))
        await client.create(make("grandchild", child))
        await client.create(make("bystander"))
        await client.create(
            ConfigMap(
                metadata=ObjectMeta(
                    name="parent-config",
                    namespace="default",
                    owner_references=[_owned_by(parent)],
                ),
                data={"size": "1"},
            )
        )
        await client.delete(widget, "parent", "default")
        left = await wait_for(client, widget, lambda items: len(items) == 1)
        assert [w.metadata.name for w in left] == ["bystander"]
        await wait_for(
            client,
            ConfigMap,
            lambda items: all(c.metadata.name != "parent-config" for c in items),
        )
