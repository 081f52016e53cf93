import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.node import BackOff


def test_first_failure_restarts_at_once_then_waits_doubling() -> None:
    backoff = BackOff()
    assert backoff.remaining("p/c", finished_at=100, now=100) == 0
    backoff.restarted("p/c", now=100)
    assert backoff.remaining("p/c", finished_at=101, now=101) == 10
    backoff.restarted("p/c", now=111)
    assert backoff.remaining("p/c", finished_at=112, now=115) == 17  # 20 s from 112
    backoff.restarted("p/c", now=132)
    assert backoff.delay("p/c") == 40


@given(failures=st.integers(1, 30))
def test_the_delay_never_passes_five_minutes(failures: int) -> None:
    backoff = BackOff()
    now = 0.0
    for _ in range(failures):
        now += backoff.remaining("k", now, now) + 1
        backoff.restarted("k", now)
    assert backoff.delay("k") == min(10 * 2 ** (failures - 1), 300)


def test_an_entry_idle_long_enough_starts_over_and_pods_are_forgotten() -> None:
    backoff = BackOff()
    backoff.restarted("p/c", 0)
    backoff.restarted("p/c", 1)
    assert backoff.delay("p/c") == 20
    assert backoff.remaining("p/c", 700, 701) == 0
    backoff.restarted("p/c", 701)
    assert backoff.delay("p/c") == 10
    backoff.forget("p/")
    assert len(backoff) == 0
    with pytest.raises(ValueError, match="initial"):
        BackOff(initial=0)
