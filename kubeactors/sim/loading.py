"""Reading a scenario from YAML, with errors that name the field at fault."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import yaml

from .duration import Duration, parse_duration
from .scenario import Scenario

__all__ = ["ScenarioError", "load_scenario", "parse_scenario"]

# msgspec ends a validation message with " - at `$.faults[2].at`".
_LOCATION = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)


class ScenarioError(ValueError):
    """A scenario that cannot be read: the message starts with the field at fault,
    as in `scenario.faults[2].at: expected a duration like "5m", got '5x'`."""


def _decode_hook(kind: type, value: Any) -> Any:
    if kind is Duration:
        return parse_duration(value)
    raise NotImplementedError(f"cannot decode {kind!r}")


def _located(error: msgspec.ValidationError, root: str) -> ScenarioError:
    match = _LOCATION.match(str(error))
    assert match is not None
    message, path = match["message"], match["path"] or ""
    # A check in a struct's __post_init__ may name its own sub-field first.
    sub = re.match(r"^([A-Za-z_][\w.\[\]]*): (.*)$", message, re.DOTALL)
    if sub is not None and not sub[1][0].isupper():
        path = f"{path}.{sub[1]}"
        message = sub[2]
    message = message[:1].lower() + message[1:] if message[:2] != message[:2].upper() else message
    return ScenarioError(f"{root}{path}: {message}")


def parse_scenario(text: str, *, source: str = "scenario") -> Scenario:
    """The `Scenario` a YAML document describes; a `ScenarioError` if it is not one."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ScenarioError(f"{source}: not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping with a `cluster`, got {data!r}")
    try:
        return msgspec.convert(data, Scenario, dec_hook=_decode_hook)
    except msgspec.ValidationError as error:
        raise _located(error, "scenario") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read the scenario in the YAML file at `path`; a missing file is an `OSError`."""
    path = Path(path)
    return parse_scenario(path.read_text(encoding="utf-8"), source=str(path))
