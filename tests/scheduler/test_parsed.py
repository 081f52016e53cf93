"""Replicas of one template share one parse, and nothing the scheduler reads is lost."""

from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kubeactors.api import Pod
from kubeactors.scheduler import ParsedPods, pod_info

from .strategies import pod_data


def _pod(data: dict[str, Any], name: str, created: str) -> Pod:
    data = {**data, "metadata": {**data["metadata"], "name": name, "creationTimestamp": created}}
    return msgspec.convert(data, Pod)


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(pod_data(0), st.lists(st.text("abcxyz", min_size=1, max_size=4), min_size=2, max_size=4))
def test_a_shared_parse_is_the_parse_of_each_replica(
    data: dict[str, Any], names: list[str]
) -> None:
    parsed = ParsedPods()
    infos = [
        parsed.info(_pod(data, name, f"2026-01-0{i + 1}T00:00:00Z")) for i, name in enumerate(names)
    ]
    for info, name in zip(infos, names, strict=True):
        expected = pod_info(info.pod)
        expected.signature = info.signature
        assert info == expected
        assert info.key.endswith(f"/{name}")
    assert len({info.signature for info in infos}) == 1


def test_anything_the_scheduler_reads_changes_the_signature() -> None:
    base: dict[str, Any] = {
        "metadata": {"name": "a", "namespace": "default", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "resources": {"requests": {"cpu": "1"}}}]},
    }
    variants: list[dict[str, Any]] = [
        {**base, "metadata": {**base["metadata"], "namespace": "other"}},
        {**base, "metadata": {**base["metadata"], "labels": {"app": "db"}}},
        {**base, "metadata": {**base["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}},
        {**base, "spec": {**base["spec"], "priority": 5}},
        {**base, "spec": {**base["spec"], "nodeSelector": {"zone": "a"}}},
        {**base, "status": {"nominatedNodeName": "n1"}},
    ]
    parsed = ParsedPods()
    signatures = {parsed.info(msgspec.convert(base, Pod)).signature}
    for variant in variants:
        info = parsed.info(msgspec.convert(variant, Pod))
        assert info.signature not in signatures
        signatures.add(info.signature)
    renamed = {**base, "metadata": {**base["metadata"], "name": "b", "uid": "u2"}}
    assert parsed.info(msgspec.convert(renamed, Pod)).signature in signatures
