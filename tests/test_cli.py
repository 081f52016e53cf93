import json
import signal
import sys
from pathlib import Path

import anyio
import anyio.abc
import pytest

from kubeactors.cli import main


def test_run_prints_throughput_and_a_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["run", "--nodes", "3", "--pods", "20", "--no-progress"])
    assert status == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("20 pods on 3 nodes Running in ")
    assert lines[0].endswith("pods/s")
    result = json.loads(lines[1])
    assert result["pods"] == 20
    assert result["nodes"] == 3
    assert result["seconds_to_running"] > 0
    # Both figures are rounded (seconds to 1 ms): allow for that, and no more.
    rate, seconds = result["pods_per_s"], result["seconds_to_running"]
    assert abs(rate * seconds - 20) <= rate * 0.0005 + 0.05 * seconds


def test_run_fails_clearly_when_pods_cannot_all_run(capsys: pytest.CaptureFixture[str]) -> None:
    too_many = ["run", "--nodes", "1", "--pods", "3", "--node-pods", "2", "--timeout", "0.5"]
    status = main([*too_many, "--no-progress"])
    assert status == 1
    assert "no 3 pods Running" in capsys.readouterr().err


def test_bad_quantity_names_the_value(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", "--cpu", "lots"])
    assert caught.value.code == 2
    assert "'lots'" in capsys.readouterr().err


def test_etcd_hands_its_arguments_to_the_etcd_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["etcd", "--help"])
    assert caught.value.code == 0
    assert "usage: kubeactors etcd" in capsys.readouterr().out


def test_up_refuses_plain_http_off_loopback(tmp_path: Path) -> None:
    status = main(
        ["up", "--data-dir", str(tmp_path), "--host", "0.0.0.0", "--insecure-http", "--nodes", "0"]
    )
    assert status == 1


async def _first_line(*args: str) -> tuple[anyio.abc.Process, str]:
    """`kubeactors ARGS` in a process of its own, and the first line it prints."""
    process = await anyio.open_process([sys.executable, "-m", "kubeactors.cli", *args])
    assert process.stdout is not None
    line = b""
    with anyio.fail_after(60):
        while not line.endswith(b"\n"):
            line += await process.stdout.receive(1)
    return process, line.decode().strip()


async def _start_up(data_dir: Path, nodes: int = 2) -> tuple[anyio.abc.Process, Path]:
    process, exported = await _first_line(
        "up", "--data-dir", str(data_dir), "--port", "0", "--nodes", str(nodes)
    )
    assert exported.startswith("export KUBECONFIG=")
    return process, Path(exported.removeprefix("export KUBECONFIG="))


async def _kubectl(kubeconfig: Path, *args: str) -> str:
    result = await anyio.run_process(
        [
            "/usr/bin/kubectl",
            "--kubeconfig",
            str(kubeconfig),
            "--cache-dir",
            str(kubeconfig.parent / "cache"),
            *args,
        ],
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


async def _stop(process: anyio.abc.Process) -> int:
    process.send_signal(signal.SIGINT)
    with anyio.fail_after(60):
        return await process.wait()


@pytest.mark.skipif(not Path("/usr/bin/kubectl").exists(), reason="kubectl is not installed")
async def test_up_serves_a_cluster_that_survives_a_restart(tmp_path: Path) -> None:
    process, kubeconfig = await _start_up(tmp_path)
    try:
        assert kubeconfig == tmp_path / "kubeconfig"
        nodes = await _kubectl(kubeconfig, "get", "nodes", "-o", "name")
        assert sorted(nodes.split()) == ["node/node-0", "node/node-1"]
        await _kubectl(kubeconfig, "run", "web", "--image=nginx", "--restart=Never")
    finally:
        assert await _stop(process) == 0
    process, kubeconfig = await _start_up(tmp_path)
    try:
        pods = await _kubectl(kubeconfig, "get", "pods", "-o", "name")
        assert pods.split() == ["pod/web"]
    finally:
        assert await _stop(process) == 0


TINY = """
name: tiny
until: 5m
cluster:
  nodes:
    - {name: pool, count: 2}
workloads:
  - {type: deployment, name: web, replicas: 4}
faults:
  - {type: node-crash, at: 1m, nodes: [node-1], for: 2m}
"""


def test_sim_prints_the_report_and_the_trace_hash_and_draws_a_png(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, png = tmp_path / "tiny.yaml", tmp_path / "out.png"
    scenario.write_text(TINY)
    status = main(["sim", str(scenario), "--seed", "4", "--plot", str(png), "--no-progress"])
    assert status == 0
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    assert last.startswith("trace hash: ")
    assert len(last.removeprefix("trace hash: ")) == 64
    for figure in ("pods scheduled", "evictions", "time unschedulable", "node-crash"):
        assert figure in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000


def test_sim_json_is_the_whole_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    status = main(["sim", str(scenario), "--seed", "4", "--until", "2m", "--json", "--no-progress"])
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    assert report["scenario"] == "tiny"
    assert report["until"] == 120.0
    assert [sample["t"] for sample in report["samples"]] == [30.0 * i for i in range(5)]
    assert report["faults"][0]["target"] == "node-1"
    assert report["violations"] == []
    assert report["wall_s"] > 0


def test_sim_names_the_field_at_fault_in_a_bad_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "bad.yaml"
    scenario.write_text(TINY.replace("at: 1m", "at: soon"))
    assert main(["sim", str(scenario)]) == 2
    err = capsys.readouterr().err
    assert 'scenario.faults[0].at: expected a duration like "5m"' in err
    assert main(["sim", str(tmp_path / "missing.yaml")]) == 2
    with pytest.raises(SystemExit) as caught:
        main(["sim", str(scenario), "--until", "forever"])
    assert caught.value.code == 2


def test_sim_without_matplotlib_says_how_to_get_it_before_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    status = main(["sim", str(scenario), "--plot", str(tmp_path / "out.png"), "--no-progress"])
    assert status == 2
    assert "pip install 'kubeactors[plot]'" in capsys.readouterr().err
    assert not (tmp_path / "out.png").exists()


def test_the_example_scenarios_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[1] / "scenarios"
    # A few virtual minutes of each: enough to start them, their faults come later.
    for path in sorted(root.glob("*.yaml")):
        assert main(["sim", str(path), "--until", "3m", "--json", "--no-progress"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["pods_scheduled"] > 0, path.name


@pytest.mark.skipif(not Path("/usr/bin/kubectl").exists(), reason="kubectl is not installed")
async def test_up_authorises_each_token_by_rbac(tmp_path: Path) -> None:
    # A token file written before the first start is kept: the admin and a plain user.
    (tmp_path / "tokens.csv").write_text(
        'admin-token-0123456789,admin,admin,"system:masters"\nbob-token-0123456789,bob,bob\n'
    )
    process, kubeconfig = await _start_up(tmp_path)
    try:
        bob = ["--token", "bob-token-0123456789"]
        assert await _kubectl(kubeconfig, "auth", "can-i", "create", "deployments") == "yes\n"
        result = await anyio.run_process(
            [
                "/usr/bin/kubectl",
                "--kubeconfig",
                str(kubeconfig),
                *bob,
                "auth",
                "can-i",
                "create",
                "deployments",
            ],
            check=False,
        )
        assert (result.returncode, result.stdout) == (1, b"no\n")
        whoami = await _kubectl(kubeconfig, *bob, "auth", "whoami", "-o", "jsonpath={.status}")
        assert json.loads(whoami)["userInfo"]["username"] == "bob"
        denied = await anyio.run_process(
            ["/usr/bin/kubectl", "--kubeconfig", str(kubeconfig), *bob, "get", "pods"],
            check=False,
        )
        assert denied.stderr.decode().strip() == (
            'Error from server (Forbidden): pods is forbidden: User "bob" cannot list '
            'resource "pods" in API group "" in the namespace "default"'
        )
        # A second process may not serve the same embedded store.
        second = await anyio.run_process(
            [sys.executable, "-m", "kubeactors.cli", "apiserver", "--data-dir", str(tmp_path)],
            check=False,
        )
        assert second.returncode == 1
        assert b"another kubeactors process serves the store in" in second.stderr
        # The components run under RBAC with their own identities: a pod gets to Running.
        await _kubectl(kubeconfig, "run", "web", "--image=nginx", "--restart=Never")
        await _kubectl(kubeconfig, "wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
    finally:
        assert await _stop(process) == 0


@pytest.mark.skipif(not Path("/usr/bin/kubectl").exists(), reason="kubectl is not installed")
async def test_nodes_in_another_process_join_over_https_and_run_pods(tmp_path: Path) -> None:
    process, kubeconfig = await _start_up(tmp_path, nodes=0)
    try:
        nodes, ready = await _first_line(
            "nodes", "--kubeconfig", str(kubeconfig), "--count", "3", "--name-prefix", "far-"
        )
        try:
            assert ready == "3 nodes ready"
            listed = await _kubectl(kubeconfig, "get", "nodes", "-o", "name")
            assert sorted(listed.split()) == ["node/far-0", "node/far-1", "node/far-2"]
            await _kubectl(kubeconfig, "run", "web", "--image=nginx", "--restart=Never")
            await _kubectl(kubeconfig, "wait", "--for=condition=Ready", "pod/web", "--timeout=60s")
            node = await _kubectl(
                kubeconfig, "get", "pod", "web", "-o", "jsonpath={.spec.nodeName}"
            )
            assert node in ("far-0", "far-1", "far-2")
            await _kubectl(kubeconfig, "delete", "pod", "web")
        finally:
            assert await _stop(nodes) == 0
    finally:
        assert await _stop(process) == 0
