"""Hypothesis' plugin entry point: `st.from_type(Pod)` and friends use our strategies.

It lives outside `kubeactors.testing` because hypothesis loads its plugins while it is
itself being imported, which may be in the middle of importing `kubeactors.testing`.
So the hook registers deferred strategies that import ours only when first drawn.
"""

from __future__ import annotations

from typing import Any

__all__ = ["setup_hook"]


def setup_hook() -> None:
    from hypothesis import strategies as st

    from .api import Node, Pod, Taint, Toleration

    def deferred(name: str) -> Any:
        def resolve(_: type) -> Any:
            from .testing import strategies

            return getattr(strategies, name)()

        return resolve

    st.register_type_strategy(Pod, deferred("pods"))
    st.register_type_strategy(Node, deferred("nodes"))
    st.register_type_strategy(Taint, deferred("taints"))
    st.register_type_strategy(Toleration, deferred("tolerations"))
