"""How a simulated container behaves: per image, overridden by pod annotations."""

from __future__ import annotations

import random
from collections.abc import Mapping

import msgspec

__all__ = ["ANNOTATION_PREFIX", "SimulatedProfile", "resolve_profile"]

ANNOTATION_PREFIX = "sim.kubeactors.io/"

_FIELDS = {
    "pull-seconds": "pull_seconds",
    "start-seconds": "start_seconds",
    "start-jitter-seconds": "start_jitter_seconds",
    "run-seconds": "run_seconds",
    "exit-code": "exit_code",
    "failure-probability": "failure_probability",
    "ready-after-seconds": "ready_after_seconds",
    "liveness-fails-after-seconds": "liveness_fails_after_seconds",
}


class SimulatedProfile(msgspec.Struct, frozen=True, kw_only=True):
    """The behaviour of a simulated container.

    Start latency is `start_seconds` plus a uniform draw in `[0, start_jitter_seconds)`.
    A container with `run_seconds` set exits after running that long with
    `exit_code` (so batch pods complete); without it, it runs until stopped. With
    probability `failure_probability` it instead fails (exit code 1) as it starts,
    which with restartPolicy Always is a crash loop. Probes are scripted: readiness
    succeeds from `ready_after_seconds` after the start, liveness fails from
    `liveness_fails_after_seconds` after the start, if set.
    """

    pull_seconds: float = 0.0
    start_seconds: float = 0.0
    start_jitter_seconds: float = 0.0
    run_seconds: float | None = None
    exit_code: int = 0
    failure_probability: float = 0.0
    ready_after_seconds: float = 0.0
    liveness_fails_after_seconds: float | None = None

    def __post_init__(self) -> None:
        for field in (
            "pull_seconds",
            "start_seconds",
            "start_jitter_seconds",
            "run_seconds",
            "ready_after_seconds",
            "liveness_fails_after_seconds",
        ):
            value = getattr(self, field)
            if value is not None and not value >= 0:
                raise ValueError(f"simulated profile {field}: must be >= 0, got {value!r}")
        if not 0.0 <= self.failure_probability <= 1.0:
            raise ValueError(
                "simulated profile failure_probability: must be in [0, 1], "
                f"got {self.failure_probability!r}"
            )
        if not 0 <= self.exit_code <= 255:
            raise ValueError(
                f"simulated profile exit_code: must be in 0..255, got {self.exit_code}"
            )

    def start_latency(self, rng: random.Random | None) -> float:
        if self.start_jitter_seconds and rng is not None:
            return self.start_seconds + rng.random() * self.start_jitter_seconds
        return self.start_seconds


DEFAULT_PROFILE = SimulatedProfile()


def _image_name(image: str) -> str:
    """The image without its tag or digest: "nginx:1.25" -> "nginx"."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def resolve_profile(
    profiles: Mapping[str, SimulatedProfile],
    image: str,
    container: str,
    annotations: Mapping[str, str],
) -> SimulatedProfile:
    """The profile of `image` (exact, then untagged, then "*"), with annotation overrides.

    `sim.kubeactors.io/<field>` applies to every container of the pod and
    `sim.kubeactors.io/<container>.<field>` to one; a bad value is a `ValueError`
    naming the annotation.
    """
    if profiles:
        found = profiles.get(image) or profiles.get(_image_name(image)) or profiles.get("*")
        profile = found or DEFAULT_PROFILE
    else:
        profile = DEFAULT_PROFILE
    if not annotations:
        return profile
    overrides: dict[str, object] = {}
    for specific in (False, True):
        for key, field in _FIELDS.items():
            annotation = (
                f"{ANNOTATION_PREFIX}{container}.{key}"
                if specific
                else (f"{ANNOTATION_PREFIX}{key}")
            )
            text = annotations.get(annotation)
            if text is None:
                continue
            overrides[field] = _parse(annotation, field, text)
    if not overrides:
        return profile
    try:
        return msgspec.structs.replace(profile, **overrides)
    except ValueError as error:
        raise ValueError(f"annotations of container {container!r}: {error}") from None


def _parse(annotation: str, field: str, text: str) -> object:
    try:
        if field == "exit_code":
            return int(text)
        if field in ("run_seconds", "liveness_fails_after_seconds") and text in ("", "never"):
            return None
        return float(text)
    except ValueError:
        raise ValueError(f"annotation {annotation}: not a number: {text!r}") from None
