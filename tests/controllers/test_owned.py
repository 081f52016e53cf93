"""`OwnedPods`: tallies kept from changed keys equal a recount of the informer's cache."""

from __future__ import annotations

from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from kubeactors.api import (
    LabelSelector,
    ObjectMeta,
    OwnerReference,
    Pod,
    PodCondition,
    PodStatus,
    WatchEvent,
)
from kubeactors.client import Informer
from kubeactors.controllers._owned import EVERY_POD, Basis, OwnedPods, controller_uid, recount

OWNERS = ["uid-a", "uid-b"]
NAMES = [f"p{index}" for index in range(4)]


def _owner_index(pod: Pod) -> list[str]:
    uid = controller_uid(pod)
    return [uid] if uid is not None else []


def _pod(name: str, owner: str | None, app: str, phase: str, ready: bool, deleting: bool) -> Pod:
    references = (
        [
            OwnerReference(
                api_version="apps/v1", kind="ReplicaSet", name="rs", uid=owner, controller=True
            )
        ]
        if owner is not None
        else []
    )
    return Pod(
        metadata=ObjectMeta(
            name=name,
            namespace="default",
            labels={"app": app, "tier": "web"},
            owner_references=references,
            deletion_timestamp="2024-01-01T00:00:00Z" if deleting else None,
        ),
        status=PodStatus(
            phase=phase,  # type: ignore[arg-type]
            conditions=[PodCondition(type="Ready", status="True" if ready else "False")],
        ),
    )


_pods = st.builds(
    _pod,
    st.sampled_from(NAMES),
    st.sampled_from([*OWNERS, None]),
    st.sampled_from(["web", "db"]),
    st.sampled_from(["Pending", "Running", "Succeeded"]),
    st.booleans(),
    st.booleans(),
)
_steps = st.lists(
    st.one_of(
        st.tuples(st.just("put"), _pods),
        st.tuples(st.just("delete"), st.sampled_from(NAMES)),
        st.tuples(st.just("tally"), st.sampled_from(OWNERS), st.integers(0, 2)),
        st.tuples(st.just("resync")),
    ),
    max_size=40,
)

_BASES = [
    Basis(LabelSelector(match_labels={"app": "web"}), {"app": "web", "tier": "web"}),
    Basis(LabelSelector(match_labels={"tier": "web"}), {"app": "db"}),
    EVERY_POD,
]


class _NoClient:
    """The informer is fed by hand here; it never calls its client."""


@settings(max_examples=200)
@given(batches=st.lists(_steps, min_size=1, max_size=4))
def test_tallies_equal_a_recount_after_any_changes(batches: list[list[Any]]) -> None:
    informer: Informer[Pod] = Informer(_NoClient(), Pod)  # type: ignore[arg-type]
    informer.add_index("owner", _owner_index)
    owned = OwnedPods(informer, controller_uid, "owner")
    informer.add_handler(on_add=owned.touch, on_update=owned.updated, on_delete=owned.touch)
    version = 0
    for steps in batches:
        events: list[WatchEvent[Pod]] = []
        for step in steps:
            if step[0] == "put":
                version += 1
                pod = step[1]
                meta = msgspec.structs.replace(pod.metadata, resource_version=str(version))
                pod = msgspec.structs.replace(pod, metadata=meta)
                events.append(
                    WatchEvent(
                        "MODIFIED" if informer.get(f"default/{pod.metadata.name}") else "ADDED",
                        pod,
                    )
                )
            elif step[0] == "delete":
                found = informer.get(f"default/{step[1]}")
                if found is not None:
                    events.append(WatchEvent("DELETED", found))
            elif step[0] == "resync":
                # A resync hands every cached object over again, unchanged.
                informer._call_handlers(informer._take_in(events))
                events = []
                informer._call_handlers([("MODIFIED", obj, obj) for obj in informer.items()])
            else:
                _, uid, basis = step
                informer._call_handlers(informer._take_in(events))
                events = []
                tally = owned.tally(uid, _BASES[basis])
                cached = informer.by_index("owner", uid)
                assert (tally.active, tally.ready, tally.labeled, tally.releasable) == recount(
                    cached, _BASES[basis]
                )
                assert list(tally.pods) == [f"default/{pod.metadata.name}" for pod in cached]
        informer._call_handlers(informer._take_in(events))
    for uid in OWNERS:
        for basis in _BASES:
            tally = owned.tally(uid, basis)
            assert (tally.active, tally.ready, tally.labeled, tally.releasable) == recount(
                informer.by_index("owner", uid), basis
            )


def test_recount_judges_each_pod_by_the_basis() -> None:
    web = Basis(LabelSelector(match_labels={"app": "web"}), {"app": "web", "tier": "other"})
    pods = [
        _pod("a", "uid-a", "web", "Running", True, False),  # active, ready, not labelled
        _pod("b", "uid-a", "web", "Pending", False, False),  # active
        _pod("c", "uid-a", "db", "Running", True, False),  # releasable
        _pod("d", "uid-a", "db", "Running", True, True),  # unselected but being deleted
        _pod("e", "uid-a", "web", "Succeeded", True, False),  # selected, finished
    ]
    assert recount(pods, web) == (2, 1, 0, 1)
    assert recount(pods, EVERY_POD) == (3, 2, 3, 0)
    empty = Basis(LabelSelector(), None)  # an empty selector selects nothing
    assert recount(pods, empty) == (0, 0, 0, 4)
