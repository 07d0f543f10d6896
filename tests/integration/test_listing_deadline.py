"""``deadline`` bounds a whole ``list_*`` call, every page included; ``iter_*`` each page.

Most run under trio on a ``MockClock`` that jumps ahead whenever every task waits,
with the fake served in-process: the fake's latency is virtual time, so these tests
take no wall time and cannot flake on a busy host. The asyncio one holds a page for
good instead, so that only the deadline can end the call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import pytest
from trio.testing import MockClock

from scaleway_volumes import APITimeoutError, AsyncBlockAPI, AsyncVolumeAPI
from scaleway_volumes._hints import hint
from scaleway_volumes.testing import FakeScaleway, FakeServer, Fault

GB = 1_000_000_000
PAGES = 5
LATENCY = 0.4  # each page's answer: well within the deadline
DEADLINE = 1.0  # ... which the five pages together overrun

pytestmark = pytest.mark.anyio

virtual_time = pytest.mark.parametrize(
    "anyio_backend",
    [pytest.param(("trio", {"clock": MockClock(autojump_threshold=0)}), id="trio-mockclock")],
)


def block_api(fake: FakeScaleway, **kwargs: Any) -> AsyncBlockAPI:
    return AsyncBlockAPI(
        fake.token,
        base_url=fake.block_base_url,
        organization=fake.organization,
        client=fake.client(),
        **kwargs,
    )


def instance_api(fake: FakeScaleway, **kwargs: Any) -> AsyncVolumeAPI:
    return AsyncVolumeAPI(
        fake.token,
        base_url=fake.base_url,
        organization=fake.organization,
        client=fake.client(),
        **kwargs,
    )


def arrange(fake: FakeScaleway) -> None:
    """Five of each resource: five pages of one."""
    for i in range(PAGES):
        volume = fake.block.add_volume(name=f"v{i}")
        fake.block.add_snapshot(volume["id"], name=f"s{i}")
        fake.add_volume(name=f"i{i}")


Listing = Callable[[Any], Awaitable[list[Any]]]

LISTINGS: dict[str, tuple[Callable[..., Any], Listing]] = {
    "block-volumes": (block_api, lambda api: api.list_volumes(per_page=1)),
    "block-snapshots": (block_api, lambda api: api.list_snapshots(per_page=1)),
    "instance-volumes": (instance_api, lambda api: api.list_volumes(per_page=1)),
}


@virtual_time
@pytest.mark.parametrize("listing", sorted(LISTINGS))
async def test_the_deadline_bounds_all_pages_of_a_list_call_together(
    fake: FakeScaleway, listing: str
) -> None:
    """Five pages of 0.4 s each under a 1 s deadline: the call ends at 1 s, saying
    how far it got (two pages), instead of returning after 2 s."""
    arrange(fake)
    make, call = LISTINGS[listing]
    fake.latency = LATENCY
    async with make(fake, deadline=DEADLINE) as api:
        started = anyio.current_time()
        with pytest.raises(APITimeoutError) as caught:
            await call(api)
        assert anyio.current_time() - started == pytest.approx(DEADLINE, abs=0.1)
        message = str(caught.value)
        assert f"within the {DEADLINE:g} s deadline" in message
        assert "(2 page(s), 2 item(s) fetched; more were due)" in message
        # Pages were coming: the advice is about the listing's length, not the network.
        assert "more pages than its deadline allowed" in (hint(caught.value) or "")
        assert not caught.value.outcome_unknown
        # A copy's deadline is its own, and none means all pages, however long.
        assert len(await call(api.with_options(deadline=None))) == PAGES
        assert len(await call(api.with_options(deadline=PAGES * LATENCY + 1))) == PAGES


@virtual_time
async def test_the_deadline_bounds_list_volume_types_as_one_call(fake: FakeScaleway) -> None:
    fake.add_fault(Fault("delay", method="GET", path="/volume-types", delay=5.0))
    async with block_api(fake, deadline=DEADLINE) as api:
        with pytest.raises(APITimeoutError, match=r"\(0 page\(s\), 0 item\(s\) fetched\)"):
            await api.list_volume_types()
        assert await api.list_volume_types()  # the fault was for one request


@virtual_time
@pytest.mark.parametrize(
    ("make", "iterate"),
    [
        (block_api, lambda api: api.iter_volumes(per_page=1)),
        (block_api, lambda api: api.iter_snapshots(per_page=1)),
        (instance_api, lambda api: api.iter_volumes(per_page=1)),
    ],
    ids=["block-volumes", "block-snapshots", "instance-volumes"],
)
async def test_an_iterator_bounds_each_page_not_the_time_between_them(
    fake: FakeScaleway, make: Callable[..., Any], iterate: Callable[[Any], Any]
) -> None:
    """``iter_*`` hands each page over as it comes: the deadline bounds each page's
    request, and the caller's own time between pages is not counted."""
    arrange(fake)
    fake.latency = LATENCY
    async with make(fake, deadline=DEADLINE) as api:
        seen = 0
        async for _ in iterate(api):
            seen += 1
            await anyio.sleep(DEADLINE)  # the caller's work, between pages
        assert seen == PAGES
        fake.latency = DEADLINE + 1  # one page over the deadline
        with pytest.raises(APITimeoutError, match="attempt"):
            async for _ in iterate(api):
                pass


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_on_asyncio_a_list_call_ends_at_its_deadline_saying_how_far_it_got(
    fake: FakeScaleway, server: FakeServer
) -> None:
    """The owned pool over TCP, asyncio's shared deadline timers: two pages come at
    once, the third never does. The call's deadline ends it, with the count."""
    arrange(fake)
    fake.add_fault(Fault("delay", method="GET", path="/volumes$", delay=0, times=2))
    fake.add_fault(Fault("delay", method="GET", path="/volumes$", delay=60, times=None))
    api = AsyncBlockAPI(
        fake.token, base_url=server.block_base_url, organization=fake.organization, deadline=0.3
    )
    try:
        with pytest.raises(APITimeoutError) as caught:
            await api.list_volumes(per_page=1)
    finally:
        fake.reset()  # forget the held answer
        await api.aclose()
    assert "(2 page(s), 2 item(s) fetched; more were due)" in str(caught.value), str(caught.value)
