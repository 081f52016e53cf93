"""Same seed, same run: a cluster on the virtual clock writes the same history every time.

The runs happen in fresh interpreters with different hash seeds, so that set and
dict orders of strings, which Python randomises per process, cannot hide in them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ._scenario import run

ROOT = Path(__file__).resolve().parents[2]


def run_elsewhere(seed: int, hash_seed: int) -> tuple[str, int]:
    environment = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    finished = subprocess.run(
        [sys.executable, "-m", "tests.testing._scenario", str(seed)],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=100,
        check=True,
    )
    digest, count = finished.stdout.split()
    return digest, int(count)


def test_the_same_seed_writes_the_same_history_in_any_process() -> None:
    first = run_elsewhere(seed=3, hash_seed=1)
    second = run_elsewhere(seed=3, hash_seed=2)
    other_seed = run_elsewhere(seed=4, hash_seed=1)
    # Nodes registered, pods created, bound and reported Running, at the least.
    assert first[1] >= 4 + 3 * 20
    assert first == second
    assert other_seed[0] != first[0]


async def test_two_runs_in_one_process_write_the_same_history() -> None:
    first, second = await run(seed=5), await run(seed=5)
    assert len(first) >= 4 + 3 * 20
    assert first == second
