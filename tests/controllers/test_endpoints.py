from pathlib import Path

import msgspec

from kubeactors.api import (
    ContainerPort,
    Endpoints,
    EndpointSlice,
    ObjectMeta,
    Pod,
    Service,
    ServicePort,
    ServiceSpec,
)
from kubeactors.controllers import EndpointsController, EndpointSliceController

from ..api.harness import make_pod, running_api
from .faults import wait_for
from .objects import LABELS, running


def with_ip(pod: Pod, ip: str, *, ready: bool = True) -> Pod:
    pod = running(pod, ready=ready)
    containers = [
        msgspec.structs.replace(c, ports=[ContainerPort(container_port=8080, name="http")])
        for c in pod.spec.containers
    ]
    return msgspec.structs.replace(
        pod,
        spec=msgspec.structs.replace(pod.spec, containers=containers),
        status=msgspec.structs.replace(pod.status, pod_ip=ip),
    )


async def test_endpoints_and_slices_follow_the_selected_pods(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        client = h.client
        a = h.system.spawn(lambda: EndpointsController(client), name="endpoints")
        b = h.system.spawn(lambda: EndpointSliceController(client), name="slices")
        await client.create(
            Service(
                metadata=ObjectMeta(name="web", namespace="default"),
                spec=ServiceSpec(
                    selector=dict(LABELS),
                    ports=[ServicePort(port=80, name="web", target_port="http")],
                ),
            )
        )
        ready = await client.create(make_pod("ready", labels=LABELS))  # type: ignore[arg-type]
        await client.update(with_ip(ready, "10.0.0.1"))
        starting = await client.create(make_pod("starting", labels=LABELS))  # type: ignore[arg-type]
        await client.update(with_ip(await client.create(make_pod("other")), "10.0.0.9"))
        starting = await client.update(with_ip(starting, "10.0.0.2", ready=False))
        (endpoints,) = await wait_for(
            client,
            Endpoints,
            lambda items: (
                bool(items)
                and bool(items[0].subsets)
                and len(items[0].subsets[0].not_ready_addresses) == 1
            ),
        )
        (subset,) = endpoints.subsets
        assert [a.ip for a in subset.addresses] == ["10.0.0.1"]
        assert [a.ip for a in subset.not_ready_addresses] == ["10.0.0.2"]
        assert [(p.name, p.port) for p in subset.ports] == [("web", 8080)]
        (slice_,) = await wait_for(
            client, EndpointSlice, lambda items: bool(items) and len(items[0].endpoints) == 2
        )
        assert {(e.addresses[0], e.conditions.ready) for e in slice_.endpoints} == {
            ("10.0.0.1", True),
            ("10.0.0.2", False),
        }
        await client.delete(Pod, "ready", "default")
        await wait_for(
            client,
            Endpoints,
            lambda items: not items[0].subsets[0].addresses,
        )
        await a.stop()
        await b.stop()
