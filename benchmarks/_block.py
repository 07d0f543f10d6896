"""The Block Storage clients of ``run.py``'s ``block-bulk`` and ``block-wait`` scenarios.

Both create empty Block volumes (``POST /volumes`` on the Block API, answered 200
with the bare volume, usually ``creating``) with the same body: the library's
``create_volumes(BlockVolumeSpec(...))`` and raw aiohttp with a fixed pool of
workers. The library's body carries one more tag, its create marker
(``scaleway-volumes:create=<32 hex>``): the price of creates that never duplicate.

For ``block-wait``, raw aiohttp is a floor, not a rival: it creates, then polls
every volume not yet ``available`` (100 ids per request, all requests side by
side), each round 10 ms after the answers of the one before, until none is left.
A round takes a round trip (20 ms: the fake sleeps, then reads the state), so it
sees the last volume ready up to about 30 ms after it (16.7 ms at the median of
five runs, 5-50 ms), and spends requests for that; the library polls at about
the age volumes become ready, within 1.5 requests per volume in all.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable
from typing import Any

from _common import ORG, SIZE, TOKEN, WARM_UP_NAME, Adapter, aiohttp_get_json

__all__ = [
    "BlockAiohttpAdapter",
    "BlockAiohttpWaitAdapter",
    "BlockScalewayVolumesAdapter",
    "block_create_body",
]

# The raw floor's poll: 100 ids per request (the API's page size), 10 ms after each round.
POLL_BATCH = 100
POLL_EVERY = 0.010
# A floor that never sees its volumes ready says so instead of polling forever.
POLL_FOR = 30.0


def block_create_body(i: int) -> dict[str, Any]:
    """The JSON body of the ``i``-th create, as the library sends it (minus its marker tag)."""
    return {
        "name": f"bench-{i}",
        "project_id": ORG,
        "from_empty": {"size": SIZE},
        "tags": ["bench"],
    }


class BlockScalewayVolumesAdapter(Adapter):
    """``AsyncBlockAPI.create_volumes``, default settings; ``wait=True`` for ``block-wait``."""

    def __init__(self, base_url: str, *, wait: bool) -> None:
        from scaleway_volumes import AsyncBlockAPI

        self.api = AsyncBlockAPI(TOKEN, base_url=base_url, organization=ORG)
        self.wait = wait

    async def close(self) -> None:
        await self.api.aclose()

    async def warm_up(self) -> None:
        await self.api.list_volumes(per_page=1, name=WARM_UP_NAME)

    async def create_many(self, indices: Iterable[int], concurrency: int) -> list[Any]:
        from scaleway_volumes import BlockVolumeSpec

        specs = (BlockVolumeSpec(name=f"bench-{i}", size=SIZE, tags=("bench",)) for i in indices)
        result = await self.api.create_volumes(specs, concurrency=concurrency, wait=self.wait)
        self.throttled = result.throttled
        if result.failed:
            raise RuntimeError(f"{len(result.failed)} creates failed: {result.failed[0][1]}")
        if self.wait:
            states = {volume.status for volume in result.succeeded}
            if states != {"available"}:
                raise RuntimeError(f"wait=True returned volumes in states {sorted(states)}")
        return result.succeeded


class BlockAiohttpAdapter(Adapter):
    """Raw ``aiohttp.ClientSession`` (default connector: 100 connections) + ``json.loads``."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.headers = {"X-Auth-Token": TOKEN}
        self.post_headers = {**self.headers, "Content-Type": "application/json"}

    async def start(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.session.close()

    async def warm_up(self) -> None:
        params = {"name": WARM_UP_NAME, "page": "1", "page_size": "1"}
        await aiohttp_get_json(self.session, self.base_url + "/volumes", params, self.headers)

    async def create(self, i: int) -> Any:
        data = json.dumps(block_create_body(i)).encode()
        async with self.session.post(
            self.base_url + "/volumes", data=data, headers=self.post_headers
        ) as response:
            body = await response.read()
            if response.status != 200:
                raise RuntimeError(f"POST: {response.status} {body[:200]!r}")
        return json.loads(body)


class BlockAiohttpWaitAdapter(BlockAiohttpAdapter):
    """Raw aiohttp creates, then polls 100 ids per request, 10 ms after each round's answers:
    ``block-wait``'s floor."""

    async def create_many(self, indices: Iterable[int], concurrency: int) -> list[Any]:
        created = await super().create_many(indices, concurrency)
        pending = [volume["id"] for volume in created]
        ready: dict[str, Any] = {}
        give_up = time.monotonic() + POLL_FOR
        while pending:
            if time.monotonic() > give_up:
                raise RuntimeError(f"{len(pending)} volumes not available after {POLL_FOR:g} s")
            batches = [pending[i : i + POLL_BATCH] for i in range(0, len(pending), POLL_BATCH)]
            for page in await asyncio.gather(*(self._list(batch) for batch in batches)):
                for volume in page:
                    if volume["status"] == "available":
                        ready[volume["id"]] = volume
            pending = [volume_id for volume_id in pending if volume_id not in ready]
            if pending:
                await asyncio.sleep(POLL_EVERY)
        return [ready[volume["id"]] for volume in created]

    async def _list(self, volume_ids: list[str]) -> list[Any]:
        params = [("volume_ids", volume_id) for volume_id in volume_ids]
        params.append(("page_size", str(POLL_BATCH)))
        url = self.base_url + "/volumes"
        page, _ = await aiohttp_get_json(self.session, url, params, self.headers)
        volumes: list[Any] = page["volumes"]
        return volumes
