import json

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
