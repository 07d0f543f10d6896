"""The `scaleway_volumes` logger: method, path, status, attempt; never the token."""

from __future__ import annotations

import logging
import uuid

import httpx
import pytest
import respx

from ..conftest import BASE, TOKEN
from .helpers import make_api, volume_json

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("no_sleep")]


async def test_debug_log_lines_and_no_token(caplog: pytest.LogCaptureFixture) -> None:
    """Each attempt logs at DEBUG, retries at INFO; no record mentions the token."""
    vid = str(uuid.uuid4())
    caplog.set_level(logging.DEBUG)
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/volumes/{vid}").mock(
            side_effect=[httpx.Response(503), httpx.Response(200, json={"volume": volume_json()})]
        )
        mock.post("/volumes").respond(400, json={"type": "invalid_request_error"})
        api = make_api()
        await api.get_volume(vid)
        with pytest.raises(Exception) as info:
            await api.create_volume(name="v", size=1)
    ours = [r for r in caplog.records if r.name == "scaleway_volumes"]
    messages = [r.getMessage() for r in ours]
    path = f"/instance/v1/zones/fr-par-1/volumes/{vid}"
    assert f"GET {path} -> 503 (attempt 1" in messages[0]
    assert any(m.startswith(f"retrying GET {path} in ") for m in messages)
    assert any(f"GET {path} -> 200 (attempt 2" in m for m in messages)
    assert any("POST /instance/v1/zones/fr-par-1/volumes -> 400" in m for m in messages)
    for record in caplog.records:
        assert TOKEN not in record.getMessage()
        assert TOKEN not in str(record.args)
    assert TOKEN not in str(info.value) and TOKEN not in repr(info.value)


async def test_nothing_logged_above_debug_on_success(caplog: pytest.LogCaptureFixture) -> None:
    """A plain success logs nothing at INFO or above."""
    caplog.set_level(logging.INFO, logger="scaleway_volumes")
    vid = str(uuid.uuid4())
    with respx.mock(base_url=BASE) as mock:
        mock.get(f"/volumes/{vid}").respond(200, json={"volume": volume_json()})
        await make_api().get_volume(vid)
    assert not [r for r in caplog.records if r.name == "scaleway_volumes"]
