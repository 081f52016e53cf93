from pathlib import Path
from typing import Any

import anyio
import pytest

from kubeactors.actors import ActorRef, Supervisor
from kubeactors.api import Lease, Pod
from kubeactors.controllers import ControllerManager, ControllerManagerSettings, ManagerState, State

from ..api.harness import running_api
from .faults import wait_for
from .objects import replica_set


def settings(identity: str) -> ControllerManagerSettings:
    return ControllerManagerSettings(
        controllers=("replicaset",),
        identity=identity,
        lease_duration=0.6,
        renew_deadline=0.4,
        retry_period=0.1,
    )


async def test_one_of_two_managers_leads_and_the_other_takes_over(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        refs: dict[str, ActorRef[Any]] = {}
        for name in ("one", "two"):
            supervisor = h.system.spawn_supervisor(f"{name}-controllers")

            def make(supervisor: Supervisor = supervisor, name: str = name) -> ControllerManager:
                return ControllerManager(h.client, supervisor, settings(name))

            refs[name] = h.system.spawn(make, name=f"manager-{name}")
        await anyio.sleep(0.5)
        states: list[ManagerState] = [await ref.ask(State) for ref in refs.values()]
        leaders = [s.identity for s in states if s.leading]
        assert len(leaders) == 1
        (leader,) = leaders
        lease = await h.client.get(Lease, "kube-controller-manager", "kube-system")
        assert lease.spec.holder_identity == leader
        await refs[leader].stop()
        follower = next(name for name in refs if name != leader)
        with anyio.fail_after(10):
            while True:
                state: ManagerState = await refs[follower].ask(State)
                if state.leading:
                    break
                await anyio.sleep(0.05)
        assert (await refs[follower].ask(State)).controllers == ["replicaset"]
        await h.client.create(replica_set("web", 3))
        await wait_for(h.client, Pod, lambda pods: len(pods) == 3)
        lease = await h.client.get(Lease, "kube-controller-manager", "kube-system")
        assert lease.spec.holder_identity == follower
        assert lease.spec.lease_transitions == 1


def test_settings_name_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="unknown"):
        ControllerManagerSettings(controllers=("nope",))
    with pytest.raises(ValueError, match="renew_deadline"):
        ControllerManagerSettings(renew_deadline=20.0)
