"""Crash safety: a writer killed with SIGKILL loses no acknowledged write."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from kubeactors.actors import ActorSystem
from kubeactors.store import Store

ROOT = Path(__file__).resolve().parents[2]


def _write_until_killed(db: Path, tag: str, acks_before_kill: int) -> dict[bytes, int]:
    """Run the writer until it has acknowledged `acks_before_kill` keys, then SIGKILL it
    at once; return every key it acknowledged with its revision."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.store.crash_writer", str(db), tag],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    acknowledged: dict[bytes, int] = {}
    try:
        for line in process.stdout:
            revision, key = line.split()
            acknowledged[key.encode()] = int(revision)
            if len(acknowledged) >= acks_before_kill:
                process.send_signal(signal.SIGKILL)
                break
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
    return acknowledged


async def _check_and_extend(db: Path, acknowledged: dict[bytes, int]) -> int:
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, db)
        everything = await store.range(b"\0", b"\0")
        found = {kv.key: kv.mod_revision for kv in everything.kvs}
        for key, revision in acknowledged.items():
            assert found.get(key) == revision, f"acknowledged {key!r}@{revision} was lost"
        history = await store.watch(b"\0", b"\0", start_revision=1, prev_kv=False)
        seen: set[int] = set()
        async for batch in history:
            seen.update(event.kv.mod_revision for event in batch)
            if everything.revision in seen:
                break
        history.close()
        assert sorted(seen) == list(range(1, everything.revision + 1)), "the log has a gap"
        after = await store.put(b"after-crash", b"v")
        assert after.revision == everything.revision + 1
        await store.delete(b"after-crash")
        return everything.revision + 2


async def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    rng = random.Random(20261126)
    db = tmp_path / "crash.db"
    revision = 0
    for round_ in range(12):
        acknowledged = _write_until_killed(db, f"r{round_}", rng.randint(1, 3000))
        assert acknowledged, "the writer acknowledged nothing"
        assert min(acknowledged.values()) > revision
        revision = await _check_and_extend(db, acknowledged)
