"""Creates that end in an error: when the outcome is unknown, the error says where to look.

``docs/marker-tag.md`` tells callers to look a resource up with
``list_volumes(tags=[err.marker_tag])`` whenever ``err.outcome_unknown``; these
scenarios are the ways a create could end unknown, checked against the server's truth.
"""

from __future__ import annotations

import httpx
import pytest

from scaleway_volumes import (
    APIConnectionError,
    APITimeoutError,
    AsyncVolumeAPI,
    ResponseDecodeError,
    RetryPolicy,
)
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]

GB = 1_000_000_000
MARKER = "scaleway-volumes:create="


def make_api(fake: FakeScaleway, base_url: str, **kwargs: object) -> AsyncVolumeAPI:
    kwargs.setdefault("timeout", httpx.Timeout(2.0, connect=1.0))
    return AsyncVolumeAPI(
        fake.token,
        base_url=base_url,
        organization=fake.organization,
        **kwargs,  # type: ignore[arg-type]
    )


def posts(fake: FakeScaleway) -> int:
    return sum(1 for r in fake.stats.requests if r.method == "POST")


def sent_marker(fake: FakeScaleway) -> str:
    """The marker tag the create carried (every POST of one create carries the same)."""
    tags = {t for r in fake.stats.requests if r.method == "POST" for t in r.json()["tags"]}
    assert len(tags) == 1 and next(iter(tags)).startswith(MARKER), tags
    return next(iter(tags))


async def test_drops_until_retries_run_out_name_the_marker(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """Every attempt sent and dropped: still outcome unknown, now with the tag to look for."""
    fake.add_fault(Fault("drop", method="POST", times=None))
    async with make_api(fake, server.base_url, retry=RetryPolicy(max_retries=1)) as api:
        with pytest.raises(APIConnectionError) as info:
            await api.create_volume(name="data", size=10 * GB)
        error = info.value
        assert error.outcome_unknown and error.marker_tag == sent_marker(fake)
        assert not isinstance(error, APITimeoutError)
        assert str(error).count("Server disconnected") == 1
        assert await api.list_volumes(tags=[error.marker_tag]) == []
    assert posts(fake) == 2 and fake.volumes == []


async def test_unreadable_answer_and_failed_lookup_is_outcome_unknown(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A 201 with a garbage body, then the lookup fails: the volume exists, say where."""
    fake.add_fault(Fault("malformed", method="POST"))
    fake.add_fault(Fault("respond", method="GET", status=500, times=None))
    async with make_api(fake, server.base_url, retry=RetryPolicy(max_retries=0)) as api:
        with pytest.raises(ResponseDecodeError) as info:
            await api.create_volume(name="data", size=10 * GB)
        error = info.value
        assert error.outcome_unknown and error.marker_tag == sent_marker(fake)
        assert "500" in str(error) and error.status_code == 201
        fake.clear_faults()
        found = await api.list_volumes(tags=[error.marker_tag])
    assert [v.id for v in found] == [v["id"] for v in fake.volumes]
    assert posts(fake) == 1


async def test_unreadable_answer_not_listed_yet_is_outcome_unknown(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A 201 with a garbage body that the listing does not show yet: unknown, not lost."""
    fake.add_fault(Fault("malformed", method="POST"))
    fake.add_fault(Fault("respond", method="GET", status=200, body={"volumes": []}))
    async with make_api(fake, server.base_url) as api:
        with pytest.raises(ResponseDecodeError) as info:
            await api.create_volume(name="data", size=10 * GB)
    assert info.value.outcome_unknown and info.value.marker_tag == sent_marker(fake)
    assert "not visible yet" in str(info.value)
    assert len(fake.volumes) == 1 and posts(fake) == 1


async def test_unreadable_answer_without_marker_is_outcome_unknown(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """create_marker=False: nothing to look up, so the 201 is reported as unknown."""
    fake.add_fault(Fault("malformed", method="POST"))
    async with make_api(fake, server.base_url, create_marker=False) as api:
        with pytest.raises(ResponseDecodeError) as info:
            await api.create_volume(name="data", size=10 * GB)
    assert info.value.outcome_unknown and info.value.marker_tag is None
    assert "cannot be looked up" in str(info.value)
    assert len(fake.volumes) == 1 and posts(fake) == 1


async def test_seed_api_unreadable_answer_is_outcome_unknown() -> None:
    """The seed API lists no tags, so the lookup cannot tell: unknown, with the marker."""
    legacy = FakeScaleway(legacy=True)
    legacy.add_fault(Fault("malformed", method="POST"))
    with legacy.serve() as srv:
        async with make_api(legacy, srv.root_url) as api:
            with pytest.raises(ResponseDecodeError) as info:
                await api.create_volume(name="data", size=10 * GB)
    assert info.value.outcome_unknown and info.value.marker_tag == sent_marker(legacy)
    assert "without tags" in str(info.value)
    assert len(legacy.volumes) == 1 and posts(legacy) == 1
