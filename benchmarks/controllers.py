"""The controller manager at scale: time for Deployments to converge.

`python -m benchmarks.controllers [--nodes N] [--replicas R] [--lost L]`: on a
cluster of N simulated nodes (default 5,000), scales a Deployment from 0 to R
replicas (default 10,000) until all are Running; rolls all of them to a new image;
then silences L nodes (default 10%) and waits until every replica is Running again
off those nodes. Each figure with the pods/s it implies. Goal (issue 6): the
scale-up under 10 s. The node loss uses a 15 s grace period (included in its
figure; leases renew every 5 s), pods that tolerate an unreachable node for 0 s and
an unthrottled eviction rate, so past the grace it measures the controllers' work
rather than upstream's deliberate waits.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable

import msgspec

from benchmarks._report import emit
from kubeactors import Cluster
from kubeactors.api import (
    ApiError,
    Container,
    Deployment,
    DeploymentSpec,
    LabelSelector,
    ObjectMeta,
    Pod,
    PodSpec,
    PodTemplateSpec,
    ResourceRequirements,
    Toleration,
)
from kubeactors.client import Client, Delta, Informer
from kubeactors.controllers import ControllerManagerSettings, NodeLifecycleSettings
from kubeactors.node import NodeSettings, Untrack

_LABELS = {"app": "bench"}


def _deployment(replicas: int) -> Deployment:
    toleration = Toleration(
        key="node.kubernetes.io/unreachable",
        operator="Exists",
        effect="NoExecute",
        toleration_seconds=0,
    )
    container = Container(
        name="app",
        image="registry.k8s.io/pause:3.9",
        resources=ResourceRequirements(requests={"cpu": "10m", "memory": "16Mi"}),
    )
    return Deployment(
        metadata=ObjectMeta(name="bench", namespace="default"),
        spec=DeploymentSpec(
            replicas=replicas,
            selector=LabelSelector(match_labels=dict(_LABELS)),
            template=PodTemplateSpec(
                metadata=ObjectMeta(labels=dict(_LABELS)),
                spec=PodSpec(containers=[container], tolerations=[toleration]),
            ),
        ),
    )


async def _edit(client: Client, change: Callable[[DeploymentSpec], DeploymentSpec]) -> None:
    while True:
        current = await client.get(Deployment, "bench", "default")
        try:
            await client.update(msgspec.structs.replace(current, spec=change(current.spec)))
            return
        except ApiError as error:
            if error.code != 409:
                raise


async def _until(client: Client, done: Callable[[list[Pod]], bool], timeout: float) -> None:
    informer: Informer[Pod] = Informer(client, Pod)
    reached = asyncio.Event()

    async def check(_: list[Delta[Pod]]) -> None:
        if done(informer.items()):
            reached.set()

    informer.add_batch_handler(check)
    task = asyncio.ensure_future(informer.run())
    try:
        await informer.wait_synced()
        if done(informer.items()):
            return
        await asyncio.wait_for(reached.wait(), timeout)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def _running(pods: list[Pod], image: str, avoid: frozenset[str] | set[str] = frozenset()) -> int:
    return sum(
        1
        for pod in pods
        if pod.status.phase == "Running"
        and pod.metadata.deletion_timestamp is None
        and pod.spec.containers[0].image == image
        and pod.spec.node_name not in avoid
    )


async def run(nodes: int, replicas: int, lost: int, timeout: float) -> list[dict[str, object]]:
    settings = ControllerManagerSettings(
        leader_elect=False,
        node_lifecycle=NodeLifecycleSettings(
            grace_period=15.0, monitor_period=1.0, eviction_qps=10_000.0
        ),
    )
    # Leases every 5 s (upstream: 10 s) keep 5,000 heartbeating nodes to 1,000 writes/s.
    node_settings = NodeSettings(lease_seconds=5.0, status_seconds=60.0)
    rows: list[dict[str, object]] = []
    async with Cluster(nodes=nodes, controllers=settings, node_settings=node_settings) as cluster:
        client = cluster.client
        clock = cluster.clock
        await client.create(_deployment(0))
        start = clock.now()
        await _edit(client, lambda spec: msgspec.structs.replace(spec, replicas=replicas))
        image = "registry.k8s.io/pause:3.9"
        await _until(client, lambda pods: _running(pods, image) >= replicas, timeout)
        elapsed = clock.now() - start
        rows.append(_row(f"scale 0 -> {replicas:,} Running", nodes, replicas, elapsed))

        new_image = "registry.k8s.io/pause:3.10"

        def update(spec: DeploymentSpec) -> DeploymentSpec:
            containers = [
                msgspec.structs.replace(c, image=new_image) for c in spec.template.spec.containers
            ]
            pod_spec = msgspec.structs.replace(spec.template.spec, containers=containers)
            return msgspec.structs.replace(
                spec, template=msgspec.structs.replace(spec.template, spec=pod_spec)
            )

        start = clock.now()
        await _edit(client, update)
        await _until(
            client,
            lambda pods: (
                _running(pods, new_image) >= replicas
                and len([p for p in pods if p.metadata.deletion_timestamp is None]) == replicas
            ),
            timeout,
        )
        elapsed = clock.now() - start
        rows.append(_row(f"rolling update of {replicas:,}", nodes, replicas, elapsed))

        hub = cluster.heartbeat
        if hub is not None and lost > 0:
            dead = {f"node-{i}" for i in range(lost)}
            on_dead = sum(1 for p in await cluster.pods() if p.spec.node_name in dead)
            start = clock.now()
            for name in sorted(dead):
                await hub.tell(Untrack(name))
            await _until(
                client,
                lambda pods: (
                    _running(pods, new_image, dead) >= replicas
                    and not any(p.spec.node_name in dead for p in pods)
                ),
                timeout,
            )
            elapsed = clock.now() - start
            row = _row(f"lose {lost:,} nodes: all back", nodes, on_dead, elapsed)
            row["pods_moved"] = on_dead
            rows.append(row)
    return rows


def _row(name: str, nodes: int, pods: int, seconds: float) -> dict[str, object]:
    return {
        "name": name,
        "nodes": nodes,
        "pods": pods,
        "seconds": round(seconds, 2),
        "pods_per_s": round(pods / seconds, 1) if seconds > 0 else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5_000)
    parser.add_argument("--replicas", type=int, default=10_000)
    parser.add_argument("--lost", type=int, default=None, help="nodes to silence (default 10%%)")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    lost = args.lost if args.lost is not None else args.nodes // 10
    rows = asyncio.run(run(args.nodes, args.replicas, lost, args.timeout))
    emit("controllers: Deployment convergence", rows)


if __name__ == "__main__":
    main()
