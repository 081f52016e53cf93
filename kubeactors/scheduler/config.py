"""KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): profiles from YAML.

```yaml
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 0          # 0: adaptive, as upstream
profiles:
- schedulerName: default-scheduler
  plugins:
    multiPoint: {disabled: [{name: ImageLocality}]}
    score: {enabled: [{name: NodeResourcesFit, weight: 5}]}
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
```

Defaults and the enable/disable rules are upstream's: `multiPoint` starts from the
default plugins (each at every extension point it implements), `disabled` takes
plugins away (`"*"`: all defaults), `enabled` adds them (score plugins with a
weight); extension-point sections then adjust one point at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ._profile import EXTENSION_POINTS, Profile
from .framework import Handle, Plugin
from .plugins import DEFAULT_PLUGINS, REGISTRY

__all__ = ["ConfigError", "SchedulerConfiguration", "load_configuration", "plugin_registry"]

API_VERSION = "kubescheduler.config.k8s.io/v1"
DEFAULT_SCHEDULER = "default-scheduler"


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the field at fault."""


@dataclass
class SchedulerConfiguration:
    percentage_of_nodes_to_score: int = 0
    profiles: list[dict[str, Any]] = field(
        default_factory=lambda: [{"schedulerName": DEFAULT_SCHEDULER}]
    )

    def build(
        self, handle: Handle, registry: Mapping[str, type[Plugin]] = REGISTRY
    ) -> dict[str, Profile]:
        """Instantiate every profile, keyed by scheduler name."""
        built: dict[str, Profile] = {}
        for index, data in enumerate(self.profiles):
            where = f"profiles[{index}]"
            name = data.get("schedulerName", DEFAULT_SCHEDULER)
            if name in built:
                raise ConfigError(f"{where}.schedulerName: duplicate {name!r}")
            points, weights = _plugin_sets(data.get("plugins") or {}, registry, where)
            args: dict[str, Mapping[str, Any]] = {}
            for item_index, item in enumerate(data.get("pluginConfig") or ()):
                if not isinstance(item, dict) or "name" not in item:
                    raise ConfigError(f"{where}.pluginConfig[{item_index}].name: required")
                args[item["name"]] = item.get("args") or {}
            percentage = data.get("percentageOfNodesToScore")
            if percentage is None:
                percentage = self.percentage_of_nodes_to_score
            try:
                built[name] = Profile.build(
                    name, points, weights, args, registry, handle, int(percentage)
                )
            except ValueError as error:
                raise ConfigError(f"{where}: {error}") from None
        return built


def _names(section: Any, where: str) -> list[tuple[str, int | None]]:
    if section is None:
        return []
    if not isinstance(section, list):
        raise ConfigError(f"{where}: must be a list")
    parsed = []
    for index, item in enumerate(section):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConfigError(f"{where}[{index}].name: required")
        weight = item.get("weight")
        if weight is not None and (not isinstance(weight, int) or weight < 0):
            raise ConfigError(f"{where}[{index}].weight: must be a non-negative integer")
        parsed.append((item["name"], weight))
    return parsed


def _plugin_sets(
    plugins: Mapping[str, Any], registry: Mapping[str, type[Plugin]], where: str
) -> tuple[dict[str, list[str]], dict[str, int]]:
    unknown = set(plugins) - set(EXTENSION_POINTS) - {"multiPoint"}
    if unknown:
        raise ConfigError(f"{where}.plugins: unknown extension point {sorted(unknown)[0]!r}")
    weights: dict[str, int | None] = {}
    multi: list[str] = []
    multi_section = plugins.get("multiPoint") or {}
    disabled = {
        name
        for name, _ in _names(multi_section.get("disabled"), f"{where}.plugins.multiPoint.disabled")
    }
    for name, default_weight in DEFAULT_PLUGINS:
        if "*" not in disabled and name not in disabled:
            multi.append(name)
            weights[name] = default_weight
    for name, weight in _names(multi_section.get("enabled"), f"{where}.plugins.multiPoint.enabled"):
        if name not in registry:
            raise ConfigError(f"{where}.plugins.multiPoint.enabled: unknown plugin {name!r}")
        if name not in multi:
            multi.append(name)
        if weight is not None:
            weights[name] = weight
    points: dict[str, list[str]] = {}
    for point, needed in EXTENSION_POINTS.items():
        names = [name for name in multi if issubclass(registry[name], needed)]
        section = plugins.get(point) or {}
        off = {
            name for name, _ in _names(section.get("disabled"), f"{where}.plugins.{point}.disabled")
        }
        names = [] if "*" in off else [name for name in names if name not in off]
        for name, point_weight in _names(
            section.get("enabled"), f"{where}.plugins.{point}.enabled"
        ):
            if name not in registry:
                raise ConfigError(f"{where}.plugins.{point}.enabled: unknown plugin {name!r}")
            if name not in names:
                names.append(name)
            if point_weight is not None:
                weights[name] = point_weight
        points[point] = names
    return points, {name: weight or 1 for name, weight in weights.items()}


def plugin_registry(plugins: Mapping[str, type[Plugin]]) -> dict[str, type[Plugin]]:
    """The default plugins and out-of-tree `plugins`, by name, for profiles to enable.

    As upstream's out-of-tree registry: each key must be its class's `name`, and a
    name already taken by a default plugin is refused rather than silently replaced
    (disable the default in the profile and enable yours under its own name).
    """
    registry: dict[str, type[Plugin]] = dict(REGISTRY)
    for name, plugin in plugins.items():
        if not (isinstance(plugin, type) and issubclass(plugin, Plugin)):
            raise ConfigError(f"plugins[{name!r}]: {plugin!r} is not a Plugin subclass")
        if plugin.name != name:
            raise ConfigError(
                f"plugins[{name!r}]: registered under {name!r} but the class's name is "
                f"{plugin.name!r}"
            )
        if name in REGISTRY:
            raise ConfigError(f"plugins[{name!r}]: a default plugin has that name already")
        registry[name] = plugin
    return registry


def load_configuration(
    source: SchedulerConfiguration | str | Path | Mapping[str, Any] | None = None,
) -> SchedulerConfiguration:
    """Read a KubeSchedulerConfiguration from YAML text, a file, or a parsed mapping."""
    if source is None:
        return SchedulerConfiguration()
    if isinstance(source, SchedulerConfiguration):
        return source
    if isinstance(source, Path):
        source = source.read_text()
    data = yaml.safe_load(source) if isinstance(source, str) else dict(source)
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a mapping")
    if data.get("apiVersion", API_VERSION) != API_VERSION:
        raise ConfigError(f"apiVersion: expected {API_VERSION!r}, got {data.get('apiVersion')!r}")
    if data.get("kind", "KubeSchedulerConfiguration") != "KubeSchedulerConfiguration":
        raise ConfigError(f"kind: expected 'KubeSchedulerConfiguration', got {data.get('kind')!r}")
    percentage = data.get("percentageOfNodesToScore") or 0
    if not isinstance(percentage, int) or not 0 <= percentage <= 100:
        raise ConfigError(f"percentageOfNodesToScore: must be 0..100, got {percentage!r}")
    profiles = data.get("profiles") or [{"schedulerName": DEFAULT_SCHEDULER}]
    if not isinstance(profiles, list) or not all(isinstance(p, dict) for p in profiles):
        raise ConfigError("profiles: must be a list of mappings")
    return SchedulerConfiguration(percentage, profiles)
