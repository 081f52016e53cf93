"""`prompt_thread_switches`: a shorter switch interval while a cluster runs, and the
previous one back afterwards, even when the run fails."""

import sys

import pytest

from kubeactors._switching import prompt_thread_switches


def test_the_interval_is_shortened_inside_and_restored_after() -> None:
    before = sys.getswitchinterval()
    with prompt_thread_switches(0.0007):
        assert sys.getswitchinterval() == pytest.approx(0.0007)
    assert sys.getswitchinterval() == before


def _fail_inside() -> None:
    with prompt_thread_switches():
        assert sys.getswitchinterval() == pytest.approx(0.0005)
        raise RuntimeError("the cluster failed")


def test_the_interval_is_restored_when_the_body_raises() -> None:
    before = sys.getswitchinterval()
    with pytest.raises(RuntimeError, match="the cluster failed"):
        _fail_inside()
    assert sys.getswitchinterval() == before
