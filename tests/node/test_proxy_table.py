import pytest

from kubeactors.api import (
    ClientIPConfig,
    Endpoint,
    EndpointConditions,
    EndpointSlice,
    EndpointSlicePort,
    ObjectMeta,
    Service,
    ServicePort,
    ServiceSpec,
    SessionAffinityConfig,
)
from kubeactors.node.proxy import SERVICE_NAME_LABEL, Backend, NoEndpointsError, ServiceTable


class _Clock:
    def __init__(self) -> None:
        self.time = 0.0

    def now(self) -> float:
        return self.time


def _service(affinity: bool = False, node_port: int = 0) -> Service:
    config = SessionAffinityConfig(client_ip=ClientIPConfig(timeout_seconds=60))
    return Service(
        metadata=ObjectMeta(name="web", namespace="default"),
        spec=ServiceSpec(
            cluster_ip="10.96.0.10",
            ports=[ServicePort(name="http", port=80, target_port=8080, node_port=node_port)],
            session_affinity="ClientIP" if affinity else "",
            session_affinity_config=config if affinity else None,
        ),
    )


def _slice(name: str, ready: dict[str, bool]) -> EndpointSlice:
    return EndpointSlice(
        metadata=ObjectMeta(name=name, namespace="default", labels={SERVICE_NAME_LABEL: "web"}),
        endpoints=[
            Endpoint(addresses=[ip], conditions=EndpointConditions(ready=is_ready))
            for ip, is_ready in ready.items()
        ],
        ports=[EndpointSlicePort(name="http", port=8080)],
    )


def test_round_robin_over_ready_endpoints_of_every_slice() -> None:
    table = ServiceTable(_Clock().now)
    table.set_slice(_slice("a", {"10.0.0.2": True, "10.0.0.3": False}))
    table.set_service(_service())
    table.set_slice(_slice("b", {"10.0.1.2": True}))
    picks = {table.resolve("web", "http").ip for _ in range(4)}
    assert picks == {"10.0.0.2", "10.0.1.2"}
    assert table.resolve("default/web", 80) in (
        Backend("10.0.0.2", 8080),
        Backend("10.0.1.2", 8080),
    )
    assert table.by_address("10.96.0.10", 80).service == "default/web"
    table.remove_slice(_slice("b", {}))
    assert {table.resolve("web", 80).ip for _ in range(3)} == {"10.0.0.2"}
    table.remove_service(_service())
    with pytest.raises(NoEndpointsError, match="no service default/web"):
        table.resolve("web", 80)


def test_no_ready_endpoint_is_an_error_naming_the_service() -> None:
    table = ServiceTable(_Clock().now)
    table.set_service(_service())
    table.set_slice(_slice("a", {"10.0.0.2": False}))
    with pytest.raises(NoEndpointsError, match="default/web port http: no ready endpoints"):
        table.resolve("web", "http")


def test_client_ip_affinity_sticks_until_it_times_out_or_the_backend_goes() -> None:
    clock = _Clock()
    table = ServiceTable(clock.now)
    table.set_service(_service(affinity=True, node_port=30080))
    table.set_slice(_slice("a", {"10.0.0.2": True, "10.0.0.3": True}))
    first = table.resolve("web", 80, client_ip="192.168.0.9")
    assert all(table.resolve("web", 80, client_ip="192.168.0.9") == first for _ in range(5))
    other = table.resolve("web", 80, client_ip="192.168.0.10")
    assert table.by_node_port(30080).service == "default/web"
    # The backend it stuck to goes away: the client moves to one still there.
    left = {"10.0.0.2": True, "10.0.0.3": True, first.ip: False}
    table.set_slice(_slice("a", left))
    moved = table.resolve("web", 80, client_ip="192.168.0.9")
    assert moved != first
    assert other.ip in {"10.0.0.2", "10.0.0.3"}
