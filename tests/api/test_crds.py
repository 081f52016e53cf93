"""CustomResourceDefinitions through the API server: registration, the custom
objects' schema rules, subresources, deletion and restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest

from kubeactors.api import (
    KINDS,
    ApiError,
    CustomResourceDefinition,
    CustomResourceKind,
    KindRegistry,
    Namespace,
    ObjectMeta,
    Scale,
    ScaleSpec,
    UnknownKindError,
)
from kubeactors.client import Client

from .crds import widget_crd
from .harness import Harness, running_api, wait_for

CRDS = CustomResourceDefinition
replace = msgspec.structs.replace


_registry = KindRegistry(KINDS)


def _server_kinds() -> KindRegistry:
    return _registry


@asynccontextmanager
async def serving(path: Path) -> AsyncIterator[Harness]:
    """An API server whose kind registry the test can read (`_server_kinds()`)."""
    global _registry
    _registry = KindRegistry(KINDS)
    async with running_api(path, kinds=_registry) as api:
        yield api


async def _widgets(client: Client) -> tuple[type[Any], CustomResourceKind]:
    await client.create(widget_crd())
    kind = _server_kinds().of_resource("example.com", "widgets")
    assert isinstance(kind, CustomResourceKind)
    return kind.type, kind


def _widget(widget: type[Any], name: str, **spec: Any) -> Any:
    return widget(metadata=ObjectMeta(name=name, namespace="default"), spec=spec)


async def test_a_created_crd_is_established_and_its_kind_served(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        created = await api.client.create(widget_crd())
        conditions = {c.type: (c.status, c.reason) for c in created.status.conditions}
        assert conditions == {
            "NamesAccepted": ("True", "NoConflicts"),
            "Established": ("True", "InitialNamesAccepted"),
        }
        assert created.status.accepted_names.list_kind == "WidgetList"
        assert created.status.stored_versions == ["v1"]
        kind = _server_kinds().of_name("wd")
        assert (kind.group, kind.version, kind.kind, kind.namespaced) == (
            "example.com",
            "v1",
            "Widget",
            True,
        )
        assert kind.registry == b"/registry/example.com/widgets/"
        assert kind.subresources == ("status", "scale")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda c: replace(c, metadata=ObjectMeta(name="things.example.com")),
            "metadata.name",
            'must be spec.names.plural+"."+spec.group',
        ),
        (
            lambda c: replace(c, spec=replace(c.spec, group="example")),
            "spec.group",
            "should be a domain with at least one dot",
        ),
        (
            lambda c: replace(c, spec=replace(c.spec, scope="Global")),
            "spec.scope",
            'Unsupported value: "Global"',
        ),
        (
            lambda c: replace(
                c, spec=replace(c.spec, versions=[replace(c.spec.versions[0], storage=False)])
            ),
            "spec.versions",
            "must have exactly one version marked as storage version",
        ),
        (
            lambda c: replace(
                c,
                spec=replace(
                    c.spec,
                    versions=[
                        replace(
                            c.spec.versions[0],
                            schema=msgspec.convert(
                                {"openAPIV3Schema": {"type": "object", "properties": {"spec": {}}}},
                                type(c.spec.versions[0].schema),
                            ),
                        )
                    ],
                ),
            ),
            "spec.versions[0].schema.openAPIV3Schema.properties[spec].type",
            "must not be empty for specified object fields",
        ),
    ],
)
async def test_an_invalid_crd_is_refused_naming_the_field(
    tmp_path: Path, change: Any, field: str, message: str
) -> None:
    async with serving(tmp_path) as api:
        with pytest.raises(ApiError) as caught:
            await api.client.create(change(widget_crd()))
        assert caught.value.code == 422
        causes = {cause.field: cause.message for cause in caught.value.status.details.causes}
        assert field in causes, causes
        assert message in causes[field]
        with pytest.raises(UnknownKindError):
            _server_kinds().of_resource("example.com", "widgets")


async def test_custom_objects_are_pruned_defaulted_and_validated(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        widget, _ = await _widgets(api.client)
        created = await api.client.create(
            widget(
                metadata=ObjectMeta(name="a", namespace="default"),
                spec={"size": 3, "junk": 1, "extra": {"anything": [1, 2]}},
                status={"phase": "made up"},
            )
        )
        # Unknown fields pruned (unless preserved), defaults filled in, and no
        # status on create when status is a subresource.
        assert created.spec == {"size": 3, "extra": {"anything": [1, 2]}, "color": "red"}
        assert created.status is msgspec.UNSET
        assert created.metadata.generation == 1
        stored = await api.client.get(widget, "a", "default")
        assert stored.spec == created.spec

        with pytest.raises(ApiError) as caught:
            await api.client.create(_widget(widget, "b", size=11, color="pink", label="Abc"))
        error = caught.value
        assert error.code == 422
        assert error.status.details.kind == "Widget"
        assert error.status.details.group == "example.com"
        assert error.status.message == (
            'Widget.example.com "b" is invalid: '
            "spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10; "
            'spec.color: Unsupported value: "pink": supported values: "red", "blue"; '
            "spec.label: Invalid value: \"Abc\": spec.label in body should match '^[a-z]+$'"
        )
        with pytest.raises(ApiError) as caught:
            await api.client.create(_widget(widget, "c", size="big"))
        assert caught.value.status.details.causes[0].message == (
            'Invalid value: "big": spec.size in body must be of type integer: "big"'
        )
        with pytest.raises(ApiError) as caught:
            await api.client.create(_widget(widget, "d", color="red"))
        [cause] = caught.value.status.details.causes
        assert (cause.field, cause.reason, cause.message) == (
            "spec.size",
            "FieldValueRequired",
            "Required value",
        )


async def test_status_and_generation_follow_upstream_rules(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        widget, _ = await _widgets(api.client)
        client = api.client
        await client.create(_widget(widget, "a", size=3))
        patched = await client.patch(
            widget,
            "a",
            {"status": {"phase": "Ready"}},
            patch_type="merge",
            namespace="default",
            subresource="status",
        )
        assert patched.status == {"phase": "Ready"}
        assert patched.metadata.generation == 1
        # A main-resource write changes no status; a spec change moves generation.
        updated = await client.update(
            replace(patched, spec={"size": 4}, status={"phase": "Broken"})
        )
        assert updated.status == {"phase": "Ready"}
        assert updated.spec == {"size": 4, "color": "red"}
        assert updated.metadata.generation == 2
        labelled = await client.patch(
            widget,
            "a",
            {"metadata": {"labels": {"x": "y"}}},
            patch_type="merge",
            namespace="default",
        )
        assert labelled.metadata.generation == 2
        with pytest.raises(ApiError) as caught:
            await client.patch(widget, "a", {"spec": {"size": 5}}, namespace="default")
        assert caught.value.code == 415
        with pytest.raises(ApiError) as caught:
            await client.patch(
                widget,
                "a",
                [{"op": "replace", "path": "/spec/size", "value": 0}],
                patch_type="json",
                namespace="default",
            )
        assert caught.value.code == 422
        assert caught.value.status.details.causes[0].field == "spec.size"


async def test_the_scale_subresource_reads_and_writes_the_crd_paths(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        widget, _ = await _widgets(api.client)
        client = api.client
        await client.create(_widget(widget, "a", size=3, replicas=2))
        await client.patch(
            widget,
            "a",
            {"status": {"replicas": 1, "selector": "app=a"}},
            patch_type="merge",
            namespace="default",
            subresource="status",
        )
        scale = await client.get_scale(widget, "a", "default")
        assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (
            2,
            1,
            "app=a",
        )
        meta = ObjectMeta(name="a", namespace="default")
        scaled = await client.update_scale(widget, Scale(metadata=meta, spec=ScaleSpec(replicas=5)))
        assert scaled.spec.replicas == 5
        stored = await client.get(widget, "a", "default")
        assert stored.spec["replicas"] == 5
        assert stored.metadata.generation == 2
        with pytest.raises(ApiError) as caught:
            await client.update_scale(widget, Scale(metadata=meta, spec=ScaleSpec(replicas=-1)))
        assert caught.value.code == 422


async def test_deleting_a_crd_deletes_its_objects_then_stops_serving(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        widget, kind = await _widgets(api.client)
        client = api.client
        await client.create(_widget(widget, "a", size=1))
        held = _widget(widget, "b", size=2)
        held = replace(held, metadata=replace(held.metadata, finalizers=["example.com/hold"]))
        await client.create(held)
        watch = await client.watch(widget, "default")
        seen: list[tuple[str, str]] = []
        watched = anyio.Event()

        async def follow() -> None:
            async for batch in watch:
                seen.extend((event.type, event.object.metadata.name) for event in batch)
            watched.set()

        async with anyio.create_task_group() as group:
            group.start_soon(follow)
            await _delete_widgets(client, widget, kind, api, watched, seen)


async def _delete_widgets(
    client: Client,
    widget: type[Any],
    kind: CustomResourceKind,
    api: Harness,
    watched: anyio.Event,
    seen: list[tuple[str, str]],
) -> None:
    marked = await client.delete(CRDS, "widgets.example.com")
    assert marked.metadata.deletion_timestamp is not None
    assert any(c.type == "Terminating" for c in marked.status.conditions)

    # The object with a finalizer holds the CRD (and its kind) until it lets go.
    [left] = await wait_for(
        client,
        widget,
        lambda items: (
            [(w.metadata.name, bool(w.metadata.deletion_timestamp)) for w in items] == [("b", True)]
        ),
    )
    with pytest.raises(ApiError) as caught:
        await client.create(_widget(widget, "c", size=1))
    assert caught.value.code == 405
    assert (await client.get(CRDS, "widgets.example.com")).metadata.finalizers

    await client.update(replace(left, metadata=replace(left.metadata, finalizers=[])))
    await wait_for(client, CRDS, lambda crds: not crds)
    with pytest.raises(UnknownKindError):
        _server_kinds().of_type(widget)
    assert (await api.store.range_prefix(kind.registry)).kvs == []
    # Watches on the kind end with it, having seen every object go.
    with anyio.fail_after(10):
        await watched.wait()
    assert [change for change in seen if change[0] == "DELETED"] == [
        ("DELETED", "a"),
        ("DELETED", "b"),
    ]


async def test_a_name_conflict_leaves_the_second_crd_unestablished(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        await _widgets(api.client)
        rival = widget_crd()
        rival = replace(
            rival,
            metadata=ObjectMeta(name="gadgets.example.com"),
            spec=replace(
                rival.spec,
                names=replace(
                    rival.spec.names, plural="gadgets", singular="gadget", short_names=[]
                ),
            ),
        )
        created = await api.client.create(rival)
        conditions = {c.type: c.status for c in created.status.conditions}
        assert conditions == {"NamesAccepted": "False", "Established": "False"}
        assert '"Widget" is already in use' in created.status.conditions[0].message
        with pytest.raises(UnknownKindError):
            _server_kinds().of_resource("example.com", "gadgets")


async def test_every_served_version_reads_the_same_objects(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        crd = widget_crd()
        v1 = crd.spec.versions[0]
        beta = replace(v1, name="v1beta1", storage=False, additional_printer_columns=[])
        await api.client.create(replace(crd, spec=replace(crd.spec, versions=[v1, beta])))
        kinds = _server_kinds()
        stable = kinds.of_resource("example.com", "widgets", "v1").type
        older = kinds.of_resource("example.com", "widgets", "v1beta1").type
        assert kinds.of_resource("example.com", "widgets").version == "v1"
        await api.client.create(_widget(older, "a", size=2))
        read = await api.client.get(stable, "a", "default")
        assert (read.api_version, read.spec["size"]) == ("example.com/v1", 2)
        again = await api.client.get(older, "a", "default")
        assert again.api_version == "example.com/v1beta1"


async def test_registered_kinds_survive_a_restart(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        widget, _ = await _widgets(api.client)
        await api.client.create(_widget(widget, "a", size=7))
    async with serving(tmp_path) as api:
        # The server reloads the CRDs as it starts, before it answers any request.
        assert [crd.metadata.name for crd in (await api.client.list(CRDS)).items] == [
            "widgets.example.com"
        ]
        kind = _server_kinds().of_resource("example.com", "widgets")
        assert kind.type is not widget
        stored = await api.client.get(kind.type, "a", "default")
        assert stored.spec == {"size": 7, "color": "red"}


async def test_cluster_scoped_kinds_and_namespace_deletion(tmp_path: Path) -> None:
    async with serving(tmp_path) as api:
        widget, _ = await _widgets(api.client)
        crd = widget_crd()
        names = replace(crd.spec.names, plural="gizmos", singular="gizmo", kind="Gizmo")
        await api.client.create(
            replace(
                crd,
                metadata=ObjectMeta(name="gizmos.example.com"),
                spec=replace(crd.spec, names=replace(names, short_names=[]), scope="Cluster"),
            )
        )
        gizmo = _server_kinds().of_resource("example.com", "gizmos")
        assert not gizmo.namespaced
        made = await api.client.create(
            gizmo.type(metadata=ObjectMeta(name="g", namespace="ignored"), spec={"size": 1})
        )
        assert made.metadata.namespace == ""
        assert await api.store.get(b"/registry/example.com/gizmos/g") is not None

        # Deleting a namespace deletes the custom objects in it too.
        await api.client.create(Namespace(metadata=ObjectMeta(name="team")))
        await api.client.create(
            widget(metadata=ObjectMeta(name="w", namespace="team"), spec={"size": 1})
        )
        await api.client.delete(Namespace, "team")
        await wait_for(api.client, Namespace, lambda spaces: "team" not in _names(spaces))
        assert (await api.client.list(widget, "team")).items == []
        assert [g.metadata.name for g in (await api.client.list(gizmo.type)).items] == ["g"]


def _names(objects: list[Any]) -> set[str]:
    return {obj.metadata.name for obj in objects}
