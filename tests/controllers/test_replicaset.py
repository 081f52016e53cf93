from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import msgspec
import pytest

from kubeactors.actors import ActorRef
from kubeactors.api import (
    ApiError,
    ApiObject,
    ObjectMeta,
    Pod,
    ReplicaSet,
    ReplicationController,
    ReplicationControllerSpec,
)
from kubeactors.client import Client
from kubeactors.controllers import (
    ReplicaSetController,
    ReplicationControllerController,
    slow_start_batches,
)

from ..api.harness import Harness, make_pod, running_api
from .faults import FaultyClient, running_informer, wait_for, wait_status, watch_max
from .objects import LABELS, replica_set, running, scale, template

R = TypeVar("R", bound=ApiObject)


@asynccontextmanager
async def replicaset_controller(
    h: Harness, client: Client | None = None
) -> AsyncIterator[ActorRef[object]]:
    ref = h.system.spawn(lambda: ReplicaSetController(client or h.client), name="rs-controller")
    try:
        yield ref
    finally:
        await ref.stop()


def owned_by(name: str, pods: list[Pod]) -> list[Pod]:
    return [p for p in pods if any(r.name == name for r in p.metadata.owner_references)]


def test_slow_start_batches_double_and_sum_to_the_count() -> None:
    assert slow_start_batches(0) == []
    assert slow_start_batches(1) == [1]
    assert slow_start_batches(10) == [1, 2, 4, 3]
    assert sum(slow_start_batches(500)) == 500


async def test_creates_replicas_with_controller_references_and_status(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h, replicaset_controller(h):
        rs = await h.client.create(replica_set("web", 5))
        pods = await wait_for(h.client, Pod, lambda pods: len(pods) == 5)
        for pod in pods:
            (reference,) = pod.metadata.owner_references
            assert (reference.kind, reference.uid, reference.controller) == (
                "ReplicaSet",
                rs.metadata.uid,
                True,
            )
            assert pod.metadata.labels == LABELS
            assert pod.metadata.name.startswith("web-")
        (stored,) = await wait_for(
            h.client, ReplicaSet, lambda items: items[0].status.replicas == 5
        )
        assert stored.status.fully_labeled_replicas == 5
        assert stored.status.ready_replicas == 0


async def test_scale_down_deletes_unscheduled_and_not_ready_pods_first(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h, replicaset_controller(h):
        await h.client.create(replica_set("web", 4))
        pods = await wait_for(h.client, Pod, lambda pods: len(pods) == 4)
        ordered = sorted(pods, key=lambda p: p.metadata.name)
        keep_ready = [await h.client.update(running(p)) for p in ordered[:2]]
        await h.client.update(running(ordered[2], ready=False))
        await wait_for(h.client, ReplicaSet, lambda items: items[0].status.ready_replicas == 2)
        await scale(h.client, "web", 2)
        left = await wait_for(h.client, Pod, lambda pods: len(pods) == 2)
        assert {p.metadata.name for p in left} == {p.metadata.name for p in keep_ready}


async def test_adopts_matching_orphans_and_releases_pods_that_stop_matching(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as h, replicaset_controller(h):
        orphan = await h.client.create(make_pod("orphan", labels=LABELS))  # type: ignore[arg-type]
        await h.client.create(replica_set("web", 2))
        pods = await wait_for(
            h.client, Pod, lambda pods: len(pods) == 2 and len(owned_by("web", pods)) == 2
        )
        assert orphan.metadata.name in {p.metadata.name for p in pods}
        adopted = await h.client.get(Pod, "orphan", "default")
        relabelled = msgspec.structs.replace(
            adopted, metadata=msgspec.structs.replace(adopted.metadata, labels={"app": "other"})
        )
        await h.client.update(relabelled)
        pods = await wait_for(
            h.client, Pod, lambda pods: len(pods) == 3 and len(owned_by("web", pods)) == 2
        )
        released = next(p for p in pods if p.metadata.name == "orphan")
        assert released.metadata.owner_references == []


async def test_replication_controllers_use_the_same_engine(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        ref = h.system.spawn(lambda: ReplicationControllerController(h.client), name="rc")
        await h.client.create(
            ReplicationController(
                metadata=ObjectMeta(name="legacy", namespace="default"),
                spec=ReplicationControllerSpec(replicas=3, selector=LABELS, template=template()),
            )
        )
        pods = await wait_for(h.client, Pod, lambda pods: len(pods) == 3)
        assert {r.kind for p in pods for r in p.metadata.owner_references} == {
            "ReplicationController"
        }
        (rc,) = await wait_for(
            h.client, ReplicationController, lambda items: items[0].status.replicas == 3
        )
        assert rc.status.fully_labeled_replicas == 3
        await ref.stop()


async def test_min_ready_seconds_holds_back_available_replicas(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h, replicaset_controller(h):
        await h.client.create(replica_set("web", 2, min_ready_seconds=3600))
        pods = await wait_for(h.client, Pod, lambda pods: len(pods) == 2)
        await h.client.update(running(pods[0], since="2000-01-01T00:00:00Z"))
        await h.client.update(running(pods[1], since="2999-01-01T00:00:00Z"))
        (rs,) = await wait_for(
            h.client, ReplicaSet, lambda items: items[0].status.ready_replicas == 2
        )
        assert rs.status.available_replicas == 1


async def test_a_rejected_template_costs_one_request_per_sync(tmp_path: Path) -> None:
    class Rejecting(Client):
        creates = 0

        async def create(self, obj: R) -> R:
            if isinstance(obj, Pod):
                Rejecting.creates += 1
                raise ApiError.conflict("pods", "x")
            return await super().create(obj)

    async with running_api(tmp_path) as h:
        client = Rejecting(h.client.api, timeout=10.0)
        async with replicaset_controller(h, client) as ref:
            await h.client.create(replica_set("web", 100))
            status = await wait_status(ref, lambda status: status.failures >= 3)
            # Each failed sync stopped after its first batch of one pod.
            assert status.failures <= Rejecting.creates <= status.failures + 1
            assert (await h.client.list(Pod)).items == []


@pytest.mark.parametrize("seed", [1, 2])
async def test_converges_without_overshoot_under_lag_and_injected_errors(
    tmp_path: Path, seed: int
) -> None:
    async with running_api(tmp_path) as h:
        faulty = FaultyClient(h.client, seed=seed, fail_rate=0.2)
        observer, counts = await watch_max(h.client, Pod, len)
        async with running_informer(observer), replicaset_controller(h, faulty) as ref:
            await h.client.create(replica_set("web", 20))
            await wait_for(h.client, Pod, lambda pods: len(pods) == 20, timeout=60)
            await scale(h.client, "web", 7)
            await wait_for(h.client, Pod, lambda pods: len(pods) == 7, timeout=60)
            # A restart mid-way: a fresh controller picks up from the caches.
            await ref.stop()
        async with running_informer(observer), replicaset_controller(h, faulty):
            await scale(h.client, "web", 12)
            await wait_for(
                h.client,
                ReplicaSet,
                lambda items: items[0].status.replicas == 12,
                timeout=60,
            )
            pods = await h.client.list(Pod, "default")
            assert len(pods.items) == 12
        assert faulty.injected > 0
        assert max(counts) <= 20
