"""What the Block Storage resources share: bodies, the project of a create, filters.

Block Storage API v1 (``/block/v1/zones/{zone}``) answers gets, creates and
updates with the bare object (no envelope), counts list results in the body
(``total_count``), names its page size ``page_size`` (at most 100) and takes
``tags`` as a repeated query parameter of which one must match.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._json import dumps
from ._validate import check_optional_str, check_tag_filter, check_tags

__all__ = [
    "PAGE_SIZE_PARAM",
    "encode",
    "project_for",
    "str_filters",
    "tag_filters",
    "tags_with_marker",
]

PAGE_SIZE_PARAM = "page_size"


def encode(payload: dict[str, Any]) -> bytes:
    """A compact JSON request body."""
    return dumps(payload)


def project_for(project: object, default_project: str | None, organization: str | None) -> str:
    """The ``project_id`` of a create: the argument, the API's default project, else the
    default organization (an organization's default project has the organization's id).

    Raises ``ValueError`` when none is known: the Block API requires a project.
    """
    given = check_optional_str("project", project)
    if given is not None:
        return given
    if default_project is not None:
        return default_project
    if organization is not None:
        return organization
    raise ValueError(
        "Block Storage needs a project: pass project=..., or set a default one "
        "(project= or organization= when building the API, SCW_DEFAULT_PROJECT_ID, "
        "or default_project_id in the scw config file)"
    )


def tags_with_marker(tags: Iterable[str] | None, marker: str | None) -> list[str] | None:
    """The checked ``tags`` plus the create marker, or None when there are none."""
    tag_list = check_tags(tags) or []
    if marker is not None:
        tag_list.append(marker)
    return tag_list or None


def str_filters(*pairs: tuple[str, object]) -> list[tuple[str, str]]:
    """Query pairs for the filters that are set; each must be a non-empty string.

    The first item of a pair is the argument's name (for the error), the query
    parameter is the same name unless given as ``"argument:parameter"``.
    """
    filters: list[tuple[str, str]] = []
    for key, value in pairs:
        argument, _, parameter = key.partition(":")
        checked = check_optional_str(argument, value)
        if checked is not None:
            filters.append((parameter or argument, checked))
    return filters


def tag_filters(tags: Iterable[str] | None) -> list[tuple[str, str]]:
    """``tags`` as repeated query parameters (the Block API matches any one of them)."""
    # A marker tag is a valid filter: it finds what an unknown-outcome create made.
    checked = check_tag_filter(tags)
    if checked is None:
        return []
    # Sending no filter would list everything: an empty selection fed to a
    # delete would then empty the zone.
    if not checked:
        raise ValueError(
            "tags=[] matches nothing under the Block API's any-of rule; "
            "pass tags=None for no tag filter"
        )
    return [("tags", tag) for tag in checked]
