"""409 transient_state: PATCH and DELETE wait for the resource to settle; a create does not."""

from __future__ import annotations

import uuid

import httpx
import pytest
import respx

from scaleway_volumes import RetryPolicy, TransientStateError

from ..conftest import BASE
from .helpers import make_api, volume_json

VID = str(uuid.uuid4())
BUSY = httpx.Response(
    409,
    json={
        "type": "transient_state",
        "message": "resource is in a transient state",
        "resource": "instance_volume",
        "resource_id": VID,
        "current_state": "resizing",
    },
)

pytestmark = pytest.mark.anyio


async def test_patch_waits_through_transient_states(no_sleep: list[float]) -> None:
    """A PATCH meeting 409 transient_state is resent after backoff until it lands."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        done = httpx.Response(200, json={"volume": volume_json(id=VID, name="renamed")})
        route = mock.patch(f"/volumes/{VID}").mock(side_effect=[BUSY, BUSY, BUSY, BUSY, done])
        # More settle waits than max_retries allows retries: they do not count as retries.
        api = make_api(retry=RetryPolicy(max_retries=1))
        volume = await api.update_volume(VID, name="renamed")
    assert volume.name == "renamed" and route.call_count == 5
    assert len(no_sleep) == 4


async def test_delete_waits_through_transient_states(no_sleep: list[float]) -> None:
    """A DELETE meeting 409 transient_state is resent once the resource settles."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        route = mock.delete(f"/volumes/{VID}").mock(side_effect=[BUSY, httpx.Response(204)])
        await make_api().delete_volume(VID)
    assert route.call_count == 2 and len(no_sleep) == 1


@pytest.mark.usefixtures("no_sleep")
async def test_create_meeting_transient_state_is_not_resent() -> None:
    """A create is not waited through: the caller learns the current state at once."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        route = mock.post("/volumes").mock(return_value=BUSY)
        with pytest.raises(TransientStateError) as info:
            await make_api().create_volume(name="v", size=10**10)
    assert route.call_count == 1 and info.value.current_state == "resizing"


@pytest.mark.usefixtures("no_sleep")
async def test_retries_off_means_no_settle_waits() -> None:
    """RetryPolicy(max_retries=0) turns the settle waits off too."""
    with respx.mock(base_url=BASE, using="httpx") as mock:
        route = mock.delete(f"/volumes/{VID}").mock(return_value=BUSY)
        with pytest.raises(TransientStateError):
            await make_api(retry=RetryPolicy(max_retries=0)).delete_volume(VID)
    assert route.call_count == 1


async def test_a_resource_that_never_settles_ends_at_the_deadline() -> None:
    """The deadline bounds the waits: an APITimeoutError, not an endless loop."""
    from scaleway_volumes import APITimeoutError

    with respx.mock(base_url=BASE, using="httpx") as mock:
        mock.delete(f"/volumes/{VID}").mock(return_value=BUSY)
        api = make_api(deadline=0.3, retry=RetryPolicy(backoff_initial=1.0, backoff_max=1.0))
        with pytest.raises(APITimeoutError):
            await api.delete_volume(VID)
