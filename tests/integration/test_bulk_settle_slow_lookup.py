"""A bulk create cancelled while its marker lookups are slow (a project of many
volumes) still reports each in-flight item's marker tag, to look for later."""

from __future__ import annotations

from functools import partial

import pytest

from scaleway_volumes import APIConnectionError, VolumeSpec
from scaleway_volumes._bulk import SETTLE_TIMEOUT
from scaleway_volumes._constants import MARKER_TAG_PREFIX
from scaleway_volumes._create import LOOKUP_TIMEOUT
from scaleway_volumes.testing import FakeScaleway, Fault

from ..waiting import cancel_once
from .conftest import ApiFactory

GB = 10**9


def test_the_lookup_ends_before_the_settling_does() -> None:
    """Else the bulk call's own timeout ends the lookup, and its bare error wins."""
    assert 0 < LOOKUP_TIMEOUT < SETTLE_TIMEOUT


@pytest.mark.anyio
async def test_a_slow_lookup_still_reports_the_marker(fake: FakeScaleway, api: ApiFactory) -> None:
    concurrency = 4
    # The first wave of creates is answered; every later one, and every marker
    # lookup, is held back for good.
    fake.add_fault(Fault("delay", method="POST", times=concurrency))
    fake.add_fault(Fault("delay", method="POST", delay=30.0, times=None))
    fake.add_fault(Fault("delay", method="GET", delay=30.0, times=None))
    reported: dict[int, object] = {}
    specs = [VolumeSpec(f"slow{i}", 10 * GB) for i in range(20)]
    async with api() as client:
        await cancel_once(
            lambda: sum(r.method == "POST" for r in fake.stats.requests) >= 2 * concurrency,
            partial(
                client.create_volumes,
                specs,
                concurrency=concurrency,
                on_item=lambda index, item, outcome: reported.__setitem__(index, outcome),
            ),
        )
    unknown = [o for o in reported.values() if isinstance(o, APIConnectionError)]
    assert len(reported) == 2 * concurrency
    assert len(unknown) == concurrency
    for error in unknown:
        assert error.outcome_unknown
        assert (error.marker_tag or "").startswith(MARKER_TAG_PREFIX), error
        assert "it carries the tag" in str(error)
