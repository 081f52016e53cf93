"""The README's embedding example must really run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_readme_has_an_embedding_example() -> None:
    blocks = _python_blocks()
    assert blocks, "README.md has no ```python block"
    assert any("Cluster(" in block for block in blocks)


def test_embedding_example_runs() -> None:
    (example,) = [block for block in _python_blocks() if "Cluster(" in block]
    result = subprocess.run(
        [sys.executable, "-c", example], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 20
    for line in lines:
        name, node, phase = line.split()
        assert name.startswith("pod-")
        assert node.startswith("node-")
        assert phase == "Running"


def test_api_guide_example_runs() -> None:
    guide = README.parent / "docs" / "api.md"
    (example,) = re.findall(r"```python\n(.*?)```", guide.read_text(), flags=re.DOTALL)
    result = subprocess.run(
        [sys.executable, "-c", example], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    event_type, name = result.stdout.split()
    assert event_type == "ADDED"
    assert name.startswith("pod-")


def _testing_guide_example() -> str:
    guide = README.parent / "docs" / "testing.md"
    blocks = re.findall(r"```python\n(.*?)```", guide.read_text(), flags=re.DOTALL)
    (example,) = [block for block in blocks if "run_state_machine_as_test(" in block]
    return str(example)


def test_testing_guide_example_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _testing_guide_example()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["no program broke the Reserved plugin"]


def test_testing_guide_example_fails_without_its_filter() -> None:
    # What the guide says next: without the filter, hypothesis finds a pod of one
    # team on another team's node (derandomised, so the search is the same each run).
    example = _testing_guide_example()
    # Unshrunk: shrinking replays a cluster per candidate program, for minutes.
    broken = "from hypothesis import Phase\n" + example.replace(
        '"enabled": [{"name": "Reserved"}]', '"enabled": []'
    ).replace(
        "max_examples=3, stateful_step_count=6,",
        "max_examples=60, stateful_step_count=15, derandomize=True, database=None, "
        "phases=[Phase.generate],",
    )
    assert broken.count('"enabled": []') == 1
    assert "derandomize=True" in broken
    result = subprocess.run(
        [sys.executable, "-c", broken], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
    assert "reserved_nodes_kept" in result.stderr
    assert "state = ReservedCluster()" in result.stderr
