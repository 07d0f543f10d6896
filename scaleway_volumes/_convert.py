"""Instance API bodies -> models: the ``{"volume": ...}`` / ``{"volumes": [...]}`` envelopes.

The converter itself is ``_converter.py`` (re-exported here, as is what the
decoders share, from ``_decoding.py``); the Block API's bodies are
``_decode_block.py``. Every decoder takes the raw body and the HTTP status
and returns models or raises ``ResponseDecodeError`` naming the JSONPath of
the first problem.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from ._converter import converter, make_converter
from ._decoding import (
    MarkedPage,
    NotPlain,
    decode_error,
    fast_date,
    fast_tags,
    intern,
    load_object,
    opt_str,
    parse_datetime,
    structure_or_raise,
    visible_tags,
)
from ._errors import ResponseDecodeError, ScalewayError
from ._models import Volume, VolumeServer

__all__ = [
    "TagsNotShown",
    "converter",
    "decode_volume",
    "decode_volumes",
    "find_marked_page",
    "make_converter",
    "parse_datetime",
    "visible_tags",
]

# The names the fast decoder had before the split, for code and tests using them.
_NotPlain = NotPlain


@attrs.frozen
class _VolumeEnvelope:
    volume: Volume


@attrs.frozen
class _VolumeList:
    volumes: list[Volume]


_structure_envelope: Callable[[Any, Any], _VolumeEnvelope] = converter.get_structure_hook(
    _VolumeEnvelope
)
_structure_list: Callable[[Any, Any], _VolumeList] = converter.get_structure_hook(_VolumeList)
_structure_volume: Callable[[Any, Any], Volume] = converter.get_structure_hook(Volume)


def _fast_volume(data: Any) -> Volume:
    """``Volume`` from a well-formed dict, about three times faster than the converter.

    Semantics are the converter's: anything unusual raises ``NotPlain`` and
    the caller re-runs the converter, which decides (and names the path of
    any error). Values that repeat across volumes (organization, project, type,
    state, zone) are shared (``intern``; ``share`` for the open set of
    organizations and projects), so a listing of thousands holds one copy each.
    """
    if type(data) is not dict:
        raise NotPlain
    get = data.get
    volume_id, name, size, volume_type = get("id"), get("name"), get("size"), get("volume_type")
    if (
        type(volume_id) is not str
        or type(name) is not str
        or type(size) is not int
        or type(volume_type) is not str
    ):
        raise NotPlain
    server = get("server")
    if server is not None:
        if type(server) is not dict or type(server.get("id")) is not str:
            raise NotPlain
        server = VolumeServer(server["id"], opt_str(server.get("name")))
    created_raw, modified_raw = get("creation_date"), get("modification_date")
    created = fast_date(created_raw)
    # One object for the common "never modified" case.
    modified = created if modified_raw == created_raw else fast_date(modified_raw)
    return Volume(
        volume_id,
        name,
        size,
        intern(volume_type),
        opt_str(get("organization"), shared=True),
        opt_str(get("export_uri")),
        server,
        opt_str(get("project"), shared=True),
        opt_str(get("state"), interned=True),
        fast_tags(get("tags", ())),
        opt_str(get("zone"), interned=True),
        created,
        modified,
    )


def decode_volume(content: bytes, status_code: int | None = None) -> Volume:
    """Decode a ``{"volume": {...}}`` body, or raise ``ResponseDecodeError``."""
    return _volume_envelope(load_object(content, status_code), status_code)


def _volume_envelope(data: dict[str, Any], status_code: int | None) -> Volume:
    try:
        return _fast_volume(data["volume"])
    except (NotPlain, KeyError):
        pass
    envelope = structure_or_raise(data, _structure_envelope, "volume", status_code)
    return envelope.volume


def decode_volumes(content: bytes, status_code: int | None = None) -> list[Volume]:
    """Decode a ``{"volumes": [...]}`` body, or raise ``ResponseDecodeError``."""
    data = load_object(content, status_code)
    items = data.get("volumes")
    if items is not None and type(items) is not list:
        # cattrs would read a dict's keys as the list: {} would pass as no
        # volumes (and a create's marker lookup as "not made": a resend).
        raise ResponseDecodeError(
            f"expected a list, got {type(items).__name__}",
            path="$.volumes",
            status_code=status_code,
        )
    if type(items) is list:
        try:
            return [_fast_volume(item) for item in items]
        except NotPlain:
            pass
    page = structure_or_raise(data, _structure_list, "volumes", status_code)
    return page.volumes


# -- the create marker -------------------------------------------------------------


class TagsNotShown(ScalewayError):
    """The API lists volumes without their tags: a create's marker cannot be checked."""


def _marked_index(items: list[Any], marker: str, name: str) -> int | None:
    """Index of the item whose raw tags hold ``marker``; ``TagsNotShown`` if unknowable."""
    for index, item in enumerate(items):
        tags = item.get("tags") if type(item) is dict else None
        if type(tags) is list and marker in tags:
            return index
        if tags is None and type(item) is dict and item.get("name") == name:
            raise TagsNotShown(
                f"the API lists {name!r} without tags, so whether the create landed "
                "cannot be checked"
            )
    return None


def _listed_volume(item: dict[str, Any], index: int, status_code: int | None) -> Volume:
    """The ``Volume`` of ``volumes[index]``; an error names its path in the listing."""
    try:
        return _fast_volume(item)
    except NotPlain:
        pass
    try:
        return _structure_volume(item, None)
    except Exception as err:
        raise decode_error(err, status_code, f"$.volumes[{index}]") from err


def find_marked_page(
    content: bytes, status_code: int | None, marker: str, name: str
) -> MarkedPage[Volume]:
    """The volume carrying ``marker`` on one listing page (if any), and the page's ids.

    ```python
    page = find_marked_page(response.content, response.status_code, marker, name)
    pager.feed(page.ids, link=response.headers.get("link"),
               total=response.headers.get("x-total-count"))
    ```
    """
    data = load_object(content, status_code)
    items = data.get("volumes")
    if type(items) is list and all(
        type(item) is dict and type(item.get("id")) is str for item in items
    ):
        index = _marked_index(items, marker, name)
        ids = [item["id"] for item in items]
        if index is None:
            return MarkedPage(ids)
        return MarkedPage(ids, None, _listed_volume(items[index], index, status_code))
    # Not a well-formed page (an item without a string id cannot decode):
    # the full decoder says what is wrong.
    return MarkedPage([volume.id for volume in decode_volumes(content, status_code)])
