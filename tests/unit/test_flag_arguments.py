"""The yes/no arguments (``create_marker``, ``missing_ok``, ``wait``) take True or False only.

Truthiness misread the likely mistakes: ``create_marker=None`` turned the duplicate
protection off, ``missing_ok="no"`` hid a 404, ``wait="false"`` waited.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI, BlockVolumeSpec
from scaleway_volumes.testing import FakeScaleway

pytestmark = pytest.mark.anyio

NOT_BOOLS = [None, 0, 1, "no", "false", ""]
GONE = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
async def apis(fake: FakeScaleway) -> AsyncIterator[tuple[AsyncBlockAPI, AsyncVolumeAPI]]:
    """A Block and an Instance API on the in-process fake."""
    async with fake.client() as http:
        common: dict[str, Any] = {
            "client": http,
            "organization": fake.organization,
            "environ": {},
        }
        yield (
            AsyncBlockAPI(fake.token, base_url=fake.block_base_url, **common),
            AsyncVolumeAPI(fake.token, base_url=fake.base_url, **common),
        )


@pytest.mark.parametrize("value", NOT_BOOLS)
@pytest.mark.parametrize("api_class", [AsyncBlockAPI, AsyncVolumeAPI])
async def test_create_marker_of_the_constructor(api_class: type[Any], value: object) -> None:
    """``create_marker`` that is not a bool is a TypeError naming it, when the API is built."""
    with pytest.raises(TypeError, match=rf"^create_marker must be True or False, got {value!r}$"):
        api_class("11111111-2222-4333-8444-555555555555", environ={}, create_marker=value)


@pytest.mark.parametrize("value", NOT_BOOLS[1:])  # None means "unchanged" there
async def test_create_marker_of_with_options(
    fake: FakeScaleway, apis: tuple[AsyncBlockAPI, AsyncVolumeAPI], value: object
) -> None:
    """``with_options(create_marker=...)`` takes True, False or None (unchanged)."""
    for api in apis:
        with pytest.raises(TypeError, match=r"^create_marker must be True or False"):
            api.with_options(create_marker=value)  # type: ignore[arg-type]
    assert fake.stats.requests == []


def _calls(
    block: AsyncBlockAPI, instance: AsyncVolumeAPI, value: Any
) -> dict[str, Callable[[], Awaitable[object]]]:
    return {
        "block.delete_volume": lambda: block.delete_volume(GONE, missing_ok=value),
        "block.delete_snapshot": lambda: block.delete_snapshot(GONE, missing_ok=value),
        "block.delete_volumes": lambda: block.delete_volumes([GONE], missing_ok=value),
        "instance.delete_volume": lambda: instance.delete_volume(GONE, missing_ok=value),
        "instance.delete_volumes": lambda: instance.delete_volumes([GONE], missing_ok=value),
        "block.create_volumes": lambda: block.create_volumes(
            [BlockVolumeSpec("v", size=10**10)], wait=value
        ),
    }


@pytest.mark.parametrize("value", NOT_BOOLS)
async def test_missing_ok_and_wait_refused_before_any_request(
    fake: FakeScaleway, apis: tuple[AsyncBlockAPI, AsyncVolumeAPI], value: object
) -> None:
    """``missing_ok`` and ``wait`` that are not bools are a TypeError naming them,
    before any request (a truthy string had counted a 404 as deleted)."""
    for name, call in _calls(*apis, value).items():
        argument = "wait" if name.endswith("create_volumes") else "missing_ok"
        with pytest.raises(TypeError, match=rf"^{argument} must be True or False, got "):
            await call()
    assert fake.stats.requests == []
    assert fake.block.volumes() == []
