"""A small cluster run on the virtual clock, whose API history the determinism test compares.

`python -m tests.testing._scenario SEED` prints the history's digest and length.
"""

from __future__ import annotations

import asyncio
import sys

from kubeactors.cluster import Cluster
from kubeactors.testing import api_history, history_digest


async def run(seed: int) -> list[str]:
    """Four nodes, twenty pods scheduled and started, then half a virtual minute."""
    async with Cluster(nodes=4, clock="virtual", seed=seed) as cluster:
        await cluster.create_pods(20, cpu="250m", memory="64Mi", concurrency=4)
        await cluster.wait_until_running(20)
        await cluster.clock.sleep(30.0)
        return await api_history(cluster.client)


if __name__ == "__main__":
    lines = asyncio.run(run(int(sys.argv[1])))
    print(history_digest(lines), len(lines))
