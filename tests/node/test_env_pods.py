"""Container environments on running nodes: what reaches the runtime and the process."""

from __future__ import annotations

import sys
from pathlib import Path

import msgspec

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
    ResourceFieldSelector,
    ResourceRequirements,
    Secret,
    Service,
    ServicePort,
    ServiceSpec,
)
from kubeactors.node import ReadLogs
from kubeactors.node.runtime import ContainerConfig, SimulatedRuntime

from ..api.harness import FIXED_TIME, running_api
from ._nodes import FAST, Nodes, bound_pod, wait_for_pod


class RecordingRuntime(SimulatedRuntime):
    """A simulated runtime that keeps what each container was created with."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.configs: list[ContainerConfig] = []

    async def create_container(self, sandbox_id: str, config: ContainerConfig) -> str:
        self.configs.append(config)
        return await super().create_container(sandbox_id, config)


def _waiting(pod: Pod) -> tuple[str, str] | None:
    statuses = pod.status.container_statuses
    if not statuses or statuses[0].state.waiting is None:
        return None
    return statuses[0].state.waiting.reason, statuses[0].state.waiting.message


def _key_ref(name: str, config_map: str, key: str) -> EnvVar:
    return EnvVar(
        name=name,
        value_from=EnvVarSource(config_map_key_ref=KeySelector(name=config_map, key=key)),
    )


async def test_a_missing_config_map_holds_the_container_until_it_exists(tmp_path: Path) -> None:
    async with running_api(tmp_path) as h:
        nodes = Nodes(h)
        runtime = RecordingRuntime(
            node="node-0", clock=h.system.clock, wall_clock=lambda: FIXED_TIME
        )
        nodes.runtimes["node-0"] = runtime
        await h.client.create(
            Service(
                metadata=ObjectMeta(name="cache-db", namespace="default"),
                spec=ServiceSpec(cluster_ip="10.96.0.7", ports=[ServicePort(port=6379)]),
            )
        )
        nodes.start(0)
        container = Container(
            name="app",
            image="busybox",
            args=["--mode=$(MODE)", "--db=$(CACHE_DB_SERVICE_HOST)"],
            env=[_key_ref("MODE", "settings", "mode")],
        )
        await h.client.create(bound_pod("web", containers=[container]))
        waiting = await wait_for_pod(h, "web", lambda p: _waiting(p) is not None)
        assert _waiting(waiting) == ("CreateContainerConfigError", 'configmap "settings" not found')
        assert waiting.status.phase == "Pending"
        assert runtime.configs == []

        await h.client.create(
            ConfigMap(metadata=ObjectMeta(name="settings", namespace="default"), data={})
        )
        missing_key = await wait_for_pod(
            h, "web", lambda p: (_waiting(p) or ("", ""))[1].startswith("couldn't")
        )
        assert _waiting(missing_key) == (
            "CreateContainerConfigError",
            "couldn't find key mode in ConfigMap default/settings",
        )
        settings = await h.client.get(ConfigMap, "settings", "default")
        await h.client.update(msgspec.structs.replace(settings, data={"mode": "fast"}))
        await wait_for_pod(h, "web", lambda p: p.status.phase == "Running")
        [config] = runtime.configs
        assert config.args == ["--mode=fast", "--db=10.96.0.7"]
        assert config.env["MODE"] == "fast"
        assert config.env["CACHE_DB_PORT_6379_TCP_ADDR"] == "10.96.0.7"

        # enableServiceLinks: false leaves the namespace's Services out.
        quiet = bound_pod(
            "quiet", containers=[Container(name="app", image="busybox")], enable_service_links=False
        )
        await h.client.create(quiet)
        await wait_for_pod(h, "quiet", lambda p: p.status.phase == "Running")
        assert "CACHE_DB_SERVICE_HOST" not in runtime.configs[-1].env


PRINT_ENV = """
import os
for name in os.environ["SHOW"].split(","):
    print(name + "=" + os.environ.get(name, "-"))
"""


async def test_a_process_gets_its_environment(tmp_path: Path) -> None:
    settings = msgspec.structs.replace(FAST, runtime="process", root_dir=str(tmp_path / "nodes"))
    async with running_api(tmp_path) as h:
        nodes = Nodes(h, settings)
        await h.client.create(
            Service(
                metadata=ObjectMeta(name="api", namespace="default"),
                spec=ServiceSpec(
                    cluster_ip="10.96.0.9", ports=[ServicePort(port=443, name="https")]
                ),
            )
        )
        await h.client.create(
            ConfigMap(
                metadata=ObjectMeta(name="settings", namespace="default"),
                data={"MODE": "fast", "LEVEL": "3"},
            )
        )
        await h.client.create(
            Secret(
                metadata=ObjectMeta(name="creds", namespace="default"),
                string_data={"token": "s3cr3t"},
            )
        )
        nodes.start(0)
        shown = [
            "MODE",
            "CFG_LEVEL",
            "TOKEN",
            "POD_NAME",
            "POD_IP",
            "NODE",
            "MEMORY_MI",
            "GREETING",
            "API_SERVICE_HOST",
            "API_SERVICE_PORT_HTTPS",
            "API_PORT",
        ]
        container = Container(
            name="app",
            image="python",
            command=[sys.executable, "-c", PRINT_ENV],
            env_from=[EnvFromSource(prefix="CFG_", config_map_ref=EnvSourceRef(name="settings"))],
            env=[
                EnvVar(name="SHOW", value=",".join(shown)),
                _key_ref("MODE", "settings", "MODE"),
                EnvVar(
                    name="TOKEN",
                    value_from=EnvVarSource(secret_key_ref=KeySelector(name="creds", key="token")),
                ),
                EnvVar(
                    name="POD_NAME",
                    value_from=EnvVarSource(
                        field_ref=ObjectFieldSelector(field_path="metadata.name")
                    ),
                ),
                EnvVar(
                    name="POD_IP",
                    value_from=EnvVarSource(
                        field_ref=ObjectFieldSelector(field_path="status.podIP")
                    ),
                ),
                EnvVar(
                    name="NODE",
                    value_from=EnvVarSource(
                        field_ref=ObjectFieldSelector(field_path="spec.nodeName")
                    ),
                ),
                EnvVar(
                    name="MEMORY_MI",
                    value_from=EnvVarSource(
                        resource_field_ref=ResourceFieldSelector(
                            resource="limits.memory", divisor="1Mi"
                        )
                    ),
                ),
                EnvVar(name="GREETING", value="$(POD_NAME) in $(MODE) mode"),
            ],
            resources=ResourceRequirements(limits={"memory": "96Mi"}),
        )
        await h.client.create(bound_pod("env", containers=[container], restart_policy="Never"))
        try:
            done = await wait_for_pod(h, "env", lambda p: p.status.phase == "Succeeded")
            logs: list[str] = await nodes.kubelets["node-0"].ask(
                lambda reply: ReadLogs(namespace="default", pod="env", reply=reply)
            )
        finally:
            for runtime in nodes.runtimes.values():
                await runtime.close()
    ip = done.status.pod_ip
    assert logs == [
        "MODE=fast",
        "CFG_LEVEL=3",
        "TOKEN=s3cr3t",
        "POD_NAME=env",
        f"POD_IP={ip}",
        "NODE=node-0",
        "MEMORY_MI=96",
        "GREETING=env in fast mode",
        "API_SERVICE_HOST=10.96.0.9",
        "API_SERVICE_PORT_HTTPS=443",
        "API_PORT=tcp://10.96.0.9:443",
    ]
