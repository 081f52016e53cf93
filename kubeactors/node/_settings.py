"""How a node is set up: its runtime, labels, taints, reserve and timings."""

from __future__ import annotations

from typing import Literal

import msgspec

from ..api import Taint
from .runtime import SimulatedProfile

__all__ = ["NodeSettings"]


class NodeSettings(msgspec.Struct, frozen=True, kw_only=True):
    """What a kubelet is told at start, beyond its size (`NodeShape`).

    `runtime` picks the container runtime: "simulated" (timers on the clock,
    shaped by `profiles` per image and pod annotations) or "process" (real local
    processes under `root_dir`). One cluster may mix nodes of both kinds.
    """

    runtime: Literal["simulated", "process"] = "simulated"
    root_dir: str = ""
    profiles: dict[str, SimulatedProfile] = msgspec.field(default_factory=dict)
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    taints: list[Taint] = msgspec.field(default_factory=list)
    system_reserved: dict[str, str] = msgspec.field(default_factory=dict)
    lease_seconds: float = 10.0
    lease_duration_seconds: int = 40
    status_seconds: float = 60.0
    backoff_initial_seconds: float = 10.0
    backoff_max_seconds: float = 300.0
    status_retry_seconds: float = 0.1

    def __post_init__(self) -> None:
        for field in ("lease_seconds", "status_seconds", "backoff_initial_seconds"):
            value = getattr(self, field)
            if not value > 0:
                raise ValueError(f"node settings {field}: must be positive, got {value!r}")
        if self.backoff_max_seconds < self.backoff_initial_seconds:
            raise ValueError(
                "node settings backoff_max_seconds: must be >= backoff_initial_seconds, "
                f"got {self.backoff_max_seconds!r}"
            )
        if self.runtime == "process" and not self.root_dir:
            raise ValueError("node settings root_dir: the process runtime needs a directory")
