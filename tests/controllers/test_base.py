"""The controller base: what a plain-Python subclass declares is what it runs by."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel

from kubeactors.actors import ActorSystem
from kubeactors.controllers import Controller, ControllerStatus, Inspect


class _Counting(Controller):
    """A controller in plain Python that changes every class setting of the base: the
    base is compiled (setup.py), and must read them off the subclass."""

    name = "counting"
    workers = 1
    resync_period = 0.01

    def __init__(self) -> None:
        super().__init__(client=None)  # type: ignore[arg-type]
        self.synced_keys: list[str] = []
        self.in_hand = 0
        self.most_in_hand = 0
        self.resynced = anyio.Event()

    def all_keys(self) -> list[str]:
        return ["a", "b"]

    async def sync(self, key: str) -> None:
        self.in_hand += 1
        self.most_in_hand = max(self.most_in_hand, self.in_hand)
        await anyio.lowlevel.checkpoint()  # another worker, if any, syncs meanwhile
        self.in_hand -= 1
        self.synced_keys.append(key)
        if len(self.synced_keys) >= 4:  # each key twice: the resync came
            self.resynced.set()


async def test_a_plain_python_subclass_runs_by_its_own_class_settings() -> None:
    async with ActorSystem(seed=0) as system:
        controller = _Counting()
        ref = system.spawn(lambda: controller, name="counting")
        with anyio.fail_after(10):
            await controller.resynced.wait()
        status: ControllerStatus = await ref.ask(Inspect)
    assert status.name == "counting"
    assert controller.most_in_hand == 1


def test_every_controller_can_be_subclassed_in_plain_python() -> None:
    """Controllers are an extension point; a compiled class refuses interpreted
    subclasses unless it allows them (`mypyc_attr` in kubeactors/_mypyc.py)."""
    import kubeactors.controllers

    controllers = [
        value
        for name in kubeactors.controllers.__all__
        if isinstance(value := getattr(kubeactors.controllers, name), type)
        and issubclass(value, Controller)
    ]
    assert len(controllers) > 5
    for controller in controllers:
        subclass: Any = type(f"Custom{controller.__name__}", (controller,), {"workers": 1})
        # A compiled class that does not allow it refuses to make the instance.
        assert subclass(None).workers == 1
