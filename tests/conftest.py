"""Settings shared by the whole suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from kubeactors._native import stale_modules
from kubeactors.controllers._owned import DIVERGENCES, OwnedPods

# CI machines are shared and noisy: no deadline per example, a bounded example count.
settings.register_profile(
    "default", deadline=None, max_examples=50, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("default")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test old code: a compiled module older than its source would run."""
    stale = stale_modules()
    if stale:
        pytest.exit(
            f"compiled modules older than their sources: {', '.join(stale)}; "
            "run `make native` (or delete their .so files to test pure Python)",
            returncode=4,
        )


@pytest.fixture(autouse=True)
def _check_owned_pods(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every tally a controller reads is compared with a recount of its cache: a test
    fails if the incremental counts ever differ from the full scan they replace."""
    monkeypatch.setattr(OwnedPods, "checking", True)
    DIVERGENCES.clear()
    yield
    found = list(DIVERGENCES)
    DIVERGENCES.clear()
    assert not found, f"{len(found)} tallies differed from a recount, first: {found[0]}"
