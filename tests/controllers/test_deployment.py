from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import msgspec

from kubeactors.api import (
    ApiError,
    Deployment,
    DeploymentSpec,
    DeploymentStrategy,
    LabelSelector,
    ObjectMeta,
    Pod,
    ReplicaSet,
    RollingUpdateDeployment,
)
from kubeactors.client import Client, Informer
from kubeactors.controllers import DeploymentController, ReplicaSetController, rollback
from kubeactors.controllers._pods import is_ready

from ..api.harness import Harness, running_api
from .faults import pods_become_ready, running_informer, wait_for
from .objects import LABELS, template


def web(
    replicas: int,
    *,
    surge: int | str = 1,
    unavailable: int | str = 1,
    kind: str = "RollingUpdate",
    deadline: int | None = None,
) -> Deployment:
    rolling = RollingUpdateDeployment(max_surge=surge, max_unavailable=unavailable)
    return Deployment(
        metadata=ObjectMeta(name="web", namespace="default"),
        spec=DeploymentSpec(
            replicas=replicas,
            selector=LabelSelector(match_labels=dict(LABELS)),
            template=template(),
            strategy=DeploymentStrategy(
                type=kind,  # type: ignore[arg-type]
                rolling_update=rolling if kind == "RollingUpdate" else None,
            ),
            progress_deadline_seconds=deadline,
        ),
    )


async def edit(client: Client, change: Callable[[DeploymentSpec], DeploymentSpec]) -> Deployment:
    while True:
        current = await client.get(Deployment, "web", "default")
        try:
            return await client.update(msgspec.structs.replace(current, spec=change(current.spec)))
        except ApiError as error:
            if error.code != 409:
                raise


def new_image(spec: DeploymentSpec, image: str = "busybox:2") -> DeploymentSpec:
    containers = [msgspec.structs.replace(c, image=image) for c in spec.template.spec.containers]
    pod_spec = msgspec.structs.replace(spec.template.spec, containers=containers)
    return msgspec.structs.replace(
        spec, template=msgspec.structs.replace(spec.template, spec=pod_spec)
    )


@asynccontextmanager
async def controllers(h: Harness) -> AsyncIterator[None]:
    rs = h.system.spawn(lambda: ReplicaSetController(h.client), name="rs")
    dc = h.system.spawn(lambda: DeploymentController(h.client), name="deployments")
    try:
        yield
    finally:
        await dc.stop()
        await rs.stop()


def rolled_out(image: str, replicas: int) -> Callable[[list[Deployment]], bool]:
    def check(items: list[Deployment]) -> bool:
        d = items[0]
        return (
            d.spec.template.spec.containers[0].image == image
            and d.status.observed_generation == d.metadata.generation
            and d.status.updated_replicas == replicas
            and d.status.available_replicas == replicas
            and d.status.replicas == replicas
        )

    return check


async def test_rolling_update_keeps_within_surge_and_unavailable(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h, controllers(h), pods_become_ready(h.client):
        await h.client.create(web(10, surge=2, unavailable=1))
        await wait_for(h.client, Deployment, rolled_out("busybox", 10))
        pods: Informer[Pod] = Informer(h.client, Pod)
        totals: list[int] = []
        ready: list[int] = []

        async def observe(_: object) -> None:
            items = pods.items()
            totals.append(len(items))
            ready.append(sum(1 for p in items if is_ready(p)))

        pods.add_batch_handler(observe)
        async with running_informer(pods):
            await edit(h.client, new_image)
            (d,) = await wait_for(h.client, Deployment, rolled_out("busybox:2", 10), timeout=30)
        assert max(totals) <= 12
        assert min(ready) >= 9
        assert len(totals) > 5
        assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "2"
        sets = (await h.client.list(ReplicaSet)).items
        assert sorted(rs.spec.replicas or 0 for rs in sets) == [0, 10]
        assert {p.spec.containers[0].image for p in (await h.client.list(Pod)).items} == {
            "busybox:2"
        }

        await rollback(h.client, "web")
        (d,) = await wait_for(h.client, Deployment, rolled_out("busybox", 10), timeout=30)
        assert d.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
        assert len((await h.client.list(ReplicaSet)).items) == 2  # the old one was reused


async def test_recreate_never_runs_old_and_new_together(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h, controllers(h), pods_become_ready(h.client):
        await h.client.create(web(4, kind="Recreate"))
        await wait_for(h.client, Deployment, rolled_out("busybox", 4))
        pods: Informer[Pod] = Informer(h.client, Pod)
        mixed: list[set[str]] = []

        async def observe(_: object) -> None:
            mixed.append({p.spec.containers[0].image for p in pods.items()})

        pods.add_batch_handler(observe)
        async with running_informer(pods):
            await edit(h.client, new_image)
            await wait_for(h.client, Deployment, rolled_out("busybox:2", 4), timeout=30)
        assert all(len(images) <= 1 for images in mixed)
        assert set() in mixed  # it did go through zero


async def test_paused_deployment_only_scales_and_resumes(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h, controllers(h), pods_become_ready(h.client):
        await h.client.create(web(3))
        await wait_for(h.client, Deployment, rolled_out("busybox", 3))
        await edit(
            h.client, lambda s: msgspec.structs.replace(new_image(s), paused=True, replicas=5)
        )
        (d,) = await wait_for(
            h.client, Deployment, lambda items: items[0].status.available_replicas == 5
        )
        assert len((await h.client.list(ReplicaSet)).items) == 1
        assert {c.reason for c in d.status.conditions if c.type == "Progressing"} == {
            "DeploymentPaused"
        }
        await edit(h.client, lambda s: msgspec.structs.replace(s, paused=False))
        await wait_for(h.client, Deployment, rolled_out("busybox:2", 5), timeout=30)


async def test_progress_deadline_marks_a_stuck_rollout(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h, controllers(h):
        await h.client.create(web(2, deadline=1))
        (d,) = await wait_for(
            h.client,
            Deployment,
            lambda items: any(
                c.reason == "ProgressDeadlineExceeded" for c in items[0].status.conditions
            ),
            timeout=20,
        )
        (progressing,) = [c for c in d.status.conditions if c.type == "Progressing"]
        assert progressing.status == "False"


async def test_a_restarted_controller_resumes_a_rollout(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h, pods_become_ready(h.client):
        rs = h.system.spawn(lambda: ReplicaSetController(h.client), name="rs")
        first = h.system.spawn(lambda: DeploymentController(h.client), name="deployments-1")
        await h.client.create(web(20, surge=2, unavailable=0))
        await wait_for(h.client, Deployment, rolled_out("busybox", 20))
        await edit(h.client, new_image)
        # Stop it as soon as the rollout has begun, then start a fresh one.
        await wait_for(h.client, ReplicaSet, lambda items: len(items) == 2)
        await first.stop()
        h.system.spawn(lambda: DeploymentController(h.client), name="deployments-2")
        await wait_for(h.client, Deployment, rolled_out("busybox:2", 20), timeout=30)
        pods = (await h.client.list(Pod)).items
        assert len(pods) == 20
        assert {p.spec.containers[0].image for p in pods} == {"busybox:2"}
        await rs.stop()


async def test_rolling_update_of_a_thousand_stays_within_its_bounds(tmp_path: Path) -> None:
    replicas, surge, unavailable = 1000, 100, 50
    async with running_api(tmp_path) as h, controllers(h), pods_become_ready(h.client):
        await h.client.create(web(replicas, surge=surge, unavailable="5%"))
        await wait_for(h.client, Deployment, rolled_out("busybox", replicas), timeout=90)
        pods: Informer[Pod] = Informer(h.client, Pod)
        totals: list[int] = []
        ready: list[int] = []

        async def observe(_: object) -> None:
            items = pods.items()
            totals.append(len(items))
            ready.append(sum(1 for p in items if is_ready(p)))

        pods.add_batch_handler(observe)
        async with running_informer(pods):
            await edit(h.client, new_image)
            await wait_for(h.client, Deployment, rolled_out("busybox:2", replicas), timeout=90)
        assert max(totals) <= replicas + surge
        assert min(ready) >= replicas - unavailable
        assert len(totals) > 10
