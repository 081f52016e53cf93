"""`kubectl get` pages a long list (by 500): each Table page carries the next page's token."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import KUBECTL, pod, served

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")


async def test_kubectl_get_follows_the_pages_of_a_table(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        for i in range(7):
            await api.client.create(pod(f"p{i}"))
        status, out, err = await api.kubectl("get", "pods", "--chunk-size=3", "--no-headers")
        assert status == 0, err
        assert [line.split()[0] for line in out.splitlines()] == [f"p{i}" for i in range(7)]
