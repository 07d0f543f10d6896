"""The pure helpers of the Block resources: which project a create uses, query filters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._block_common import (
    encode,
    project_for,
    str_filters,
    tag_filters,
    tags_with_marker,
)

ids = st.one_of(st.none(), st.text(min_size=1, max_size=8))


@given(ids, ids, ids)
def test_project_precedence(argument: str | None, project: str | None, org: str | None) -> None:
    """The argument, else the default project, else the organization; none is a ValueError."""
    expected = argument or project or org
    if expected is None:
        with pytest.raises(ValueError, match="project"):
            project_for(argument, project, org)
    else:
        assert project_for(argument, project, org) == expected


@pytest.mark.parametrize("bad", ["", 3, b"p"])
def test_project_argument_must_be_a_non_empty_string(bad: object) -> None:
    """An empty or non-string project is refused, naming it."""
    with pytest.raises(ValueError, match="project"):
        project_for(bad, "default", None)


@given(st.lists(st.text(min_size=1, max_size=5), max_size=5), st.booleans())
def test_marker_is_added_last(tags: list[str], with_marker: bool) -> None:
    """The caller's tags in order, then the marker; None when there is nothing."""
    marker = "scaleway-volumes:create=ab" if with_marker else None
    expected = [*tags, *([marker] if marker else [])]
    assert tags_with_marker(tags, marker) == (expected or None)


def test_filters_skip_unset_and_rename() -> None:
    """Only set filters are sent, under the API's parameter names; tags repeat."""
    assert str_filters(("name", "db"), ("project:project_id", None), ("x:y", "v")) == [
        ("name", "db"),
        ("y", "v"),
    ]
    assert tag_filters(["a", "b"]) == [("tags", "a"), ("tags", "b")]
    assert tag_filters(None) == []
    with pytest.raises(ValueError, match="name"):
        str_filters(("name", ""))


def test_bodies_are_compact_json() -> None:
    """No spaces, keys in the order given."""
    assert (
        encode({"name": "a", "from_empty": {"size": 1}}) == b'{"name":"a","from_empty":{"size":1}}'
    )
