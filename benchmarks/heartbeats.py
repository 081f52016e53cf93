"""The heartbeat write path: CPU per Lease renewal, end to end.

`python -m benchmarks.heartbeats [--leases N] [--rounds R] [--watchers W]`: N nodes'
Leases (default 5,000) are renewed R times (default 12) in batches of 500, as the
heartbeat hub sends them (`Client.send_batch`, one `UpdateMany`, each renewal by its
own node's identity), through the API server and the in-memory store, while W Lease
informers (default 1, as the node lifecycle controller) take in every renewal. On
the virtual clock, so nothing waits for wall time. Reports the CPU per renewal.

On a shared machine the CPU clock is noisy; instruction counts are not. The
difference of two runs under `valgrind --tool=callgrind` that differ only in
`--rounds` divided by the renewals between them is the instructions per renewal
(the setup cancels out).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio

from benchmarks._report import emit
from kubeactors._gc import relaxed_gc
from kubeactors.actors import ActorSystem, VirtualClock
from kubeactors.api import ApiServer, Lease, LeaseSpec, ObjectMeta, node_user
from kubeactors.client import Client, Informer
from kubeactors.node import LEASE_NAMESPACE
from kubeactors.store import MEMORY, Store

BATCH = 500
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def _lease(index: int, version: str = "", renewed: str = "") -> Lease:
    node = f"node-{index}"
    return Lease(
        metadata=ObjectMeta(name=node, namespace=LEASE_NAMESPACE, resource_version=version),
        spec=LeaseSpec(holder_identity=node, lease_duration_seconds=40, renew_time=renewed),
    )


async def renewals(leases: int, rounds: int, watchers: int) -> tuple[float, int]:
    """CPU seconds and count of `rounds` renewals of `leases` Leases, watched."""
    clock = VirtualClock()
    async with ActorSystem(clock=clock, seed=1) as system:
        store = Store.spawn(system.root, MEMORY)
        api = system.spawn(
            lambda: ApiServer(store.ref, wall_clock=lambda: EPOCH + timedelta(seconds=clock.now())),
            name="apiserver",
            mailbox_size=ApiServer.mailbox_size,
        )
        admin = Client(api, timeout=3600.0)
        clients = [admin.as_user(node_user(f"node-{index}")) for index in range(leases)]
        seen: dict[str, str | None] = {}
        informers = []
        for _ in range(watchers):
            informer = Informer(admin, Lease, namespace=LEASE_NAMESPACE)
            informer.add_handler(
                on_update=lambda _, new: seen.__setitem__(new.metadata.name, new.spec.renew_time)
            )
            informers.append(informer)
        async with anyio.create_task_group() as group:
            for informer in informers:
                group.start_soon(informer.run)
            for informer in informers:
                await informer.wait_synced()
            versions = [
                (await client.create(_lease(index))).metadata.resource_version
                for index, client in enumerate(clients)
            ]
            cpu = time.process_time()
            count = 0
            renewed = ""
            for round_ in range(rounds):
                renewed = (EPOCH + timedelta(seconds=round_)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                for start in range(0, leases, BATCH):
                    batch = range(start, min(leases, start + BATCH))
                    updates = [
                        clients[i].batch_item(_lease(i, versions[i], renewed)) for i in batch
                    ]
                    done = anyio.Event()

                    def answered(
                        answers: list[Any] | None,
                        error: BaseException | None,
                        batch: range = batch,
                        done: anyio.Event = done,
                    ) -> None:
                        assert answers is not None, error
                        for index, answer in zip(batch, answers, strict=True):
                            versions[index] = answer.metadata.resource_version
                        done.set()

                    await clients[0].send_batch(updates, answered)
                    await done.wait()
                    count += len(batch)
                await clock.sleep(1.0)  # the watchers take the round in
            cpu = time.process_time() - cpu
            if watchers and any(seen.get(f"node-{i}") != renewed for i in range(leases)):
                raise RuntimeError("a watcher missed a renewal")
            group.cancel_scope.cancel()
    return cpu, count


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.heartbeats")
    parser.add_argument("--leases", type=int, default=5_000, help="nodes' Leases")
    parser.add_argument("--rounds", type=int, default=12, help="renewals of each")
    parser.add_argument("--watchers", type=int, default=1, help="Lease informers")
    args = parser.parse_args()
    with relaxed_gc():
        cpu, count = asyncio.run(renewals(args.leases, args.rounds, args.watchers))
    emit(
        "the heartbeat write path",
        [
            {
                "name": (
                    f"{args.leases} Leases renewed {args.rounds} times in batches of "
                    f"{BATCH}, {args.watchers} informer(s) watching"
                ),
                "renewals": count,
                "cpu_s": round(cpu, 2),
                "cpu_us_per_renewal": round(cpu / count * 1e6, 2),
                "load_1m": round(os.getloadavg()[0], 2),
            }
        ],
    )


if __name__ == "__main__":
    main()
