from pathlib import Path

import anyio
import msgspec

from kubeactors.api import ApiError, Pod

from ..api.harness import make_pod, running_api


async def test_send_update_answers_through_the_callback(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        created = await h.client.create(make_pod("web"))
        bound = msgspec.structs.replace(
            created, spec=msgspec.structs.replace(created.spec, node_name="n1")
        )
        answers: list[tuple[Pod | None, BaseException | None]] = []
        both = anyio.Event()

        def on_done(pod: Pod | None, error: BaseException | None) -> None:
            answers.append((pod, error))
            if len(answers) == 2:
                both.set()

        await h.client.send_update(bound, on_done)
        await h.client.send_update(bound, on_done)  # the same, now-stale version
        with anyio.fail_after(5):
            await both.wait()
        # The stale one fails its check at once; the good one answers after its commit.
        answers.sort(key=lambda answer: answer[1] is None)
        (nothing, conflict), (first, no_error) = answers
        assert no_error is None
        assert first is not None
        assert first.spec.node_name == "n1"
        assert nothing is None
        assert isinstance(conflict, ApiError)
        assert conflict.reason == "Conflict"
        assert (await h.client.get(Pod, "web")).metadata.resource_version == (
            first.metadata.resource_version
        )


async def test_a_failing_callback_does_not_hurt_the_answering_actor(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        created = await h.client.create(make_pod("web"))

        called = anyio.Event()

        def broken(pod: Pod | None, error: BaseException | None) -> None:
            called.set()
            raise RuntimeError("bug in a callback")

        await h.client.send_update(created, broken)
        with anyio.fail_after(5):
            await called.wait()
        # The store and API server still serve requests afterwards.
        again = await h.client.get(Pod, "web")
        assert int(again.metadata.resource_version) > int(created.metadata.resource_version)
