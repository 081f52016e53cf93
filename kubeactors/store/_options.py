"""The store's limits and tunables."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StoreOptions"]


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """Limits and tunables; the defaults follow etcd 3.4 where it has one.

    `synchronous` is SQLite's: FULL survives power loss; NORMAL (in WAL mode) survives
    a process crash but may lose the last commits on power loss, for more speed.
    """

    synchronous: str = "FULL"
    max_txn_ops: int = 128
    max_request_bytes: int = 1_572_864
    min_lease_ttl: int = 2
    lease_check_interval: float = 0.5
    progress_interval: float = 600.0
    history_window: int = 20_000
    """Events kept in memory for watches starting in the recent past."""
    catch_up_chunk: int = 2_000
    compaction_step: int = 2_000
    """Revisions removed per compaction transaction, between groups of writes."""
    checkpoint_rows: int = 4_000
    """Rows written between WAL checkpoints (run off the commit path)."""
    auto_compact_keep: int = 0
    """When positive, compact on its own to keep about this many revisions of history
    (between this and twice this); 0 leaves compaction to clients, as etcd does."""

    def __post_init__(self) -> None:
        if self.synchronous not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(
                f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {self.synchronous!r}"
            )
        for name in ("max_txn_ops", "max_request_bytes", "history_window", "catch_up_chunk"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.compaction_step <= 0:
            raise ValueError(f"compaction_step must be positive, got {self.compaction_step}")
        if self.auto_compact_keep < 0:
            raise ValueError(
                f"auto_compact_keep must not be negative, got {self.auto_compact_keep}"
            )
