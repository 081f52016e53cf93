"""The API's write history as trace lines: what two runs of one scenario compare."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import msgspec

from ..api import ApiObject, Node, Pod
from ..client import Client

__all__ = ["api_history", "history_digest", "history_line"]


async def api_history(client: Client, kinds: Sequence[type[ApiObject]] = (Pod, Node)) -> list[str]:
    """Every write to objects of `kinds` so far, ordered by revision.

    One line per write: revision, event type, kind, namespace/name and a hash of the
    object's JSON, which holds whatever was decided about it (its node, its IP, its
    UID, its timestamps). Read by watching each kind from the first revision, so the
    store must not have compacted that history yet. Deleted objects' last writes are
    read up to the newest revision of an object still there.
    """
    lines: list[tuple[int, str]] = []
    for kind in kinds:
        current = (await client.list(kind)).items
        if not current:
            continue
        newest = max(int(obj.metadata.resource_version) for obj in current)
        watch = await client.watch(kind, "", "1")
        seen = 0
        async for batch in watch:
            for event in batch:
                seen, line = history_line(event.type, event.object)
                lines.append((seen, line))
            if seen >= newest:
                break
    return [line for _, line in sorted(lines)]


def history_line(event_type: str, obj: ApiObject) -> tuple[int, str]:
    """One write as `api_history` lists it, with its revision (to order lines by).

    For a recorder that sees the writes as they happen (a watch from the start),
    instead of reading the history back at the end.
    """
    meta = obj.metadata
    version = meta.resource_version
    digest = hashlib.sha256(msgspec.json.encode(obj)).hexdigest()[:16]
    line = f"{version} {event_type} {obj.kind} {meta.namespace}/{meta.name} {digest}"
    return int(version), line


def history_digest(lines: Sequence[str]) -> str:
    """One hash for a whole history (hex SHA-256)."""
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()
