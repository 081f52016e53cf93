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


async def _start_up(data_dir: Path) -> tuple[anyio.abc.Process, Path]:
    process = await anyio.open_process(
        [
            sys.executable,
            "-m",
            "kubeactors.cli",
            "up",
            "--data-dir",
            str(data_dir),
            "--port",
            "0",
            "--nodes",
            "2",
        ],
    )
    assert process.stdout is not None
    line = b""
    with anyio.fail_after(60):
        while not line.endswith(b"\n"):
            line += await process.stdout.receive(1)
    exported = line.decode().strip()
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
