"""create_marker=False: no tag on creates; ambiguous failures end as outcome unknown."""

from __future__ import annotations

import httpx
import pytest

from scaleway_volumes import (
    APIConnectionError,
    APITimeoutError,
    AsyncVolumeAPI,
    ServerError,
    VolumeSpec,
)
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]

GB = 1_000_000_000


def make_api(fake: FakeScaleway, server: FakeServer, **kwargs: object) -> AsyncVolumeAPI:
    kwargs.setdefault("timeout", httpx.Timeout(2.0, connect=1.0))
    return AsyncVolumeAPI(
        fake.token,
        base_url=server.base_url,
        organization=fake.organization,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_no_marker_no_tag(fake: FakeScaleway, server: FakeServer) -> None:
    """Without the marker, a create sends only the caller's tags."""
    async with make_api(fake, server, create_marker=False) as api:
        await api.create_volume(name="plain", size=10 * GB)
        await api.create_volume(name="tagged", size=10 * GB, tags=["db"])
    bodies = [r.json() for r in fake.stats.requests if r.method == "POST"]
    assert "tags" not in bodies[0]
    assert bodies[1]["tags"] == ["db"]
    assert [v["tags"] for v in fake.volumes] == [[], ["db"]]


async def test_ambiguous_failure_without_marker_is_outcome_unknown(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A drop after the API acted is never checked nor resent: outcome unknown, one volume."""
    fake.add_fault(Fault("act_then_drop", method="POST"))
    async with make_api(fake, server, create_marker=False) as api:
        with pytest.raises(APIConnectionError) as info:
            await api.create_volume(name="data", size=10 * GB)
    assert info.value.outcome_unknown is True and info.value.marker_tag is None
    assert "cannot be looked up" in str(info.value)
    assert len(fake.volumes) == 1
    assert [r.method for r in fake.stats.requests] == ["POST"]


async def test_drop_without_marker_is_no_timeout(fake: FakeScaleway, server: FakeServer) -> None:
    """A dropped connection keeps its class (nothing timed out) and is named once."""
    fake.add_fault(Fault("act_then_drop", method="POST"))
    async with make_api(fake, server, create_marker=False) as api:
        with pytest.raises(APIConnectionError) as info:
            await api.create_volume(name="data", size=10 * GB)
    assert not isinstance(info.value, APITimeoutError), repr(info.value)
    assert str(info.value).count("Server disconnected") == 1
    assert str(info.value).count("[POST /volumes]") == 1


async def test_read_timeout_without_marker_is_a_timeout(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A create that outlives the read timeout: APITimeoutError, outcome unknown, no resend."""
    fake.add_fault(Fault("delay", method="POST", delay=2.0))
    api = make_api(fake, server, create_marker=False, timeout=httpx.Timeout(0.3, connect=1.0))
    async with api:
        with pytest.raises(APITimeoutError) as info:
            await api.create_volume(name="data", size=10 * GB)
    assert info.value.outcome_unknown is True and info.value.marker_tag is None
    assert [r.method for r in fake.stats.requests] == ["POST"]


async def test_502_without_marker_keeps_the_server_error(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """A 502 after acting is reported as the server error, marked outcome unknown."""
    fake.add_fault(Fault("act_then_error", method="POST", status=502))
    async with make_api(fake, server).with_options(create_marker=False) as api:
        with pytest.raises(ServerError) as info:
            await api.create_volume(name="data", size=10 * GB)
    assert info.value.outcome_unknown is True and info.value.status_code == 502
    assert len(fake.volumes) == 1


async def test_bulk_without_marker(fake: FakeScaleway, server: FakeServer) -> None:
    """Bulk creates work without markers; a refused connection is still resent safely."""
    specs = [VolumeSpec(name=f"v{i}", size=10 * GB) for i in range(5)]
    async with make_api(fake, server, create_marker=False) as api:
        result = await api.create_volumes(specs, concurrency=2)
    assert result.ok and len(fake.volumes) == 5
    assert all(v["tags"] == [] for v in fake.volumes)
