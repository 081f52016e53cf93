"""The messages of the CRI-shaped runtime interface: configs, statuses and events.

They follow `k8s.io/cri-api`'s v1 RuntimeService in meaning (a sandbox holds a
pod's containers; a container is CREATED, RUNNING or EXITED; a status carries the
times, the exit code and a reason) in plain Python types: times are wall-clock
seconds since the epoch, as CRI's nanosecond timestamps are.
"""

from __future__ import annotations

import enum
from typing import Literal

import msgspec

__all__ = [
    "ContainerConfig",
    "ContainerEvent",
    "ContainerState",
    "ContainerStatus",
    "ImageError",
    "NotFoundError",
    "RuntimeFailure",
    "SandboxConfig",
    "SandboxState",
    "SandboxStatus",
]


class ContainerState(enum.Enum):
    CREATED = "CONTAINER_CREATED"
    RUNNING = "CONTAINER_RUNNING"
    EXITED = "CONTAINER_EXITED"
    UNKNOWN = "CONTAINER_UNKNOWN"


class SandboxState(enum.Enum):
    READY = "SANDBOX_READY"
    NOT_READY = "SANDBOX_NOTREADY"


# These hold only strings, numbers and containers of them, so they cannot be in a
# reference cycle: `gc=False` keeps the collector from scanning one per container.
class SandboxConfig(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What a pod sandbox is made from: the pod's identity and its network address."""

    name: str
    namespace: str
    uid: str
    ip: str = ""
    attempt: int = 0
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)


class SandboxStatus(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    id: str
    config: SandboxConfig
    state: SandboxState
    created_at: float


class ContainerConfig(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One container to create in a sandbox, as the kubelet resolves it from the pod spec."""

    name: str
    image: str
    command: list[str] = msgspec.field(default_factory=list)
    args: list[str] = msgspec.field(default_factory=list)
    env: dict[str, str] = msgspec.field(default_factory=dict)
    working_dir: str = ""
    attempt: int = 0
    memory_limit_bytes: int = 0
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)


class ContainerStatus(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A container as the runtime sees it now; `reason` explains an exit ("Completed")."""

    id: str
    sandbox_id: str
    name: str
    attempt: int
    image: str
    image_ref: str
    state: ContainerState
    created_at: float
    started_at: float = 0.0
    finished_at: float = 0.0
    exit_code: int = 0
    reason: str = ""
    message: str = ""
    log_path: str = ""
    labels: dict[str, str] = msgspec.field(default_factory=dict)


class ContainerEvent(msgspec.Struct, frozen=True):
    """A container changed state on its own (CRI's GetContainerEvents): the kubelet's cue."""

    type: Literal["CREATED", "STARTED", "STOPPED", "DELETED"]
    container_id: str
    sandbox_id: str


class RuntimeFailure(Exception):
    """A runtime call failed; `reason` is what the kubelet reports ("RunContainerError")."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


class ImageError(RuntimeFailure):
    """The image could not be pulled ("ErrImagePull")."""

    def __init__(self, image: str, message: str) -> None:
        super().__init__("ErrImagePull", f"pulling {image!r}: {message}")
        self.image = image


class NotFoundError(RuntimeFailure):
    """No sandbox or container has that id."""

    def __init__(self, what: str, ident: str) -> None:
        super().__init__("NotFound", f"no {what} with id {ident!r}")
