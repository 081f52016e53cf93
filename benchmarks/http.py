"""The HTTP API against the in-process client: creates/s and watch events/s.

`python -m benchmarks.http`. One store and API server served over HTTPS on loopback
(the same wiring as `kubeactors up`, without scheduler and nodes, so only the API is
measured). Each row runs a scenario over HTTPS with `HttpClient` and, in the same
run, the same scenario through the in-process `Client`, and prints both with their
ratio. The HTTP clients run in the server's own process and event loop, so their
encoding, TLS and parsing share the server's CPU: the figures are a floor for what
separate client processes would see.

- creates: `COUNT` pods created by `clients` concurrent clients, each one request at
  a time over its own keep-alive connection (one httpx pool shared by 64 callers
  would measure httpcore's pool, whose bookkeeping grows with the queue).
- watch: `WATCHERS` watches of all pods open while `COUNT` pods are created; events/s
  is the events delivered to all watchers over the time until the last one has all.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio

from benchmarks._report import emit
from kubeactors.api import Pod
from kubeactors.client import Client
from kubeactors.http import HttpClient
from tests.http.harness import pod, served

COUNT = 2000
WATCH_COUNT = 1000
WATCHERS = 10
CLIENTS = (1, 16, 64)


async def _rate(
    count: int,
    callers: Sequence[Client | HttpClient],
    op: Callable[[Client | HttpClient, int], Awaitable[object]],
) -> float:
    """Run `op(caller, i)` for i in range(count), each caller one request at a time; ops/s."""
    next_index = 0

    async def worker(caller: Client | HttpClient) -> None:
        nonlocal next_index
        while next_index < count:
            i = next_index
            next_index += 1
            await op(caller, i)

    started = time.perf_counter()
    async with anyio.create_task_group() as tasks:
        for caller in callers:
            tasks.start_soon(worker, caller)
    return count / (time.perf_counter() - started)


async def _creates(callers: Sequence[Client | HttpClient], prefix: str, count: int) -> float:
    return await _rate(
        count, callers, lambda client, i: client.create(pod(f"{prefix}-{i}", prefix))
    )


async def _watch_rate(
    watcher: Client | HttpClient, writer: Client, namespace: str, count: int
) -> float:
    """Events/s delivered to `WATCHERS` watches of `namespace` while `count` pods appear."""
    watches: list[Any] = [await watcher.watch(Pod, namespace) for _ in range(WATCHERS)]
    done = 0

    async def drain(watch: Any) -> None:
        nonlocal done
        seen = 0
        async for batch in watch:
            seen += len(batch)
            if seen >= count:
                break
        watch.close()
        done += 1

    started = time.perf_counter()
    async with anyio.create_task_group() as tasks:
        for watch in watches:
            tasks.start_soon(drain, watch)
        await _creates([writer] * 64, namespace, count)
    assert done == WATCHERS
    return WATCHERS * count / (time.perf_counter() - started)


async def run() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as directory:
        async with served(Path(directory)) as api, contextlib.AsyncExitStack() as stack:
            https = [
                await stack.enter_async_context(HttpClient.from_kubeconfig(api.server.kubeconfig))
                for _ in range(max(CLIENTS))
            ]
            http = https[0]
            for clients in CLIENTS:
                count = COUNT // 4 if clients == 1 else COUNT
                in_process = await _creates([api.client] * clients, f"local-{clients}", count)
                over_https = await _creates(https[:clients], f"https-{clients}", count)
                rows.append(
                    {
                        "name": f"create pods, {clients} clients",
                        "https_per_s": round(over_https),
                        "in_process_per_s": round(in_process),
                        "ratio_vs_in_process": round(over_https / in_process, 3),
                    }
                )
                print(rows[-1], file=sys.stderr)
            in_process = await _watch_rate(api.client, api.client, "watch-local", WATCH_COUNT)
            over_https = await _watch_rate(http, api.client, "watch-https", WATCH_COUNT)
            rows.append(
                {
                    "name": f"watch events, {WATCHERS} watchers",
                    "https_per_s": round(over_https),
                    "in_process_per_s": round(in_process),
                    "ratio_vs_in_process": round(over_https / in_process, 3),
                }
            )
    return rows


def main() -> None:
    rows = anyio.run(run)
    emit("HTTP API over HTTPS vs in-process (events and creates per second)", rows)


if __name__ == "__main__":
    main()
