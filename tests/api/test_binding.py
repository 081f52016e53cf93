"""The binding subresource when the binder says which version of the pod it saw.

A bind carries the pod's resourceVersion as the binder saw it; when the server has
that version at hand it writes conditionally on it without reading first. Whatever
happened to the pod since, the outcome is the one a fresh read would give.
"""

from pathlib import Path

import anyio
import pytest
from msgspec.structs import replace

from kubeactors.api import ApiError, Pod
from kubeactors.client import Callback

from .harness import make_pod, running_api


async def test_a_bind_from_the_current_version_is_one_write(tmp_path: Path) -> None:
    async with running_api(tmp_path, compat_updates=False) as h:
        pod = await h.client.create(make_pod("web"))
        bound = await h.client.bind(pod, "node-1")
        assert bound.spec.node_name == "node-1"
        assert [(c.type, c.status) for c in bound.status.conditions] == [("PodScheduled", "True")]
        assert int(bound.metadata.resource_version) == int(pod.metadata.resource_version) + 1
        assert await h.client.get(Pod, "web") == bound


async def test_a_bind_from_a_stale_version_keeps_the_changes_made_since(tmp_path: Path) -> None:
    async with running_api(tmp_path, compat_updates=False) as h:
        seen = await h.client.create(make_pod("web", labels={"app": "web"}))  # type: ignore[arg-type]
        meta = replace(seen.metadata, labels={"app": "web", "tier": "front"})
        await h.client.update(replace(seen, metadata=meta))
        bound = await h.client.bind(seen, "node-1")
        assert bound.spec.node_name == "node-1"
        assert bound.metadata.labels == {"app": "web", "tier": "front"}
        assert await h.client.get(Pod, "web") == bound


async def test_a_pod_bound_since_the_binder_saw_it_is_a_conflict(tmp_path: Path) -> None:
    async with running_api(tmp_path, compat_updates=False) as h:
        seen = await h.client.create(make_pod("web"))
        await h.client.bind(seen, "node-1")
        with pytest.raises(ApiError) as caught:
            await h.client.bind(seen, "node-2")
        assert (caught.value.code, caught.value.reason) == (409, "Conflict")
        assert 'already assigned to node "node-1"' in caught.value.status.message
        assert (await h.client.get(Pod, "web")).spec.node_name == "node-1"


async def test_a_pod_replaced_since_the_binder_saw_it_is_a_conflict(tmp_path: Path) -> None:
    async with running_api(tmp_path, compat_updates=False) as h:
        seen = await h.client.create(make_pod("web"))
        await h.client.delete(Pod, "web", grace_period_seconds=0)
        await h.client.create(make_pod("web"))
        with pytest.raises(ApiError) as caught:
            await h.client.bind(seen, "node-1")
        assert (caught.value.code, caught.value.reason) == (409, "Conflict")
        assert "UID mismatch" in caught.value.status.message
        assert not (await h.client.get(Pod, "web")).spec.node_name


async def test_a_pod_deleted_since_the_binder_saw_it_is_not_found(tmp_path: Path) -> None:
    async with running_api(tmp_path, compat_updates=False) as h:
        seen = await h.client.create(make_pod("web"))
        await h.client.delete(Pod, "web", grace_period_seconds=0)
        with pytest.raises(ApiError) as caught:
            await h.client.bind(seen, "node-1")
        assert caught.value.code == 404


async def test_bindings_sent_together_are_each_written_and_answered_alone(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path, compat_updates=False) as h:
        fresh = [await h.client.create(make_pod(f"web-{n}")) for n in range(3)]
        taken = await h.client.bind(fresh[1], "node-9")
        answers: dict[str, tuple[Pod | None, BaseException | None]] = {}
        all_answered = anyio.Event()

        def on_answer(name: str) -> Callback[Pod]:
            def answered(pod: Pod | None, error: BaseException | None) -> None:
                answers[name] = (pod, error)
                if len(answers) == 3:
                    all_answered.set()

            return answered

        await h.client.send_binds(
            [(pod, f"node-{n}", on_answer(pod.metadata.name)) for n, pod in enumerate(fresh)]
        )
        with anyio.fail_after(10):
            await all_answered.wait()
        for name, node in (("web-0", "node-0"), ("web-2", "node-2")):
            bound, error = answers[name]
            assert error is None
            assert bound is not None
            assert bound.spec.node_name == node
            assert await h.client.get(Pod, name) == bound
        bound, error = answers["web-1"]
        assert bound is None
        assert isinstance(error, ApiError)
        assert error.code == 409
        assert await h.client.get(Pod, "web-1") == taken
