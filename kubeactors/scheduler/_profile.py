"""A scheduling profile: the plugins enabled at each extension point, with weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .framework import (
    BindPlugin,
    FilterPlugin,
    Handle,
    PermitPlugin,
    Plugin,
    PostBindPlugin,
    PostFilterPlugin,
    PreBindPlugin,
    PreEnqueuePlugin,
    PreFilterPlugin,
    PreScorePlugin,
    QueueSortPlugin,
    ReservePlugin,
    ScorePlugin,
)

__all__ = ["EXTENSION_POINTS", "Profile"]

EXTENSION_POINTS: dict[str, type[Plugin]] = {
    "preEnqueue": PreEnqueuePlugin,
    "queueSort": QueueSortPlugin,
    "preFilter": PreFilterPlugin,
    "filter": FilterPlugin,
    "postFilter": PostFilterPlugin,
    "preScore": PreScorePlugin,
    "score": ScorePlugin,
    "reserve": ReservePlugin,
    "permit": PermitPlugin,
    "preBind": PreBindPlugin,
    "bind": BindPlugin,
    "postBind": PostBindPlugin,
}
"""KubeSchedulerConfiguration's extension point names, and the class each needs."""


@dataclass
class Profile:
    """The plugins of one scheduler name, instantiated, per extension point in order."""

    scheduler_name: str
    percentage_of_nodes_to_score: int
    plugins: dict[str, Plugin]
    points: dict[str, list[str]]
    weights: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        scheduler_name: str,
        points: Mapping[str, Sequence[str]],
        weights: Mapping[str, int],
        args: Mapping[str, Mapping[str, Any]],
        registry: Mapping[str, type[Plugin]],
        handle: Handle,
        percentage_of_nodes_to_score: int = 0,
    ) -> Profile:
        plugins: dict[str, Plugin] = {}
        for point, names in points.items():
            needed = EXTENSION_POINTS[point]
            for name in names:
                if name not in registry:
                    raise ValueError(
                        f"profiles[{scheduler_name}].plugins.{point}: unknown plugin {name!r}"
                    )
                if name not in plugins:
                    plugins[name] = registry[name](args.get(name, {}), handle)
                if not isinstance(plugins[name], needed):
                    raise ValueError(
                        f"profiles[{scheduler_name}].plugins.{point}: {name} is no {point} plugin"
                    )
        if len(points.get("queueSort", ())) != 1:
            raise ValueError(
                f"profiles[{scheduler_name}].plugins.queueSort: exactly one plugin needed"
            )
        if not points.get("bind"):
            raise ValueError(f"profiles[{scheduler_name}].plugins.bind: at least one plugin needed")
        if not 0 <= percentage_of_nodes_to_score <= 100:
            raise ValueError(
                f"percentageOfNodesToScore: must be 0..100, got {percentage_of_nodes_to_score}"
            )
        return cls(
            scheduler_name,
            percentage_of_nodes_to_score,
            plugins,
            {point: list(names) for point, names in points.items()},
            {name: weights.get(name, 1) for name in points.get("score", ())},
        )

    def _at(self, point: str) -> list[Any]:
        return [self.plugins[name] for name in self.points.get(point, ())]

    @property
    def queue_sort(self) -> QueueSortPlugin:
        plugin: QueueSortPlugin = self._at("queueSort")[0]
        return plugin

    @property
    def pre_enqueue(self) -> list[PreEnqueuePlugin]:
        return self._at("preEnqueue")

    @property
    def pre_filter(self) -> list[PreFilterPlugin]:
        return self._at("preFilter")

    @property
    def filter(self) -> list[FilterPlugin]:
        return self._at("filter")

    @property
    def post_filter(self) -> list[PostFilterPlugin]:
        return self._at("postFilter")

    @property
    def pre_score(self) -> list[PreScorePlugin]:
        return self._at("preScore")

    @property
    def score(self) -> list[tuple[ScorePlugin, int]]:
        plugins: list[Any] = self._at("score")
        return [(plugin, self.weights[plugin.name]) for plugin in plugins]

    @property
    def reserve(self) -> list[ReservePlugin]:
        return self._at("reserve")

    @property
    def permit(self) -> list[PermitPlugin]:
        return self._at("permit")

    @property
    def pre_bind(self) -> list[PreBindPlugin]:
        return self._at("preBind")

    @property
    def post_bind(self) -> list[PostBindPlugin]:
        return self._at("postBind")
