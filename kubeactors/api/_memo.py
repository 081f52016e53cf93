"""`RecentResults`: a pure function's results for its last few inputs.

Pods made from one template (a ReplicaSet's, a benchmark's) arrive with equal specs,
often with the very same spec object: their defaults, tolerations and container
checks come out the same each time, so a create looks them up instead of working
them out again.
"""

from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["RecentResults"]

K = TypeVar("K")
V = TypeVar("V")


class RecentResults(Generic[K, V]):
    """The results of a pure function of frozen values for its last `size` inputs.

    `same` finds an input by identity, `equal` by identity or equality (a struct's
    equality compares its fields in C: cheaper than most of what is looked up). An
    entry holds its input, so the identity of a remembered input is never reused.
    Inputs must not be changed in place after use, as no frozen struct's are.
    """

    __slots__ = ("_inputs", "_outputs", "_size")

    def __init__(self, size: int = 4) -> None:
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        self._size = size
        self._inputs: list[K] = []
        self._outputs: list[V] = []

    def same(self, key: K) -> V | None:
        """The result for this very input, if remembered."""
        inputs = self._inputs
        if inputs and inputs[0] is key:  # the commonest: the same template again
            return self._outputs[0]
        for index in range(1, len(inputs)):
            if inputs[index] is key:
                return self._outputs[index]
        return None

    def equal(self, key: K) -> V | None:
        """The result for this input or one equal to it, if remembered."""
        inputs = self._inputs
        if inputs and (inputs[0] is key or inputs[0] == key):
            return self._outputs[0]
        for index in range(1, len(inputs)):
            known = inputs[index]
            if known is key or known == key:
                return self._outputs[index]
        return None

    def put(self, key: K, value: V) -> None:
        """Remember `value` for `key`, forgetting the oldest entry when full."""
        self._inputs.insert(0, key)
        self._outputs.insert(0, value)
        if len(self._inputs) > self._size:
            self._inputs.pop()
            self._outputs.pop()
