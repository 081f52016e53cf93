from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import anyio
import anyio.lowlevel
import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.actors import Actor, ActorRef, ActorSystem
from kubeactors.api import (
    KINDS,
    ApiError,
    ApiServer,
    KindRegistry,
    Lease,
    LeaseSpec,
    Namespace,
    Node,
    NodeStatus,
    ObjectMeta,
    Pod,
    PodSpec,
    PodStatus,
    WatchEvent,
    kind_of,
)
from kubeactors.api._kinds import without_resource_version
from kubeactors.client import Client
from kubeactors.store import (
    PutMany,
    Store,
    StoreActor,
    StoreOptions,
    StoreRequest,
    prefix_end,
)

from .harness import make_pod, running_api


async def test_create_fills_identity_and_version(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        pod = await h.client.create(make_pod("web"))
        assert pod.metadata.namespace == "default"
        assert len(pod.metadata.uid) == 36
        assert pod.metadata.creation_timestamp == "2026-01-02T03:04:05Z"
        assert pod.status.phase == "Pending"
        stored = await h.store.get(b"/registry/pods/default/web")
        assert stored is not None
        assert pod.metadata.resource_version == str(stored.mod_revision)
        # Stored once, without the resourceVersion (the revision is the version).
        assert b"resourceVersion" not in stored.value
        node = await h.client.create(Node(metadata=ObjectMeta(name="n1")))
        assert await h.store.get(b"/registry/minions/n1") is not None
        assert node.metadata.namespace == ""


async def test_creation_timestamps_follow_the_wall_clock(tmp_path: Path) -> None:
    """The server formats the time once per second: a later second, an earlier one
    (the clock set back) and another time zone must each be written afresh."""
    start = datetime(2026, 1, 2, 3, 4, 5, 900_000, tzinfo=UTC)
    now = [start]
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, tmp_path / "store.db", options=StoreOptions("OFF"))
        api = system.spawn(lambda: ApiServer(store.ref, wall_clock=lambda: now[0]))
        client = Client(api, timeout=10.0)
        moments = [
            (start, "2026-01-02T03:04:05Z"),
            (start + timedelta(milliseconds=50), "2026-01-02T03:04:05Z"),
            (start + timedelta(milliseconds=100), "2026-01-02T03:04:06Z"),
            (start - timedelta(seconds=3), "2026-01-02T03:04:02Z"),
            (start.astimezone(timezone(timedelta(hours=2))), "2026-01-02T03:04:05Z"),
            (start + timedelta(hours=1), "2026-01-02T04:04:05Z"),
        ]
        for index, (moment, expected) in enumerate(moments):
            now[0] = moment
            pod = await client.create(make_pod(f"p{index}"))
            assert pod.metadata.creation_timestamp == expected


async def test_generate_name_makes_distinct_names(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        names = set()
        for _ in range(5):
            pod = await h.client.create(make_pod(generate_name="job-"))
            assert pod.metadata.name.startswith("job-")
            assert len(pod.metadata.name) == len("job-") + 5
            names.add(pod.metadata.name)
        assert len(names) == 5


async def test_create_twice_is_already_exists(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(make_pod("web"))
        with pytest.raises(ApiError) as caught:
            await h.client.create(make_pod("web"))
        status = caught.value.status
        assert (status.code, status.reason, status.status) == (409, "AlreadyExists", "Failure")
        assert status.details.name == "web"


async def test_get_and_delete_missing_are_not_found(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        for call in (h.client.get, h.client.delete):
            with pytest.raises(ApiError) as caught:
                await call(Pod, "ghost")
            assert caught.value.code == 404
            assert caught.value.reason == "NotFound"
            assert caught.value.status.message == 'pods "ghost" not found'


async def test_invalid_objects_name_the_field(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        with pytest.raises(ApiError) as caught:
            await h.client.create(make_pod("web", cpu="abc"))
        status = caught.value.status
        assert (status.code, status.reason) == (422, "Invalid")
        field = "spec.containers[0].resources.requests.cpu"
        assert f'{field}: Invalid value: "abc"' in status.message
        assert [cause.field for cause in status.details.causes] == [field]
        with pytest.raises(ApiError, match=r"metadata\.name: Required value"):
            await h.client.create(make_pod(""))
        with pytest.raises(ApiError, match=r"spec\.containers: Required value"):
            await h.client.create(Pod(metadata=ObjectMeta(name="empty"), spec=PodSpec()))
        with pytest.raises(ApiError, match=r'status\.capacity\.memory: Invalid value: "-1"'):
            await h.client.create(
                Node(metadata=ObjectMeta(name="n"), status=NodeStatus(capacity={"memory": "-1"}))
            )
        assert (await h.store.range_prefix(b"/registry/pods/")).count == 0
        assert (await h.store.range_prefix(b"/registry/minions/")).count == 0


async def test_update_conflicts_on_stale_version(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        first = await h.client.create(make_pod("web"))
        bound = msgspec.structs.replace(
            first, spec=msgspec.structs.replace(first.spec, node_name="n1")
        )
        second = await h.client.update(bound)
        assert int(second.metadata.resource_version) > int(first.metadata.resource_version)
        assert (await h.client.get(Pod, "web")).spec.node_name == "n1"
        with pytest.raises(ApiError) as caught:
            await h.client.update(bound)  # still carries the first version
        assert (caught.value.code, caught.value.reason) == (409, "Conflict")
        assert "the object has been modified" in caught.value.status.message
        with pytest.raises(ApiError, match=r"metadata\.resourceVersion"):
            await h.client.update(make_pod("web"))


async def test_update_of_missing_object_is_not_found(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        with pytest.raises(ApiError) as caught:
            await h.client.update(make_pod("ghost", resource_version="3"))
        assert caught.value.code == 404


async def test_list_carries_the_revision_it_read_at(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        for name in ("a", "b"):
            await h.client.create(make_pod(name))
        await h.client.create(Namespace(metadata=ObjectMeta(name="other")))
        await h.client.create(make_pod("c", namespace="other"))
        await h.client.create(Node(metadata=ObjectMeta(name="n1")))
        everything = await h.client.list(Pod)
        assert everything.kind == "PodList"
        assert sorted(p.metadata.name for p in everything.items) == ["a", "b", "c"]
        in_default = await h.client.list(Pod, "default")
        assert sorted(p.metadata.name for p in in_default.items) == ["a", "b"]
        latest = await h.store.range(b"/", prefix_end(b"/"))
        assert everything.resource_version == str(latest.revision)
        assert [n.metadata.name for n in (await h.client.list(Node)).items] == ["n1"]


async def test_delete_returns_the_last_stored_object(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        created = await h.client.create(make_pod("web"))
        deleted = await h.client.delete(Pod, "web")
        assert deleted.metadata.uid == created.metadata.uid
        assert (await h.client.list(Pod)).items == []


async def _next_events(watch: object, count: int) -> list[WatchEvent[Pod]]:
    events: list[WatchEvent[Pod]] = []
    with anyio.fail_after(5):
        async for batch in watch:  # type: ignore[attr-defined]
            events.extend(batch)
            if len(events) >= count:
                break
    return events


async def test_watch_from_zero_replays_current_state_then_follows(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(make_pod("a"))
        await h.client.create(make_pod("b"))
        watch = await h.client.watch(Pod)
        first = await _next_events(watch, 2)
        assert [(e.type, e.object.metadata.name) for e in first] == [("ADDED", "a"), ("ADDED", "b")]
        pod_a = first[0].object
        await h.client.update(
            msgspec.structs.replace(
                pod_a, metadata=msgspec.structs.replace(pod_a.metadata, labels={"x": "1"})
            )
        )
        await h.client.delete(Pod, "b")
        later = await _next_events(watch, 2)
        assert [(e.type, e.object.metadata.name) for e in later] == [
            ("MODIFIED", "a"),
            ("DELETED", "b"),
        ]
        assert later[0].object.metadata.labels == {"x": "1"}
        watch.close()


async def test_watch_from_a_version_sees_only_later_changes(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        first = await h.client.create(make_pod("a"))
        await h.client.create(make_pod("b"))
        await h.client.create(Node(metadata=ObjectMeta(name="n1")))
        watch = await h.client.watch(Pod, resource_version=first.metadata.resource_version)
        await h.client.create(make_pod("c"))
        events = await _next_events(watch, 2)
        assert [(e.type, e.object.metadata.name) for e in events] == [
            ("ADDED", "b"),
            ("ADDED", "c"),
        ]
        watch.close()
        with pytest.raises(ApiError) as caught:
            await h.client.watch(Pod, resource_version="soon")
        assert caught.value.code == 400


async def test_watch_from_a_compacted_version_is_expired(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        first = await h.client.create(make_pod("a"))
        await h.client.create(make_pod("b"))
        latest = await h.client.create(make_pod("c"))
        await h.store.compact(int(latest.metadata.resource_version))
        watch = await h.client.watch(Pod, resource_version=first.metadata.resource_version)
        with anyio.fail_after(5), pytest.raises(ApiError) as caught:
            await watch.__anext__()
        assert (caught.value.code, caught.value.reason) == (410, "Expired")
        watch.close()


async def test_an_unknown_kind_is_a_bad_request_and_the_server_lives_on(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        with pytest.raises(ApiError) as caught:
            await h.client.get(dict, "x")  # type: ignore[type-var]
        assert (caught.value.code, caught.value.reason) == (400, "BadRequest")
        assert "not a resource type" in caught.value.status.message
        await h.client.create(make_pod("still-serving"))


async def test_an_object_too_large_to_store_is_413(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        pod = make_pod("huge")
        blob = {"blob": "x" * 2_000_000}
        huge = msgspec.structs.replace(
            pod, metadata=msgspec.structs.replace(pod.metadata, annotations=blob)
        )
        with pytest.raises(ApiError) as caught:
            await h.client.create(huge)
        assert (caught.value.code, caught.value.reason) == (413, "RequestEntityTooLarge")
        with pytest.raises(ApiError, match="not found"):
            await h.client.get(Pod, "huge")


async def test_a_created_pod_is_stored_as_its_kind_encodes_it(tmp_path: Path) -> None:
    """Pods from one template have their spec's JSON spliced in: the bytes stored
        must be the pod's own encoding all the same, whatever its metadata and status (the
    status of a pod made without one is spliced in too)."""
    template = make_pod().spec
    other = make_pod(cpu="250m").spec
    pods = kind_of(Pod)
    async with running_api(tmp_path) as h:
        for index in range(8):
            spec = (template, make_pod().spec, other)[index % 3]
            labels = {"app": "web", "quote": 'a"b\\c', "snow": "\u2603"} if index % 2 else {}
            meta = ObjectMeta(name=f"p{index}", labels=labels)
            if index in (4, 5):
                pod = Pod(metadata=meta, spec=spec, status=PodStatus(message=f"index {index}"))
            elif index in (2, 3):
                pod = Pod(metadata=meta, spec=spec, status=PodStatus())
            else:  # the status every pod made without one shares
                pod = Pod(metadata=meta, spec=spec)
            created = await h.client.create(pod)
            stored = await h.store.get(b"/registry/pods/default/p%d" % index)
            assert stored is not None
            assert stored.value == pods.encode(without_resource_version(created))


async def test_creates_of_one_turn_reach_the_store_together_each_its_own_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The creates the server handles in one turn go to the store as one `PutMany`:
    each still gets its own revision, reply and watch event, and a name taken fails
    alone."""
    batches: list[int] = []
    receive = StoreActor.receive

    # At the store's mailbox: its own calls do not reach a patch when it runs compiled.
    async def counted(actor: StoreActor, message: StoreRequest) -> None:
        if isinstance(message, PutMany):
            batches.append(len(message.puts))
        await receive(actor, message)

    monkeypatch.setattr(StoreActor, "receive", counted)
    async with running_api(tmp_path) as h:
        first = await h.client.create(make_pod("taken"))
        watch = await h.client.watch(Pod, resource_version=first.metadata.resource_version)
        names = [f"p{index}" for index in range(12)]
        created: dict[str, Pod] = {}
        refused: list[ApiError] = []

        async def create(name: str) -> None:
            try:
                created[name] = await h.client.create(make_pod(name))
            except ApiError as error:
                refused.append(error)

        async with anyio.create_task_group() as group:
            for name in [*names[:6], "taken", *names[6:]]:
                group.start_soon(create, name)
        assert sorted(created) == sorted(names)
        assert [(e.code, e.reason) for e in refused] == [(409, "AlreadyExists")]
        versions = {int(pod.metadata.resource_version) for pod in created.values()}
        assert len(versions) == len(names)
        events = await _next_events(watch, len(names))
        assert [(e.type, e.object.metadata.name) for e in events] == [
            ("ADDED", name) for name in names
        ]
        assert [int(e.object.metadata.resource_version) for e in events] == sorted(versions)
        watch.close()
    assert max(batches, default=0) > 1


class _Gate(Actor[StoreRequest]):
    """Passes every message on to the store, but holds each while the gate is shut:
    a store that takes one message at a time, and none while shut."""

    def __init__(self, store: ActorRef[StoreRequest]) -> None:
        self.store = store
        self.open = anyio.Event()
        self.open.set()

    async def receive(self, message: StoreRequest) -> None:
        await self.open.wait()
        await self.store.tell(message)


async def test_creates_wait_while_the_stores_mailbox_is_full(tmp_path: Path) -> None:
    """While the store's mailbox has no room, the creates' writes wait (and the
    server takes no more creates meanwhile); once it has, every create completes."""
    async with ActorSystem(seed=0) as system:
        store = Store.spawn(system.root, tmp_path / "store.db", synchronous="OFF")
        gates: list[_Gate] = []
        servers: list[ApiServer] = []

        def gate() -> _Gate:
            gates.append(_Gate(store.ref))
            return gates[-1]

        def server() -> ApiServer:
            servers.append(ApiServer(gate_ref, wall_clock=lambda: datetime.now(UTC)))
            return servers[-1]

        gate_ref = system.spawn(gate, name="gate", mailbox_size=1)
        api = system.spawn(server, name="apiserver", mailbox_size=ApiServer.mailbox_size)
        client = Client(api, timeout=10.0)
        await client.list(Pod)  # the server has started
        gates[0].open = anyio.Event()
        created: list[Pod] = []

        async def create(index: int) -> None:
            created.append(await client.create(make_pod(f"p{index}")))

        with anyio.fail_after(20):
            async with anyio.create_task_group() as group:
                for index in range(50):
                    group.start_soon(create, index)
                    await anyio.lowlevel.checkpoint()
                for _ in range(100):  # until a write finds the store's mailbox full
                    if servers[0]._creates_backlog is not None:
                        break
                    await anyio.lowlevel.checkpoint()
                assert servers[0]._creates_backlog is not None
                assert not created
                gates[0].open.set()
        assert sorted(pod.metadata.name for pod in created) == sorted(
            f"p{index}" for index in range(50)
        )
        assert len({pod.metadata.resource_version for pod in created}) == 50


_SERVER_OF_RULES = ApiServer(cast(Any, None), wall_clock=lambda: datetime.now(UTC))


@given(
    namespace=st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
    name=st.text(st.characters(exclude_categories=["Cs"]), max_size=12),
)
def test_an_updates_key_is_its_kinds_key(namespace: str, name: str) -> None:
    """The key an update is written at (its kind's rules compute it, natively) is the
    one its kind gives every other request."""
    for kind in KINDS:
        rules = _SERVER_OF_RULES._rules_of(kind)
        assert rules.key(namespace, name) == kind.key(namespace, name)
        assert rules.namespaced == kind.namespaced
        assert rules.has_status == kind.has_status


async def test_an_update_of_a_type_no_longer_served_is_refused(tmp_path: Path) -> None:
    """The server finds an update's kind by its type without the registry once it has
    seen the type, and forgets that when the registry changes."""
    registry = KindRegistry(KINDS)
    async with running_api(tmp_path, kinds=registry) as h:
        client = h.client
        lease = await client.create(
            Lease(
                metadata=ObjectMeta(name="n", namespace="kube-node-lease"),
                spec=LeaseSpec(holder_identity="n"),
            )
        )
        renewed = await client.update(
            msgspec.structs.replace(
                lease,
                spec=msgspec.structs.replace(lease.spec, renew_time="2026-01-01T00:00:01.000000Z"),
            )
        )
        registry.remove([kind_of(Lease)])
        with pytest.raises(ApiError) as refused:
            await client.update(
                msgspec.structs.replace(
                    renewed,
                    spec=msgspec.structs.replace(
                        renewed.spec, renew_time="2026-01-01T00:00:02.000000Z"
                    ),
                )
            )
        assert refused.value.code == 400
