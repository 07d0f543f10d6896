"""Decoded tags and project ids are shared between models through a bounded table, never
``sys.intern``-ed: interned strings are immortal from Python 3.12 on, and a long-running
worker sees an open set of them (a tag per job)."""

from __future__ import annotations

import sys

import pytest

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI
from scaleway_volumes._decoding import _SHARED, _SHARED_MAX, share, visible_tags
from scaleway_volumes.testing import FakeScaleway

pytestmark = pytest.mark.anyio

PROJECT = "7c8d1d3e-4b1a-4e8f-9a51-0c8f1f1f2a3b"


def fresh(text: str) -> str:
    """An equal string that is a new object (not a literal the compiler shared)."""
    return "".join([text[:1], text[1:]])


def is_interned(value: str) -> bool:
    """Whether ``value`` itself is the interned copy of its text."""
    return sys.intern(fresh(value)) is value


async def test_decoded_tags_and_project_ids_are_not_interned() -> None:
    fake = FakeScaleway()
    tag = fresh("job=unique-tag-value-41")
    volume_id = fake.add_volume(name="v", tags=[tag], project=PROJECT)["id"]
    block_id = fake.block.add_volume("b", tags=[fresh("job=unique-tag-value-42")])["id"]
    async with (
        fake.client() as http,
        AsyncVolumeAPI(
            fake.token, base_url=fake.base_url, organization=fake.organization, client=http
        ) as api,
        AsyncBlockAPI(
            fake.token, base_url=fake.block_base_url, organization=fake.organization, client=http
        ) as block,
    ):
        volume = await api.get_volume(volume_id)
        block_volume = await block.get_volume(block_id)
    assert volume.tags == (tag,) and not is_interned(volume.tags[0])
    assert volume.project == PROJECT and not is_interned(volume.project)
    assert not is_interned(block_volume.tags[0])
    assert not is_interned(block_volume.project_id)


def test_the_shared_table_is_bounded_and_shares() -> None:
    first = share(fresh("team=shared-a"))
    assert share(fresh("team=shared-a")) is first
    for i in range(_SHARED_MAX + 10):
        visible_tags([f"job={i}"])
    assert len(_SHARED) <= _SHARED_MAX
