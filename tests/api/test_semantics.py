"""The server's semantics for every kind: naming, defaulting, generation, subresources,
deletion with finalizers, selectors, pagination and bookmarks."""

from pathlib import Path

import anyio
import msgspec
import pytest

from kubeactors.api import (
    ApiError,
    ConfigMap,
    Deployment,
    DeploymentSpec,
    Event,
    LabelSelector,
    Lease,
    LeaseSpec,
    Namespace,
    Node,
    ObjectMeta,
    ObjectReference,
    Pod,
    PodStatus,
    PodTemplateSpec,
    ReplicaSet,
    ReplicaSetSpec,
    RoleBinding,
    Scale,
    ScaleSpec,
    Service,
    ServicePort,
    ServiceSpec,
)
from kubeactors.store import StoreOptions

from .harness import FIXED_TIME, make_pod, running_api, wait_for

replace = msgspec.structs.replace


def _meta(obj: Pod, **changes: object) -> Pod:
    return replace(obj, metadata=replace(obj.metadata, **changes))


def _template(labels: dict[str, str]) -> PodTemplateSpec:
    return PodTemplateSpec(metadata=ObjectMeta(labels=labels), spec=make_pod().spec)


def _deployment(name: str, labels: dict[str, str]) -> Deployment:
    return Deployment(
        metadata=ObjectMeta(name=name),
        spec=DeploymentSpec(
            selector=LabelSelector(match_labels=labels), template=_template(labels)
        ),
    )


def _replica_set(name: str, labels: dict[str, str] | None = None) -> ReplicaSet:
    labels = labels or {"app": name}
    return ReplicaSet(
        metadata=ObjectMeta(name=name),
        spec=ReplicaSetSpec(
            selector=LabelSelector(match_labels=labels), template=_template(labels)
        ),
    )


def _names(objects: list[Namespace]) -> set[str]:
    return {obj.metadata.name for obj in objects}


async def test_create_names_stamps_and_defaults(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        first = await h.client.create(make_pod(generate_name="web-"))
        second = await h.client.create(make_pod(generate_name="web-"))
        for pod in (first, second):
            assert pod.metadata.name.startswith("web-")
            assert len(pod.metadata.name) == len("web-") + 5
            assert pod.metadata.generation == 1
            assert pod.metadata.creation_timestamp == "2026-01-02T03:04:05Z"
            assert pod.spec.restart_policy == "Always"
            assert pod.spec.termination_grace_period_seconds == 30
            assert pod.spec.scheduler_name == "default-scheduler"
            assert pod.status.phase == "Pending"
        assert first.metadata.name != second.metadata.name
        assert first.metadata.uid != second.metadata.uid
        service = await h.client.create(
            Service(
                metadata=ObjectMeta(name="web"),
                spec=ServiceSpec(ports=[ServicePort(port=80)], selector={"app": "web"}),
            )
        )
        assert service.spec.type == "ClusterIP"
        assert service.spec.session_affinity == "None"
        assert service.spec.ports[0].target_port == 80
        assert service.spec.cluster_ip.startswith("10.")
        deployment = await h.client.create(_deployment("d", {"app": "d"}))
        rolling = deployment.spec.strategy.rolling_update
        assert rolling is not None
        assert (rolling.max_surge, rolling.max_unavailable) == ("25%", "25%")
        assert deployment.spec.replicas == 1


async def test_the_default_namespaces_exist_at_start(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        names = {ns.metadata.name for ns in (await h.client.list(Namespace)).items}
        assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names
        default = await h.client.get(Namespace, "default")
        assert default.status.phase == "Active"


async def test_generation_moves_on_spec_changes_only(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        created = await h.client.create(_deployment("d", {"a": "b"}))
        labelled = await h.client.update(
            replace(created, metadata=replace(created.metadata, labels={"x": "y"}))
        )
        assert labelled.metadata.generation == 1
        scaled = await h.client.update(replace(labelled, spec=replace(labelled.spec, replicas=3)))
        assert scaled.metadata.generation == 2
        status = replace(scaled.status, replicas=3, observed_generation=2)
        reported = await h.client.update_status(replace(scaled, status=status))
        assert reported.metadata.generation == 2
        assert reported.status.replicas == 3


async def test_a_lease_keeps_its_generation_through_renewals(tmp_path: Path) -> None:
    """Upstream's Lease strategy moves no generation: a renewal (a spec change) and a
    new holder leave it as created, while a bad duration is refused by name."""
    async with running_api(tmp_path) as h:
        spec = LeaseSpec(holder_identity="n1", lease_duration_seconds=40)
        lease = await h.client.create(
            Lease(metadata=ObjectMeta(name="n1", namespace="kube-node-lease"), spec=spec)
        )
        created = lease.metadata.generation
        for second in range(3):
            renewed = replace(lease.spec, renew_time=f"2026-01-01T00:00:0{second}.000000Z")
            lease = await h.client.update(replace(lease, spec=renewed))
            assert lease.spec.renew_time == renewed.renew_time
        lease = await h.client.update(
            replace(lease, spec=replace(lease.spec, holder_identity="n2", lease_transitions=1))
        )
        assert lease.metadata.generation == created
        with pytest.raises(ApiError, match=r"spec\.leaseDurationSeconds: Invalid value: 0"):
            await h.client.update(
                replace(lease, spec=replace(lease.spec, lease_duration_seconds=0))
            )


async def test_status_update_changes_only_the_status(tmp_path: Path) -> None:
    async with running_api(tmp_path, compat_updates=False) as h:
        pod = await h.client.create(make_pod("web"))
        sneaky = replace(
            pod,
            spec=replace(pod.spec, node_name="n9"),
            status=PodStatus(phase="Running", pod_ip="10.0.0.9"),
        )
        updated = await h.client.update_status(sneaky)
        assert updated.status.phase == "Running"
        assert updated.spec.node_name == ""
        # And a main-resource update keeps the stored status (Kubernetes' rules).
        relabelled = await h.client.update(
            replace(
                updated, metadata=replace(updated.metadata, labels={"a": "b"}), status=PodStatus()
            )
        )
        assert relabelled.status.phase == "Running"
        with pytest.raises(ApiError, match=r"spec: Forbidden: pod updates may not change"):
            await h.client.update(replace(relabelled, spec=replace(relabelled.spec, node_name="x")))
        with pytest.raises(ApiError) as caught:
            await h.client.update_status(make_pod("cm"))
        assert caught.value.code in (404, 422)


async def test_writes_store_objects_without_their_resource_version(tmp_path: Path) -> None:
    """The stored bytes never carry a resourceVersion (the store's revision is it),
    whichever write made them: a status write starts from the stored object, read
    back with its version, and must drop it too."""
    async with running_api(tmp_path) as h:
        pod = await h.client.create(make_pod("web"))
        updated = await h.client.update(_meta(pod, labels={"a": "b"}))
        reported = await h.client.update_status(replace(updated, status=PodStatus(phase="Running")))
        again = await h.client.update_status(replace(reported, status=PodStatus(phase="Succeeded")))
        stored = await h.store.get(b"/registry/pods/default/web")
        assert stored is not None
        raw = msgspec.json.decode(stored.value)
        assert "resourceVersion" not in raw["metadata"]
        assert raw["status"]["phase"] == "Succeeded"
        assert again.metadata.resource_version == str(stored.mod_revision)


async def test_binding_assigns_a_node_once(tmp_path: Path) -> None:
    async with running_api(tmp_path, compat_updates=False) as h:
        pod = await h.client.create(make_pod("web"))
        bound = await h.client.bind(pod, "node-1")
        assert bound.spec.node_name == "node-1"
        assert [(c.type, c.status) for c in bound.status.conditions] == [("PodScheduled", "True")]
        with pytest.raises(ApiError) as caught:
            await h.client.bind(pod, "node-2")
        assert (caught.value.code, caught.value.reason) == (409, "Conflict")
        assert "already assigned" in caught.value.status.message
        assert (await h.client.get(Pod, "web")).spec.node_name == "node-1"
        with pytest.raises(ApiError) as missing:
            await h.client.bind(make_pod("ghost"), "node-1")
        assert missing.value.code == 404


async def test_scale_subresource_reads_and_sets_replicas(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(_replica_set("rs", {"app": "x"}))
        scale = await h.client.get_scale(ReplicaSet, "rs")
        assert (scale.spec.replicas, scale.status.selector) == (1, "app==x")
        changed = await h.client.update_scale(
            ReplicaSet, Scale(metadata=ObjectMeta(name="rs"), spec=ScaleSpec(replicas=5))
        )
        assert changed.spec.replicas == 5
        stored = await h.client.get(ReplicaSet, "rs")
        assert stored.spec.replicas == 5
        assert stored.metadata.generation == 2
        with pytest.raises(ApiError, match=r"spec\.replicas"):
            await h.client.update_scale(
                ReplicaSet, Scale(metadata=ObjectMeta(name="rs"), spec=ScaleSpec(replicas=-1))
            )
        with pytest.raises(ApiError) as caught:
            await h.client.get_scale(Pod, "rs")
        assert caught.value.code == 404


async def test_finalizers_hold_an_object_until_the_last_one_goes(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(ConfigMap(metadata=ObjectMeta(name="c", finalizers=["a", "b"])))
        marked = await h.client.delete(ConfigMap, "c")
        assert marked.metadata.deletion_timestamp == "2026-01-02T03:04:05Z"
        still = await h.client.get(ConfigMap, "c")
        assert still.metadata.finalizers == ["a", "b"]
        again = await h.client.delete(ConfigMap, "c")
        assert again.metadata.resource_version == still.metadata.resource_version
        with pytest.raises(ApiError, match="no new finalizers"):
            await h.client.update(_meta(still, finalizers=["a", "b", "c"]))  # type: ignore[arg-type]
        one = await h.client.update(_meta(still, finalizers=["b"]))  # type: ignore[arg-type]
        assert one.metadata.finalizers == ["b"]
        await h.client.patch(ConfigMap, "c", {"metadata": {"finalizers": None}}, patch_type="merge")
        with pytest.raises(ApiError) as caught:
            await h.client.get(ConfigMap, "c")
        assert caught.value.code == 404


async def test_propagation_policies_mark_for_the_collector(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        for name in ("orphan", "fore", "back"):
            await h.client.create(_replica_set(name))
        orphaned = await h.client.delete(ReplicaSet, "orphan", propagation_policy="Orphan")
        assert orphaned.metadata.finalizers == ["orphan"]
        foreground = await h.client.delete(ReplicaSet, "fore", propagation_policy="Foreground")
        assert foreground.metadata.finalizers == ["foregroundDeletion"]
        assert foreground.metadata.deletion_timestamp is not None
        await h.client.delete(ReplicaSet, "back", propagation_policy="Background")
        names = sorted(rs.metadata.name for rs in (await h.client.list(ReplicaSet)).items)
        assert names == ["fore", "orphan"]
        with pytest.raises(ApiError) as caught:
            await h.client.delete(ReplicaSet, "fore", propagation_policy="Sideways")
        assert caught.value.code == 400


async def test_delete_preconditions(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        pod = await h.client.create(make_pod("web"))
        with pytest.raises(ApiError) as caught:
            await h.client.delete(Pod, "web", precondition_uid="not-the-uid")
        assert caught.value.code == 409
        with pytest.raises(ApiError):
            await h.client.delete(Pod, "web", precondition_resource_version="1")
        await h.client.delete(Pod, "web", precondition_uid=pod.metadata.uid)
        with pytest.raises(ApiError) as gone:
            await h.client.delete(Pod, "web")
        assert gone.value.code == 404


async def test_graceful_deletion_of_a_bound_pod(tmp_path: Path) -> None:
    async with running_api(tmp_path, compat_updates=False) as h:
        pod = await h.client.create(make_pod("web"))
        await h.client.bind(pod, "n1")
        marked = await h.client.delete(Pod, "web")
        assert marked.metadata.deletion_grace_period_seconds == 30
        assert marked.metadata.deletion_timestamp is not None
        assert (await h.client.get(Pod, "web")).metadata.deletion_timestamp is not None
        await h.client.delete(Pod, "web", grace_period_seconds=0)
        assert (await h.client.list(Pod)).items == []


async def test_deleting_a_namespace_empties_it_first(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(Namespace(metadata=ObjectMeta(name="team")))
        await h.client.create(make_pod("a", namespace="team"))
        await h.client.create(ConfigMap(metadata=ObjectMeta(name="c", namespace="team")))
        terminating = await h.client.delete(Namespace, "team")
        assert terminating.status.phase == "Terminating"
        await wait_for(h.client, Namespace, lambda found: "team" not in _names(found))
        assert (await h.client.list(Pod, "team")).items == []
        assert (await h.client.list(ConfigMap, "team")).items == []


async def test_label_and_field_selectors_apply_on_list(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(make_pod("a", labels={"app": "web", "tier": "front"}))  # type: ignore[arg-type]
        await h.client.create(make_pod("b", labels={"app": "web"}))  # type: ignore[arg-type]
        c = await h.client.create(make_pod("c", labels={"app": "db"}))  # type: ignore[arg-type]
        await h.client.bind(c, "n1")

        async def names(**selectors: str) -> list[str]:
            listed = await h.client.list(Pod, **selectors)  # type: ignore[arg-type]
            return sorted(p.metadata.name for p in listed.items)

        assert await names(label_selector="app=web") == ["a", "b"]
        assert await names(label_selector="app!=web") == ["c"]
        assert await names(label_selector="app in (db, cache)") == ["c"]
        assert await names(label_selector="app notin (db),!tier") == ["b"]
        assert await names(label_selector="tier") == ["a"]
        assert await names(field_selector="spec.nodeName=n1") == ["c"]
        assert await names(field_selector="spec.nodeName=") == ["a", "b"]
        assert await names(field_selector="metadata.name!=a,status.phase=Pending") == ["b", "c"]
        with pytest.raises(ApiError, match=r"field label not supported: spec\.colour"):
            await names(field_selector="spec.colour=red")
        with pytest.raises(ApiError) as caught:
            await names(label_selector="app in (")
        assert caught.value.code == 400


async def test_event_field_selectors_on_the_involved_object(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        for name, pod in (("e1", "web"), ("e2", "db")):
            await h.client.create(
                Event(
                    metadata=ObjectMeta(name=name),
                    involved_object=ObjectReference(kind="Pod", name=pod, namespace="default"),
                    reason="Scheduled",
                )
            )
        listed = await h.client.list(
            Event, field_selector="involvedObject.kind=Pod,involvedObject.name=db"
        )
        assert [e.metadata.name for e in listed.items] == ["e2"]


async def test_pagination_walks_every_object_once_at_one_revision(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        for index in range(7):
            await h.client.create(make_pod(f"p{index}"))
        first = await h.client.list(Pod, limit=3)
        assert len(first.items) == 3
        assert first.metadata.remaining_item_count == 4
        await h.client.create(make_pod("late"))  # after the first page: not in this list
        seen = [p.metadata.name for p in first.items]
        token = first.continue_
        while token:
            page = await h.client.list(Pod, limit=3, continue_=token)
            assert page.resource_version == first.resource_version
            seen += [p.metadata.name for p in page.items]
            token = page.continue_
        assert seen == [f"p{index}" for index in range(7)]
        with pytest.raises(ApiError) as caught:
            await h.client.list(Pod, limit=2, continue_="garbage!")
        assert caught.value.code == 400


async def test_a_continue_token_past_compaction_is_expired(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        for index in range(4):
            await h.client.create(make_pod(f"p{index}"))
        first = await h.client.list(Pod, limit=2)
        last = await h.client.create(make_pod("z"))
        await h.client.delete(Pod, "p3")
        await h.store.compact(int(last.metadata.resource_version) + 1)
        with pytest.raises(ApiError) as caught:
            await h.client.list(Pod, limit=2, continue_=first.continue_)
        assert (caught.value.code, caught.value.reason) == (410, "Expired")


async def test_watch_with_selectors_sees_objects_enter_and_leave(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(make_pod("a", labels={"app": "web"}))  # type: ignore[arg-type]
        await h.client.create(make_pod("b", labels={"app": "db"}))  # type: ignore[arg-type]
        watch = await h.client.watch(Pod, label_selector="app=web")
        events: list[tuple[str, str]] = []

        async def take(count: int) -> None:
            with anyio.fail_after(5):
                async for batch in watch:
                    events.extend((e.type, e.object.metadata.name) for e in batch)
                    if len(events) >= count:
                        return

        await take(1)
        b = await h.client.get(Pod, "b")
        b = await h.client.update(_meta(b, labels={"app": "web"}))
        await h.client.update(_meta(b, labels={"app": "gone"}))
        await h.client.delete(Pod, "a")
        await take(4)
        assert events == [("ADDED", "a"), ("ADDED", "b"), ("DELETED", "b"), ("DELETED", "a")]
        watch.close()


async def test_bookmarks_mark_quiet_progress(tmp_path: Path) -> None:
    options = StoreOptions(synchronous="OFF", progress_interval=0.05)
    async with running_api(tmp_path, store_options=options) as h:
        created = await h.client.create(make_pod("a"))
        watch = await h.client.watch(
            Pod, resource_version=created.metadata.resource_version, allow_bookmarks=True
        )
        with anyio.fail_after(5):
            batch = await watch.__anext__()
        assert batch[0].type == "BOOKMARK"
        assert int(batch[0].object.metadata.resource_version) >= int(
            created.metadata.resource_version
        )
        watch.close()


async def test_patches_of_each_type(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        await h.client.create(make_pod("web"))
        merged = await h.client.patch(
            Pod, "web", {"metadata": {"labels": {"a": "1"}}}, patch_type="merge"
        )
        assert merged.metadata.labels == {"a": "1"}
        strategic = await h.client.patch(
            Pod,
            "web",
            {"spec": {"containers": [{"name": "app", "image": "nginx"}, {"name": "side"}]}},
        )
        assert [(c.name, c.image) for c in strategic.spec.containers] == [
            ("app", "nginx"),
            ("side", ""),
        ]
        assert strategic.spec.containers[0].resources.requests == {"cpu": "100m", "memory": "64Mi"}
        jsonpatch = await h.client.patch(
            Pod,
            "web",
            [
                {"op": "remove", "path": "/spec/containers/1"},
                {"op": "add", "path": "/metadata/labels/b", "value": "2"},
            ],
            patch_type="json",
        )
        assert [c.name for c in jsonpatch.spec.containers] == ["app"]
        assert jsonpatch.metadata.labels == {"a": "1", "b": "2"}
        with pytest.raises(ApiError) as unknown:
            await h.client.patch(Pod, "web", {"spec": {"colour": "red"}}, patch_type="merge")
        assert 'unknown field "spec.colour"' in unknown.value.status.message
        with pytest.raises(ApiError) as invalid:
            await h.client.patch(
                Pod,
                "web",
                {
                    "spec": {
                        "containers": [{"name": "app", "resources": {"requests": {"cpu": "x"}}}]
                    }
                },
            )
        assert invalid.value.code == 422
        with pytest.raises(ApiError) as stale:
            await h.client.patch(
                Pod,
                "web",
                {"metadata": {"resourceVersion": "1", "labels": {"c": "3"}}},
                patch_type="merge",
            )
        assert stale.value.code == 409
        with pytest.raises(ApiError) as missing:
            await h.client.patch(Pod, "nope", {}, patch_type="merge")
        assert missing.value.code == 404


async def test_unconditional_update_needs_a_version_and_uid_must_match(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        node = await h.client.create(Node(metadata=ObjectMeta(name="n1")))
        with pytest.raises(ApiError, match="Precondition failed"):
            await h.client.update(_meta(node, uid="other"))  # type: ignore[arg-type]
        assert FIXED_TIME.year == 2026


async def test_validation_of_services_workloads_and_bindings_names_the_field(
    tmp_path: Path,
) -> None:
    async with running_api(tmp_path) as h:
        with pytest.raises(ApiError) as port:
            await h.client.create(
                Service(
                    metadata=ObjectMeta(name="s"), spec=ServiceSpec(ports=[ServicePort(port=70000)])
                )
            )
        assert "spec.ports[0].port: Invalid value: 70000" in port.value.status.message
        bad = _deployment("d", {"app": "d"})
        bad = replace(bad, spec=replace(bad.spec, template=_template({"app": "other"})))
        with pytest.raises(ApiError) as selector:
            await h.client.create(bad)
        assert "`selector` does not match template `labels`" in selector.value.status.message
        bad_rs = _replica_set("r")
        with pytest.raises(ApiError) as replicas:
            await h.client.create(replace(bad_rs, spec=replace(bad_rs.spec, replicas=-2)))
        assert "spec.replicas: Invalid value: -2" in replicas.value.status.message
        with pytest.raises(ApiError) as binding:
            await h.client.create(RoleBinding(metadata=ObjectMeta(name="b")))
        assert "roleRef.name: Required value" in binding.value.status.message
