import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubeactors.api import (
    ApiError,
    LabelSelector,
    LabelSelectorRequirement,
    parse_field_selector,
    parse_label_selector,
    selector_from_struct,
)

from .harness import make_pod

keys = st.sampled_from(["app", "tier", "example.com/team", "env"])
values = st.sampled_from(["web", "db", "a-b", "x.y", "1"])
labels = st.dictionaries(keys, values, max_size=4)


@st.composite
def requirements(draw: st.DrawFn) -> tuple[str, object]:
    """A selector term as text, with a plain-Python reference predicate."""
    key = draw(keys)
    kind = draw(st.sampled_from(["=", "==", "!=", "in", "notin", "exists", "!"]))
    if kind in ("=", "==", "!="):
        value = draw(values)
        text = f"{key}{kind}{value}"
        if kind == "!=":
            return text, lambda ls: ls.get(key) != value
        return text, lambda ls: ls.get(key) == value
    if kind in ("in", "notin"):
        chosen = draw(st.sets(values, min_size=1, max_size=3))
        text = f"{key} {kind} ({', '.join(sorted(chosen))})"
        if kind == "in":
            return text, lambda ls: ls.get(key) in chosen
        return text, lambda ls: ls.get(key) not in chosen
    if kind == "exists":
        return key, lambda ls: key in ls
    return f"!{key}", lambda ls: key not in ls


@given(st.lists(requirements(), max_size=4), labels)
def test_label_selector_matches_the_reference(
    terms: list[tuple[str, object]], given_labels: dict[str, str]
) -> None:
    selector = parse_label_selector(",".join(text for text, _ in terms))
    expected = all(check(given_labels) for _, check in terms)  # type: ignore[operator]
    assert selector.matches(given_labels) == expected
    # Its string form parses back to a selector with the same meaning.
    assert parse_label_selector(str(selector)).matches(given_labels) == expected


@given(labels, labels)
def test_match_labels_struct_is_equality_on_each_pair(
    wanted: dict[str, str], given_labels: dict[str, str]
) -> None:
    selector = selector_from_struct(LabelSelector(match_labels=wanted))
    assert selector.matches(given_labels) == all(
        given_labels.get(k) == v for k, v in wanted.items()
    )


def test_match_expressions_struct() -> None:
    selector = selector_from_struct(
        LabelSelector(
            match_expressions=[
                LabelSelectorRequirement(key="app", operator="In", values=["web", "api"]),
                LabelSelectorRequirement(key="legacy", operator="DoesNotExist"),
            ]
        )
    )
    assert selector.matches({"app": "api"})
    assert not selector.matches({"app": "api", "legacy": "1"})
    assert not selector.matches({"app": "db"})
    assert selector_from_struct(None).matches({"anything": "at all"})


@pytest.mark.parametrize("text", ["app in (", "=x", "a==b==c", "app in ()", "bad key!=x", "a=b c"])
def test_malformed_label_selectors_are_bad_requests(text: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_label_selector(text)
    assert caught.value.code == 400


def test_field_selectors_by_kind() -> None:
    pod = make_pod("web")
    assert parse_field_selector("metadata.name=web", "Pod").matches(pod)
    assert not parse_field_selector("metadata.name!=web", "Pod").matches(pod)
    assert parse_field_selector("spec.nodeName==", "Pod").matches(pod)
    assert parse_field_selector("", "Pod").empty
    with pytest.raises(ApiError, match="not supported"):
        parse_field_selector("spec.nodeName=x", "ConfigMap")
    with pytest.raises(ApiError, match="can't understand"):
        parse_field_selector("metadata.name", "Pod")
