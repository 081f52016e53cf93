"""Kinds added or removed while serving (what a CustomResourceDefinition does) show at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeactors.api import ConfigMap, ObjectMeta

from .harness import KUBECTL, served

pytestmark = pytest.mark.skipif(not Path(KUBECTL).exists(), reason="kubectl is not installed")


async def test_a_removed_then_added_kind_leaves_and_returns_everywhere(tmp_path: Path) -> None:
    async with served(tmp_path) as api:
        await api.client.create(ConfigMap(metadata=ObjectMeta(name="c"), data={"k": "v"}))
        kinds = api.server.api.kinds
        configmaps = kinds.find("", "v1", "configmaps")
        assert configmaps is not None
        status, out, _ = await api.kubectl("get", "--raw", "/openapi/v3/api/v1")
        assert "ConfigMap" in json.loads(out)["components"]["schemas"]

        kinds.remove("", "v1", "configmaps")
        status, _, err = await api.kubectl("get", "--raw", "/api/v1/namespaces/default/configmaps")
        assert status == 1
        assert "NotFound" in err
        status, out, _ = await api.kubectl("get", "--raw", "/api/v1")
        assert "configmaps" not in {r["name"] for r in json.loads(out)["resources"]}
        status, out, _ = await api.kubectl("get", "--raw", "/openapi/v3/api/v1")
        assert "ConfigMap" not in json.loads(out)["components"]["schemas"]

        kinds.add(configmaps)
        status, out, err = await api.kubectl("get", "configmap", "c", "-o", "json")
        assert status == 0, err
        assert json.loads(out)["data"] == {"k": "v"}
        status, out, _ = await api.kubectl("get", "--raw", "/openapi/v3/api/v1")
        assert "ConfigMap" in json.loads(out)["components"]["schemas"]
