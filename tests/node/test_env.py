"""Container environments as upstream's kubelet builds them: sources, order, expansion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    ConfigMap,
    Container,
    EnvFromSource,
    EnvSourceRef,
    EnvVar,
    EnvVarSource,
    KeySelector,
    ObjectFieldSelector,
    ObjectMeta,
    Pod,
    PodSpec,
    ResourceFieldSelector,
    ResourceRequirements,
    Resources,
    Secret,
    Service,
    ServicePort,
    ServiceSpec,
)
from kubeactors.node import EnvError, EnvSources, container_env, expand, service_variables


def _pod(container: Container) -> Pod:
    return Pod(
        metadata=ObjectMeta(
            name="web-0",
            namespace="shop",
            uid="u-1",
            labels={"app": "web"},
            annotations={"team": "a"},
        ),
        spec=PodSpec(containers=[container], node_name="node-3", service_account_name="builder"),
    )


def _from(**source: object) -> EnvVarSource:
    return EnvVarSource(**source)  # type: ignore[arg-type]


def test_service_variables_are_upstreams() -> None:
    # The example of the Kubernetes documentation ("Discovering services").
    redis = Service(
        metadata=ObjectMeta(name="redis-master", namespace="shop"),
        spec=ServiceSpec(cluster_ip="10.0.0.11", ports=[ServicePort(port=6379)]),
    )
    assert service_variables([redis]) == {
        "REDIS_MASTER_SERVICE_HOST": "10.0.0.11",
        "REDIS_MASTER_SERVICE_PORT": "6379",
        "REDIS_MASTER_PORT": "tcp://10.0.0.11:6379",
        "REDIS_MASTER_PORT_6379_TCP": "tcp://10.0.0.11:6379",
        "REDIS_MASTER_PORT_6379_TCP_PROTO": "tcp",
        "REDIS_MASTER_PORT_6379_TCP_PORT": "6379",
        "REDIS_MASTER_PORT_6379_TCP_ADDR": "10.0.0.11",
    }
    dns = Service(
        metadata=ObjectMeta(name="dns", namespace="shop"),
        spec=ServiceSpec(
            cluster_ip="10.0.0.10",
            ports=[
                ServicePort(port=53, name="dns", protocol="UDP"),
                ServicePort(port=9153, name="metrics"),
            ],
        ),
    )
    variables = service_variables([dns])
    assert variables["DNS_SERVICE_PORT"] == "53"
    assert variables["DNS_SERVICE_PORT_DNS"] == "53"
    assert variables["DNS_SERVICE_PORT_METRICS"] == "9153"
    assert variables["DNS_PORT"] == "udp://10.0.0.10:53"
    assert variables["DNS_PORT_53_UDP_PROTO"] == "udp"
    assert variables["DNS_PORT_9153_TCP"] == "tcp://10.0.0.10:9153"
    headless = Service(
        metadata=ObjectMeta(name="db", namespace="shop"),
        spec=ServiceSpec(cluster_ip="None", ports=[ServicePort(port=5432)]),
    )
    assert service_variables([headless]) == {}


def test_field_and_resource_references() -> None:
    def field(name: str, path: str) -> EnvVar:
        return EnvVar(name=name, value_from=_from(field_ref=ObjectFieldSelector(field_path=path)))

    def resource(name: str, what: str, divisor: str = "") -> EnvVar:
        selector = ResourceFieldSelector(resource=what, divisor=divisor)
        return EnvVar(name=name, value_from=_from(resource_field_ref=selector))

    container = Container(
        name="app",
        env=[
            field("NAME", "metadata.name"),
            field("NS", "metadata.namespace"),
            field("UID", "metadata.uid"),
            field("APP", "metadata.labels['app']"),
            field("TEAM", "metadata.annotations['team']"),
            field("NODE", "spec.nodeName"),
            field("SA", "spec.serviceAccountName"),
            field("IP", "status.podIP"),
            field("HOST", "status.hostIP"),
            resource("CPU_REQUEST", "requests.cpu", "1m"),
            resource("CPU_CORES", "requests.cpu"),
            resource("MEMORY_MI", "limits.memory", "1Mi"),
            resource("CPU_LIMIT", "limits.cpu"),
        ],
        resources=ResourceRequirements(
            requests={"cpu": "250m", "memory": "64Mi"}, limits={"memory": "128Mi"}
        ),
    )
    sources = EnvSources(
        pod_ip="10.244.3.7", host_ip="10.0.0.3", allocatable=Resources(4000, 8 << 30, 110)
    )
    assert container_env(_pod(container), container, sources) == {
        "NAME": "web-0",
        "NS": "shop",
        "UID": "u-1",
        "APP": "web",
        "TEAM": "a",
        "NODE": "node-3",
        "SA": "builder",
        "IP": "10.244.3.7",
        "HOST": "10.0.0.3",
        "CPU_REQUEST": "250",
        "CPU_CORES": "1",  # rounded up, as upstream
        "MEMORY_MI": "128",
        "CPU_LIMIT": "4",  # no limit: the node's allocatable
    }
    bad = Container(name="app", env=[field("X", "spec.hostname")])
    with pytest.raises(EnvError, match=r"spec\.hostname"):
        container_env(_pod(bad), bad, sources)


def test_config_maps_secrets_and_their_order() -> None:
    config = ConfigMap(
        metadata=ObjectMeta(name="config", namespace="shop"),
        data={"MODE": "fast", "LEVEL": "3", "bad=name": "x"},
    )
    secret = Secret(metadata=ObjectMeta(name="creds", namespace="shop"), data={"token": b"s3cr3t"})
    container = Container(
        name="app",
        env_from=[
            EnvFromSource(config_map_ref=EnvSourceRef(name="config")),
            EnvFromSource(prefix="S_", secret_ref=EnvSourceRef(name="creds")),
            EnvFromSource(config_map_ref=EnvSourceRef(name="absent", optional=True)),
        ],
        env=[
            EnvVar(name="LEVEL", value="override-$(MODE)"),
            EnvVar(
                name="TOKEN",
                value_from=_from(secret_key_ref=KeySelector(name="creds", key="token")),
            ),
            EnvVar(
                name="MAYBE",
                value_from=_from(
                    config_map_key_ref=KeySelector(name="config", key="nope", optional=True)
                ),
            ),
            EnvVar(name="WEB_SERVICE_HOST", value="mine"),
            EnvVar(name="LINK", value="$(WEB_SERVICE_PORT)/$(UNKNOWN)/$$(MODE)"),
        ],
    )
    sources = EnvSources(
        services={"WEB_SERVICE_HOST": "10.96.0.5", "WEB_SERVICE_PORT": "80"},
        config_maps={"config": config, "absent": None},
        secrets={"creds": secret},
    )
    env = container_env(_pod(container), container, sources)
    assert env == {
        "MODE": "fast",
        "LEVEL": "override-fast",  # env wins over envFrom
        "S_token": "s3cr3t",
        "TOKEN": "s3cr3t",
        "WEB_SERVICE_HOST": "mine",  # the container's own wins over a Service's
        "LINK": "80/$(UNKNOWN)/$(MODE)",
        "WEB_SERVICE_PORT": "80",
    }
    assert list(env)[:3] == ["MODE", "LEVEL", "S_token"]  # bad=name was skipped


@pytest.mark.parametrize(
    ("variable", "message"),
    [
        (
            EnvVar(
                name="A", value_from=_from(config_map_key_ref=KeySelector(name="gone", key="k"))
            ),
            'configmap "gone" not found',
        ),
        (
            EnvVar(
                name="A", value_from=_from(config_map_key_ref=KeySelector(name="config", key="k"))
            ),
            "couldn't find key k in ConfigMap shop/config",
        ),
        (
            EnvVar(name="A", value_from=_from(secret_key_ref=KeySelector(name="gone", key="k"))),
            'secret "gone" not found',
        ),
        (
            EnvVar(name="A", value_from=_from(secret_key_ref=KeySelector(name="creds", key="k"))),
            "couldn't find key k in Secret shop/creds",
        ),
    ],
)
def test_missing_references_name_what_is_missing(variable: EnvVar, message: str) -> None:
    sources = EnvSources(
        config_maps={"gone": None, "config": ConfigMap(metadata=ObjectMeta(name="config"))},
        secrets={"gone": None, "creds": Secret(metadata=ObjectMeta(name="creds"))},
    )
    container = Container(name="app", env=[variable])
    with pytest.raises(EnvError) as raised:
        container_env(_pod(container), container, sources)
    assert str(raised.value) == message
    optional = Container(
        name="app",
        env_from=[EnvFromSource(config_map_ref=EnvSourceRef(name="gone"))],
    )
    with pytest.raises(EnvError, match='configmap "gone" not found'):
        container_env(_pod(optional), optional, sources)


_TEXT = st.text(alphabet="ab$()", max_size=12)
_NAMES = st.dictionaries(st.sampled_from(["a", "b", "ab", ""]), st.text("x$()", max_size=3))
_PIECES = st.lists(
    st.one_of(
        st.text(alphabet="ab()", max_size=3).map(lambda text: ("text", text)),
        st.sampled_from(["a", "b", "ab", "c", ""]).map(lambda name: ("ref", name)),
        st.just(("escape", "")),
    ),
    max_size=6,
)


@given(_TEXT)
def test_expanding_with_nothing_known_only_unescapes(text: str) -> None:
    # Unknown references stay as written: with no mapping, only `$$` changes.
    assert expand(text) == expand(text, {})
    assert expand(text.replace("$", "$$")) == text


@given(_PIECES, _NAMES)
def test_expansion_replaces_exactly_the_known_references(
    pieces: list[tuple[str, str]], names: dict[str, str]
) -> None:
    written, wanted = [], []
    for kind, value in pieces:
        if kind == "text":
            written.append(value)
            wanted.append(value)
        elif kind == "ref":
            written.append(f"$({value})")
            wanted.append(names.get(value, f"$({value})"))
        else:
            written.append("$$")
            wanted.append("$")
    # Values are inserted as they are: never expanded a second time.
    assert expand("".join(written), names) == "".join(wanted)
