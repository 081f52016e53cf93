"""Fixtures for the actor runtime tests.

Each test enters its own `ActorSystem` (`async with`) rather than taking one from a
fixture: a task group must be entered and left by the same task.
"""

from __future__ import annotations

import pytest

from ._fakes import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
