"""The ResourceQuota controller keeps `status.used` true as objects come and go."""

from __future__ import annotations

from pathlib import Path

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    ConfigMap,
    ObjectMeta,
    Pod,
    ResourceQuota,
    ResourceQuotaSpec,
    parse_quantity,
)
from kubeactors.controllers import ResourceQuotaController, quota_usage

from ..api.harness import make_pod, running_api
from .faults import wait_for

HARD = {
    "pods": "10",
    "requests.cpu": "2",
    "requests.memory": "4Gi",
    "count/configmaps": "5",
    "limits.cpu": "8",
    "requests.storage": "1Ti",
}


def _used(expected: dict[str, str]) -> object:
    def holds(quotas: list[ResourceQuota]) -> bool:
        return len(quotas) == 1 and quotas[0].status.used == expected

    return holds


async def test_used_follows_creates_deletes_and_finished_pods(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        client = h.client
        h.system.spawn(lambda: ResourceQuotaController(client), name="resourcequota")
        await client.create(
            ResourceQuota(
                metadata=ObjectMeta(name="q", namespace="team"), spec=ResourceQuotaSpec(hard=HARD)
            )
        )
        idle = {
            "pods": "0",
            "requests.cpu": "0",
            "requests.memory": "0",
            "count/configmaps": "0",
            "limits.cpu": "0",
        }
        (quota,) = await wait_for(client, ResourceQuota, _used(idle))  # type: ignore[arg-type]
        assert quota.status.hard == HARD
        for name in ("a", "b", "c"):
            await client.create(make_pod(name, cpu="500m", memory="256Mi", namespace="team"))
        await client.create(make_pod("elsewhere", cpu="1", namespace="default"))
        await client.create(ConfigMap(metadata=ObjectMeta(name="cm", namespace="team")))
        busy = {
            "pods": "3",
            "requests.cpu": "1500m",
            "requests.memory": "768Mi",
            "count/configmaps": "1",
            "limits.cpu": "0",
        }
        await wait_for(client, ResourceQuota, _used(busy), timeout=30)  # type: ignore[arg-type]
        await client.delete(Pod, "a", "team")
        done = await client.get(Pod, "b", "team")
        await client.update_status(
            msgspec.structs.replace(
                done, status=msgspec.structs.replace(done.status, phase="Succeeded")
            )
        )
        # A configmap change alone is seen at the next resync; pods at once.
        after = {
            "pods": "1",
            "requests.cpu": "500m",
            "requests.memory": "256Mi",
            "count/configmaps": "1",
            "limits.cpu": "0",
        }
        await wait_for(client, ResourceQuota, _used(after), timeout=30)  # type: ignore[arg-type]


@given(st.lists(st.integers(min_value=0, max_value=64_000), max_size=8))
def test_cpu_usage_is_the_exact_sum_of_requests(millis: list[int]) -> None:
    pods = [make_pod(f"p{i}", cpu=f"{m}m") for i, m in enumerate(millis)]
    used = quota_usage("requests.cpu", {"pods": pods})
    assert used is not None
    assert parse_quantity(used) * 1000 == sum(millis)
    assert quota_usage("count/pods", {"pods": pods}) == str(len(pods))
    assert quota_usage("limits.cpu", {"pods": pods}) == "0"
    assert quota_usage("requests.storage", {"pods": pods}) is None
