"""A bulk create cancelled while its ``on_item`` raises (a failed write of the ids):
the callback's error propagates as itself, with ``wait=True`` as without
(docs/block-storage.md, "Callbacks (both calls)")."""

from __future__ import annotations

import asyncio

import pytest

from scaleway_volumes import AsyncBlockAPI, BlockVolumeSpec
from scaleway_volumes.testing import FakeScaleway, Fault


class RecordFailed(Exception):
    pass


@pytest.mark.asyncio
@pytest.mark.parametrize("wait", [False, True])
async def test_callback_error_raised_while_cancelled_call_reports_propagates(wait: bool) -> None:
    # Volumes stay 'creating' for the whole test: with wait=True they are handed
    # to the poller, and the cancellation settles and reports them.
    fake = FakeScaleway(block_create_time=600)
    reported: list[str] = []

    def on_item(index: int, spec: BlockVolumeSpec, outcome: object) -> None:
        reported.append(spec.name)
        raise RecordFailed(f"could not record {spec.name}")

    async with fake.serve() as server:
        api = AsyncBlockAPI(fake.token, base_url=server.block_base_url, project=fake.organization)
        async with api:
            # wait=False: a hung create (the fake holds the request) is in flight when cancelled
            if not wait:
                fake.add_fault(Fault("delay", method="POST", delay=600, times=3))
            specs = [BlockVolumeSpec(f"v{i}", size=10 * 10**9) for i in range(3)]
            task = asyncio.create_task(api.create_volumes(specs, wait=wait, on_item=on_item))
            for _ in range(500):
                await asyncio.sleep(0.01)
                if len(fake.stats.requests) >= 3:
                    break
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(RecordFailed):
                await task
            fake.reset()
    assert sorted(reported) == ["v0", "v1", "v2"]
