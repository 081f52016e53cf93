"""The scheduling framework: extension points, plugin base classes, statuses.

As upstream's `framework/interface.go`, a plugin is a small class implementing one
or more extension points. Filter and Score come in two forms: a vectorised one over
the node table (`filter_all`, `score_all`) and a plain per-node reference one
(`filter`, `score`); the engine chosen (`"vectorised"` or `"reference"`) decides
which is called, and property tests hold the two to the same answers.

Out-of-tree plugins subclass `FilterPlugin` or `ScorePlugin` (or both) with a
unique `name`. The per-node form is enough: the vectorised one defaults to calling
it on every row; write `filter_all`/`score_all` over the node table when speed
matters. Register the class by name (`Cluster(scheduler_plugins={...})` or
`Scheduler(plugins=...)`) and enable it in a profile; see docs/testing.md.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from ._cache import Cache, NodeInfo
from ._podinfo import PodInfo
from ._table import BoolArray, Int64Array

__all__ = [
    "MAX_NODE_SCORE",
    "BindPlugin",
    "Code",
    "CycleState",
    "FilterPlugin",
    "Handle",
    "NormalizeScorePlugin",
    "PermitPlugin",
    "Plugin",
    "PostBindPlugin",
    "PostFilterPlugin",
    "PreBindPlugin",
    "PreEnqueuePlugin",
    "PreFilterPlugin",
    "PreScorePlugin",
    "QueueSortPlugin",
    "ReservePlugin",
    "ScorePlugin",
    "Snapshot",
    "Status",
    "default_normalize",
    "default_normalize_list",
]

MAX_NODE_SCORE = 100


class Code(enum.Enum):
    SUCCESS = "Success"
    ERROR = "Error"
    UNSCHEDULABLE = "Unschedulable"
    UNRESOLVABLE = "UnschedulableAndUnresolvable"
    """No preemption can help on this node."""
    WAIT = "Wait"
    SKIP = "Skip"


@dataclass(frozen=True, slots=True)
class Status:
    code: Code
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def ok(self) -> bool:
        return self.code in (Code.SUCCESS, Code.SKIP)

    @staticmethod
    def unschedulable(*reasons: str, resolvable: bool = True) -> Status:
        return Status(Code.UNSCHEDULABLE if resolvable else Code.UNRESOLVABLE, reasons)


SKIP = Status(Code.SKIP)


@dataclass(slots=True)
class CycleState:
    """Data plugins keep for one pod's scheduling cycle (keyed by plugin name)."""

    data: dict[str, Any] = field(default_factory=dict)
    skip_filter: set[str] = field(default_factory=set)
    skip_score: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Snapshot:
    """The cluster as the plugins see it during one cycle."""

    cache: Cache
    reference: bool = False
    """True in the reference engine: plugins compute with plain loops."""

    @property
    def size(self) -> int:
        return self.cache.table.size


class Handle:
    """What plugins may use of the scheduler: the clock, the client hooks, the cache."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache


class Plugin:
    """A named plugin; `args` come from the profile's `pluginConfig`."""

    name: ClassVar[str] = ""

    def __init__(self, args: Mapping[str, Any], handle: Handle) -> None:
        self.args = args
        self.handle = handle


class PreEnqueuePlugin(Plugin):
    def pre_enqueue(self, pod: PodInfo) -> Status | None:
        """None if `pod` may enter the active queue; else why not (gated)."""
        raise NotImplementedError


class QueueSortPlugin(Plugin):
    def sort_key(self, pod: PodInfo, arrival: float) -> tuple[Any, ...]:
        raise NotImplementedError


class PreFilterPlugin(Plugin):
    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> Status | None:
        """Prepare for Filter; `Code.SKIP` skips this plugin's Filter for the pod."""
        raise NotImplementedError


class FilterPlugin(Plugin):
    def filter_all(self, state: CycleState, pod: PodInfo, snapshot: Snapshot) -> BoolArray | None:
        """Which rows pass, over the table's `[:size]` rows; None: every row does.

        By default `filter` is asked about each present row (rows of absent nodes
        fail); override with array operations over `snapshot.cache.table`.
        """
        cache = snapshot.cache
        passed: BoolArray = np.zeros(cache.table.size, np.bool_)
        for row in cache.table.present_rows():
            status = self.filter(state, pod, cache.by_row(int(row)))
            passed[row] = status is None or status.ok
        return passed

    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        """None if `pod` passes on `node`, else why not."""
        raise NotImplementedError

    def reasons(
        self, state: CycleState, pod: PodInfo, snapshot: Snapshot, rows: npt.NDArray[np.intp]
    ) -> Counter[str]:
        """How many of `rows` (all failing this filter) fail for each reason."""
        counts: Counter[str] = Counter()
        for row in rows:
            status = self.filter(state, pod, snapshot.cache.by_row(int(row)))
            if status is not None:
                counts.update(status.reasons)
        return counts


class PostFilterPlugin(Plugin):
    """Runs when no node passes Filter (DefaultPreemption)."""


class PreScorePlugin(Plugin):
    def pre_score(
        self,
        state: CycleState,
        pod: PodInfo,
        snapshot: Snapshot,
        rows: npt.NDArray[np.intp],
    ) -> Status | None:
        raise NotImplementedError


class ScorePlugin(Plugin):
    def score_all(
        self,
        state: CycleState,
        pod: PodInfo,
        snapshot: Snapshot,
        rows: npt.NDArray[np.intp],
    ) -> Int64Array:
        """Raw scores of `rows` (feasible rows, in visiting order).

        By default `score` of each row's node; override with array operations.
        """
        cache = snapshot.cache
        return np.fromiter(
            (self.score(state, pod, cache.by_row(int(row))) for row in rows),
            np.int64,
            count=len(rows),
        )

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        raise NotImplementedError


class NormalizeScorePlugin(ScorePlugin):
    def normalize(self, state: CycleState, pod: PodInfo, scores: Int64Array) -> Int64Array:
        raise NotImplementedError

    def normalize_list(self, state: CycleState, pod: PodInfo, scores: list[int]) -> list[int]:
        raise NotImplementedError


class ReservePlugin(Plugin):
    def reserve(self, state: CycleState, pod: PodInfo, node: str) -> Status | None:
        raise NotImplementedError

    def unreserve(self, state: CycleState, pod: PodInfo, node: str) -> None:
        raise NotImplementedError


class PermitPlugin(Plugin):
    def permit(self, state: CycleState, pod: PodInfo, node: str) -> Status | None:
        raise NotImplementedError


class PreBindPlugin(Plugin):
    def pre_bind(self, state: CycleState, pod: PodInfo, node: str) -> Status | None:
        raise NotImplementedError


class BindPlugin(Plugin):
    """Binds a pod to a node; the binding itself is sent by the scheduler's binder."""


class PostBindPlugin(Plugin):
    def post_bind(self, state: CycleState, pod: PodInfo, node: str) -> None:
        raise NotImplementedError


def default_normalize(scores: Int64Array, reverse: bool = False) -> Int64Array:
    """Upstream's DefaultNormalizeScore: scale to 0..100 by the maximum (maybe reversed)."""
    top = int(scores.max()) if len(scores) else 0
    if top == 0:
        if reverse:
            return np.full(len(scores), MAX_NODE_SCORE, np.int64)
        return scores
    scaled = scores * MAX_NODE_SCORE // top
    if reverse:
        scaled = MAX_NODE_SCORE - scaled
    return scaled


def default_normalize_list(scores: list[int], reverse: bool = False) -> list[int]:
    top = max(scores, default=0)
    if top == 0:
        return [MAX_NODE_SCORE] * len(scores) if reverse else list(scores)
    scaled = [score * MAX_NODE_SCORE // top for score in scores]
    return [MAX_NODE_SCORE - s for s in scaled] if reverse else scaled
