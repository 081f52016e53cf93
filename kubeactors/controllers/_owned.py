"""Per controller owner, the pods a controller's cache holds and running counts over them.

A ReplicaSet of 20,000 pods is synced again at each change of any of them, and
upstream's sync reads all 20,000 each time. Here the pod informer's handlers note
each changed pod key (`OwnedPods.touch`); a sync first brings the tallies up to date
from those keys alone (`OwnedPods.tally`), then reads counts that equal a full scan
of the owner's pods in the cache. `recount` is that full scan: the tests compare the
two after every sync.

A tally judges its pods by a `Basis` (an owner's selector and template labels); when
the owner's basis changes, its pods are judged again, all of them, once.

With `OwnedPods.checking` set (the test suite sets it for every test), each tally
handed out is compared with a recount of the informer's index of the same owner,
counts and order, and any difference is recorded in `DIVERGENCES`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import msgspec

from ..api import LabelSelector, Pod, object_key
from ..client import Informer
from ._labels import selector_is_empty, selector_matches
from ._pods import controller_of, is_active, is_ready

__all__ = [
    "DIVERGENCES",
    "EVERY_POD",
    "Basis",
    "OwnedPods",
    "PodFacts",
    "Tally",
    "controller_uid",
    "recount",
]

DIVERGENCES: list[str] = []
"""What checking tallies found different from a recount (see the module docstring)."""


class PodFacts(msgspec.Struct, frozen=True, gc=False):
    """What a sync asks of one pod, for one owner's basis."""

    selected: bool
    active: bool
    ready: bool
    labeled: bool


class Basis:
    """What an owner judges its pods by: its selector (None: every pod is selected;
    an empty selector selects none, as upstream's ReplicaSets) and its template's
    labels (None: every pod counts as fully labelled)."""

    __slots__ = ("labels", "selector")

    def __init__(self, selector: LabelSelector | None, labels: Mapping[str, str] | None) -> None:
        self.selector = selector
        self.labels = labels

    def facts(self, pod: Pod) -> PodFacts:
        selector = self.selector
        pod_labels = pod.metadata.labels
        selected = selector is None or (
            not selector_is_empty(selector) and selector_matches(selector, pod_labels)
        )
        return PodFacts(
            selected=selected,
            active=is_active(pod),
            ready=is_ready(pod),
            labeled=self.labels is None or self.labels.items() <= pod_labels.items(),
        )


EVERY_POD = Basis(None, None)
"""Selects every pod of its owner (the Deployment controller counts by owner alone)."""


class Tally(msgspec.Struct, gc=False):
    """One owner's pods (by key) with their facts, and sums of those facts.

    `active` counts selected pods that are active, `ready` and `labeled` those of
    them also ready or fully labelled; `releasable` counts the unselected pods not
    being deleted (a claim releases them). The sums hold only while `basis` is set.
    """

    pods: dict[str, tuple[Pod, PodFacts | None]] = msgspec.field(default_factory=dict)
    basis: Basis | None = None
    active: int = 0
    ready: int = 0
    labeled: int = 0
    releasable: int = 0

    def _count(self, pod: Pod, facts: PodFacts, sign: int) -> None:
        if facts.selected:
            if facts.active:
                self.active += sign
                if facts.ready:
                    self.ready += sign
                if facts.labeled:
                    self.labeled += sign
        elif pod.metadata.deletion_timestamp is None:
            self.releasable += sign

    def add(self, key: str, pod: Pod) -> None:
        basis = self.basis
        facts = basis.facts(pod) if basis is not None else None
        self.pods[key] = (pod, facts)
        if facts is not None:
            self._count(pod, facts, +1)

    def remove(self, key: str) -> None:
        pod, facts = self.pods.pop(key)
        if facts is not None:
            self._count(pod, facts, -1)

    def judge(self, basis: Basis) -> None:
        """Judge every pod again by `basis` and recount."""
        self.basis = basis
        self.active = self.ready = self.labeled = self.releasable = 0
        pods = self.pods
        for key, (pod, _) in pods.items():
            facts = basis.facts(pod)
            pods[key] = (pod, facts)
            self._count(pod, facts, +1)

    def facts(self, key: str) -> PodFacts | None:
        found = self.pods.get(key)
        return None if found is None else found[1]


class OwnedPods:
    """A `Tally` per owner uid over the pods of `informer`, kept up to date from the
    keys its handlers report changed (`touch`: every add, update and delete).

    `owner_of` names a pod's controller uid; `index` is the informer's index that
    holds, under that uid, the same pods (the reference `checking` compares with).
    """

    checking = False

    def __init__(
        self, informer: Informer[Pod], owner_of: Callable[[Pod], str | None], index: str
    ) -> None:
        self._informer = informer
        self._owner_of = owner_of
        self._index = index
        self._tallies: dict[str, Tally] = {}
        self._owners: dict[str, str] = {}
        """Each tallied pod key's owner uid."""
        # A dict, not a set: the order stays the same from run to run.
        self._dirty: dict[str, None] = {}

    def touch(self, pod: Pod) -> None:
        """Note that the cache's pod at `pod`'s key was stored or removed (not for a
        resync's update of an object to itself: that changes nothing)."""
        key = object_key(pod)
        # Last stored last, as the informer's index orders the keys it re-stores: a
        # tally's pods then stay in the informer's index order.
        self._dirty.pop(key, None)
        self._dirty[key] = None

    def updated(self, old: Pod, new: Pod) -> None:
        """An informer's update handler: `touch` unless it is a resync's."""
        if old is not new:
            self.touch(new)

    def tally(self, uid: str, basis: Basis) -> Tally:
        """The pods owned by `uid` in the cache now, judged by `basis`."""
        self._refresh()
        tally = self._tallies.get(uid)
        if tally is None:
            tally = self._tallies[uid] = Tally()
        if tally.basis is not basis:
            tally.judge(basis)
        if self.checking:
            self._check(uid, tally, basis)
        return tally

    def _check(self, uid: str, tally: Tally, basis: Basis) -> None:
        pods = self._informer.by_index(self._index, uid)
        expected = recount(pods, basis)
        found = (tally.active, tally.ready, tally.labeled, tally.releasable)
        order = [object_key(pod) for pod in pods]
        stale = [key for key, (pod, _) in tally.pods.items() if self._informer.get(key) is not pod]
        if found != expected or list(tally.pods) != order or stale:
            DIVERGENCES.append(
                f"owner {uid}: tally {found} of {list(tally.pods)} (stale: {stale}), "
                f"a recount {expected} of {order}"
            )

    def _refresh(self) -> None:
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        get, owner_of = self._informer.get, self._owner_of
        tallies, owners = self._tallies, self._owners
        for key in dirty:
            pod = get(key)
            was = owners.get(key)
            uid = owner_of(pod) if pod is not None else None
            if was is not None:
                old = tallies[was]
                if uid == was and old.pods[key][0] is pod:
                    continue  # stored again as it was
                old.remove(key)
                if was != uid:
                    del owners[key]
                    if not old.pods:
                        del tallies[was]
            if pod is not None and uid is not None:
                new = tallies.get(uid)
                if new is None:
                    new = tallies[uid] = Tally()
                new.add(key, pod)
                owners[key] = uid


def controller_uid(pod: Pod) -> str | None:
    """The uid of the pod's controller, if it has one."""
    reference = controller_of(pod)
    return None if reference is None else reference.uid


def recount(pods: Iterable[Pod], basis: Basis) -> tuple[int, int, int, int]:
    """(active, ready, labeled, releasable) of `pods` judged by `basis`, from scratch:
    what a `Tally` of the same pods must hold."""
    tally = Tally(basis=basis)
    for pod in pods:
        tally.add(object_key(pod), pod)
    return tally.active, tally.ready, tally.labeled, tally.releasable
