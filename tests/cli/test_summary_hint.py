"""Properties of the one hint a bulk call prints for all its failed items."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import ScalewayError, WaitTimeoutError
from scaleway_volumes.cli._errors import hint, summary_hint

ids = st.sampled_from(["v1", "v2", "v3"])

# Errors with no advice, with one advice for all, and with advice that differs per item.
errors = st.one_of(
    st.builds(ValueError, st.just("bad value")),
    st.builds(ScalewayError, st.just("no advice")),
    st.builds(lambda i: WaitTimeoutError(resource_id=i, last_state="resizing", timeout=5), ids),
    st.builds(
        lambda tag: ScalewayError("lost", outcome_unknown=True, marker_tag=tag),
        st.sampled_from(["tag-a", "tag-b"]),
    ),
)
failures = st.lists(st.tuples(st.integers(0, 99), errors), max_size=12)


def _kind(error: BaseException) -> tuple[str, bool]:
    return type(error).__name__, isinstance(error, ScalewayError) and error.outcome_unknown


def _describe(item: object) -> str:
    return f"item-{item}"


@given(failures)
def test_none_exactly_when_no_failure_has_advice(failed: list[tuple[int, BaseException]]) -> None:
    """There is a summary hint if and only if some failure has a hint."""
    has_advice = any(hint(error) is not None for _, error in failed)
    assert (summary_hint(failed, _describe) is not None) == has_advice


@given(failures)
def test_the_hint_is_that_of_a_most_common_kind(failed: list[tuple[int, BaseException]]) -> None:
    """The summary ends with the advice of one failure of a kind no other kind outnumbers."""
    summary = summary_hint(failed, _describe)
    advised = [(item, error) for item, error in failed if hint(error) is not None]
    if summary is None:
        return
    sizes = Counter(_kind(error) for _, error in advised)
    top = max(sizes.values())
    assert any(
        summary.endswith(str(hint(error))) and sizes[_kind(error)] == top for _, error in advised
    )
    assert summary.startswith(f"({top} of the {len(failed)} failures") == (top < len(failed))


@given(st.lists(st.integers(0, 99), min_size=1, max_size=20), st.sampled_from(["v1", "v2"]))
def test_one_kind_one_advice_is_the_advice_itself(items: list[int], resource: str) -> None:
    """Failures that all get the same advice: the summary is exactly that advice."""
    error = WaitTimeoutError(resource_id=resource, last_state="creating", timeout=1)
    assert summary_hint([(i, error) for i in items], _describe) == hint(error)


@given(st.lists(st.sampled_from(["tag-a", "tag-b", "tag-c"]), min_size=2, max_size=10))
def test_differing_advice_names_the_item_it_is_for(tags: list[str]) -> None:
    """Outcome-unknown creates with different tags: the summary names whose tag it shows."""
    failed = [
        (n, ScalewayError("lost", outcome_unknown=True, marker_tag=tag))
        for n, tag in enumerate(tags)
    ]
    summary = summary_hint(failed, _describe)
    assert summary is not None
    if len(set(tags)) == 1:
        assert summary == hint(failed[0][1])
    else:
        others = len(tags) - 1
        assert summary.startswith(f"(for item-0; likewise for the other {others}) ")
        assert f"--tag {tags[0]})" in summary
