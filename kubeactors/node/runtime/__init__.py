"""Container runtimes behind one CRI-shaped interface: simulated, and real processes."""

from ._base import ContainerRuntime, EventListener, RuntimeBase, WallClock
from ._profile import ANNOTATION_PREFIX, SimulatedProfile, resolve_profile
from ._types import (
    ContainerConfig,
    ContainerEvent,
    ContainerState,
    ContainerStatus,
    ImageError,
    NotFoundError,
    RuntimeFailure,
    SandboxConfig,
    SandboxState,
    SandboxStatus,
)
from .process import ProcessRuntime
from .simulated import SimulatedRuntime

__all__ = [
    "ANNOTATION_PREFIX",
    "ContainerConfig",
    "ContainerEvent",
    "ContainerRuntime",
    "ContainerState",
    "ContainerStatus",
    "EventListener",
    "ImageError",
    "NotFoundError",
    "ProcessRuntime",
    "RuntimeBase",
    "RuntimeFailure",
    "SandboxConfig",
    "SandboxState",
    "SandboxStatus",
    "SimulatedProfile",
    "SimulatedRuntime",
    "WallClock",
    "resolve_profile",
]
