"""The data the API speaks about. Plain frozen attrs classes: no JSON code here.

JSON mapping lives in ``_convert.py`` (the public ``scaleway_volumes.converter``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from ._validate import tag_items

__all__ = ["Volume", "VolumeServer", "VolumeSpec"]


def to_tags(value: Iterable[str]) -> tuple[str, ...]:
    """``value`` as a tuple of strings; a bare string, a mapping, anything not
    iterable or a non-string item is a TypeError."""
    tags = tuple(tag_items(value))
    for tag in tags:
        if not isinstance(tag, str):
            raise TypeError(f"every tag must be a string, got {type(tag).__name__}")
    return tags


def tag_tuple(value: Iterable[str]) -> tuple[str, ...]:
    """A model's ``tags``: a tuple is kept as it is (what the decoders pass, by
    the thousand), anything else goes through ``to_tags``."""
    return value if type(value) is tuple else to_tags(value)


@attrs.frozen
class VolumeServer:
    """The server a volume is attached to."""

    id: str
    name: str | None = None


@attrs.frozen
class Volume:
    """A volume as the API describes it.

    Equality is by value; instances are immutable and hashable (``tags`` given
    as a list becomes a tuple). Fields the API did not send (the seed API sends
    seven) are ``None`` or empty.

    ```python
    volume = await api.get_volume("f929fe39-63f8-4be8-a80e-1e9c8ae22a76")
    print(volume.name, volume.size, volume.server)
    ```
    """

    id: str
    name: str
    size: int
    volume_type: str
    organization: str | None = None
    export_uri: str | None = None
    server: VolumeServer | None = None
    project: str | None = None
    state: str | None = None
    tags: tuple[str, ...] = attrs.field(default=(), converter=tag_tuple)
    zone: str | None = None
    creation_date: datetime | None = None
    modification_date: datetime | None = None


@attrs.frozen
class VolumeSpec:
    """What to create: the input of ``AsyncVolumeAPI.create_volumes``.

    ``size`` is in bytes. ``organization`` and ``project`` default to the API's.

    ```python
    specs = (VolumeSpec(name=f"data-{i}", size=20 * 10**9) for i in range(300))
    result = await api.create_volumes(specs, concurrency=32)
    ```
    """

    name: str
    size: int
    volume_type: str = "l_ssd"
    organization: str | None = None
    project: str | None = None
    tags: tuple[str, ...] = attrs.field(default=(), converter=to_tags)
