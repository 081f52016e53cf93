"""Namespace selectors in pod affinity, and default spreading by workload, in both engines."""

from typing import Any

import msgspec
import pytest

from kubeactors.api import ReplicaSet, Service
from kubeactors.scheduler import Cache, Handle, load_configuration

from .test_plugins import Cluster, _node, _pod, engine_name

__all__ = ["engine_name"]


def _in(namespace: str, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "metadata": {**data["metadata"], "namespace": namespace}}


def _affinity(kind: str, namespace_selector: dict[str, Any]) -> dict[str, Any]:
    term = {
        "labelSelector": {"matchLabels": {"app": "db"}},
        "namespaceSelector": namespace_selector,
        "topologyKey": "zone",
    }
    return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}


def test_pod_affinity_selects_namespaces_by_their_labels(engine_name: str) -> None:
    nodes = [_node(f"{zone}{i}", labels={"zone": zone}) for zone in "ab" for i in range(2)]
    cluster = Cluster(nodes, engine_name)
    cluster.cache.namespace_labels.update({"prod": {"team": "a"}, "test": {"team": "b"}})
    assert cluster.place(_in("test", _pod("db-test", labels={"app": "db"}, nodeName="b0")))
    affinity = _affinity("podAffinity", {"matchLabels": {"team": "a"}})
    # Only a db pod in a namespace labelled team=a will do, and there is none yet.
    assert cluster.place(_pod("web0", affinity=affinity)) == ""
    assert cluster.place(_in("prod", _pod("db-prod", labels={"app": "db"}, nodeName="a1")))
    assert cluster.place(_pod("web1", affinity=affinity))[0] == "a"
    # The labels as they are now count: relabelled, "test" is selected too.
    cluster.cache.namespace_labels["test"] = {"team": "a"}
    zones = {cluster.place(_pod(f"web{i}", affinity=affinity))[0] for i in range(2, 12)}
    assert zones == {"a", "b"}


def test_existing_anti_affinity_reads_the_incoming_pods_namespace_labels(
    engine_name: str,
) -> None:
    nodes = [_node(f"{zone}0", labels={"zone": zone}) for zone in "ab"]
    cluster = Cluster(nodes, engine_name)
    cluster.cache.namespace_labels.update({"prod": {"env": "prod"}, "dev": {"env": "dev"}})
    anti = _affinity("podAntiAffinity", {"matchLabels": {"env": "prod"}})
    assert cluster.place(_pod("guard", affinity=anti, nodeName="a0")) == "a0"
    db = {"app": "db"}
    # A prod db pod keeps out of the guard's zone; a dev one need not.
    assert {cluster.place(_in("prod", _pod(f"p{i}", labels=db))) for i in range(4)} == {"b0"}
    placed = {cluster.place(_in("dev", _pod(f"d{i}", labels=db, cpu="1"))) for i in range(4)}
    assert "a0" in placed


def _nodes() -> list[dict[str, Any]]:
    big = _node("big", cpu="64")
    big["status"]["allocatable"]["memory"] = "256Gi"
    return [big, _node("small1", cpu="8"), _node("small2", cpu="8")]


def _service(selector: dict[str, str]) -> Service:
    return msgspec.convert(
        {"metadata": {"name": "web", "namespace": "default"}, "spec": {"selector": selector}},
        Service,
    )


def test_system_default_spreading_follows_the_pods_workload(engine_name: str) -> None:
    # "big" is the emptiest node by far: without spreading every pod goes there.
    nodes = _nodes()
    web = {"app": "web"}
    alone = Cluster(nodes, engine_name)
    assert {alone.place(_pod(f"w{i}", labels=web)) for i in range(6)} == {"big"}
    spread = Cluster(nodes, engine_name)
    spread.cache.workloads.apply(_service({"app": "web"}), deleted=False)
    placed = [spread.place(_pod(f"w{i}", labels=web)) for i in range(6)]
    assert set(placed) == {"big", "small1", "small2"}
    # Pods the Service does not select are not spread with them.
    assert {spread.place(_pod(f"o{i}", labels={"app": "other"})) for i in range(3)} == {"big"}


def test_default_spreading_follows_the_controlling_replica_set(engine_name: str) -> None:
    nodes = _nodes()
    cluster = Cluster(nodes, engine_name)
    replica_set = msgspec.convert(
        {
            "metadata": {"name": "web-1", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "web"}}},
        },
        ReplicaSet,
    )
    cluster.cache.workloads.apply(replica_set, deleted=False)
    owner = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": "web-1",
            "uid": "u1",
            "controller": True,
        }
    ]
    placed = []
    for index in range(6):
        data = _pod(f"w{index}", labels={"app": "web"})
        data["metadata"]["ownerReferences"] = owner
        placed.append(cluster.place(data))
    assert set(placed) == {"big", "small1", "small2"}


def test_system_defaulting_takes_no_listed_constraints() -> None:
    config = """
profiles:
- pluginConfig:
  - name: PodTopologySpread
    args:
      defaultingType: System
      defaultConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway}]
"""
    with pytest.raises(ValueError, match="defaultConstraints: must be empty"):
        load_configuration(config).build(Handle(Cache()))
