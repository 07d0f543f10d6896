"""The Instance clients of ``run.py``: one ``Adapter`` per client, and ``make_adapter``.

Every client makes the same requests (``_common.Adapter``); the Block Storage
clients of the ``block-*`` scenarios are in ``_block.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from _block import BlockAiohttpAdapter, BlockAiohttpWaitAdapter, BlockScalewayVolumesAdapter
from _common import ORG, SIZE, TOKEN, WARM_UP_NAME, ZONE, Adapter, aiohttp_get_json
from _scenarios import BLOCK_SCENARIOS


def create_body(i: int) -> dict[str, Any]:
    """The raw clients' ``i``-th Instance create: the library's fields, without its marker tag."""
    return {
        "name": f"bench-{i}",
        "organization": ORG,
        "size": SIZE,
        "volume_type": "l_ssd",
        "tags": ["bench"],
    }


async def list_pages(
    get_json: Callable[..., Awaitable[tuple[Any, Any]]], url: str, per_page: int
) -> list[Any]:
    """Every volume of the Instance listing at ``url``, page by page until ``X-Total-Count``
    (both raw clients' headers are case-insensitive)."""
    volumes: list[Any] = []
    page = 1
    while True:
        params = {"page": str(page), "per_page": str(per_page)}
        body, headers = await get_json(url, params)
        volumes.extend(body["volumes"])
        if len(volumes) >= int(headers["X-Total-Count"]) or not body["volumes"]:
            return volumes
        page += 1


class ScalewayVolumesAdapter(Adapter):
    def __init__(self, base_url: str) -> None:
        from scaleway_volumes import AsyncVolumeAPI

        self.api = AsyncVolumeAPI(TOKEN, base_url=base_url, organization=ORG)

    async def close(self) -> None:
        await self.api.aclose()

    async def warm_up(self) -> None:
        await self.api.list_volumes(per_page=1, name=WARM_UP_NAME)

    async def get(self, volume_id: str) -> Any:
        return await self.api.get_volume(volume_id)

    async def create(self, i: int) -> Any:
        return await self.api.create_volume(name=f"bench-{i}", size=SIZE, tags=["bench"])

    async def list_all(self, per_page: int) -> list[Any]:
        return await self.api.list_volumes(per_page=per_page)

    async def create_many(self, indices: Iterable[int], concurrency: int) -> list[Any]:
        from scaleway_volumes import VolumeSpec

        specs = (VolumeSpec(name=f"bench-{i}", size=SIZE, tags=("bench",)) for i in indices)
        result = await self.api.create_volumes(specs, concurrency=concurrency)
        self.throttled = result.throttled
        if result.failed:
            raise RuntimeError(f"{len(result.failed)} creates failed: {result.failed[0][1]}")
        return result.succeeded


class HttpxAdapter(Adapter):
    """Raw ``httpx.AsyncClient``, stock transport or httpx-aiohttp's, + ``json.loads``."""

    def __init__(self, base_url: str, *, over_aiohttp: bool) -> None:
        self.base_url = base_url
        self.over_aiohttp = over_aiohttp
        self.headers = {"X-Auth-Token": TOKEN}

    async def start(self) -> None:
        import httpx

        if self.over_aiohttp:
            from httpx_aiohttp import AiohttpTransport

            self.client = httpx.AsyncClient(transport=AiohttpTransport())
        else:
            self.client = httpx.AsyncClient()  # default limits, as a user would

    async def close(self) -> None:
        await self.client.aclose()

    async def _get_json(self, url: str, params: Any = None) -> tuple[Any, Any]:
        response = await self.client.get(url, params=params, headers=self.headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        return json.loads(response.content), response.headers

    async def warm_up(self) -> None:
        params = {"name": WARM_UP_NAME, "page": "1", "per_page": "1"}
        await self._get_json(self.base_url + "/volumes", params)

    async def get(self, volume_id: str) -> Any:
        return (await self._get_json(f"{self.base_url}/volumes/{volume_id}"))[0]["volume"]

    async def create(self, i: int) -> Any:
        response = await self.client.post(
            self.base_url + "/volumes",
            content=json.dumps(create_body(i)).encode(),
            headers={**self.headers, "Content-Type": "application/json"},
        )
        if response.status_code != 201:
            raise RuntimeError(f"POST: {response.status_code}")
        return json.loads(response.content)["volume"]

    async def list_all(self, per_page: int) -> list[Any]:
        return await list_pages(self._get_json, self.base_url + "/volumes", per_page)


class AiohttpAdapter(Adapter):
    """Raw ``aiohttp.ClientSession`` (default connector: 100 connections) + ``json.loads``."""

    def __init__(self, base_url: str, *, retry_429: bool = False) -> None:
        self.base_url = base_url
        self.headers = {"X-Auth-Token": TOKEN}
        self.post_headers = {**self.headers, "Content-Type": "application/json"}
        self.retry_429 = retry_429

    async def start(self) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession()

    async def close(self) -> None:
        await self.session.close()

    async def _get_json(self, url: str, params: Any = None) -> tuple[Any, Any]:
        return await aiohttp_get_json(self.session, url, params, self.headers)

    async def warm_up(self) -> None:
        params = {"name": WARM_UP_NAME, "page": "1", "per_page": "1"}
        await self._get_json(self.base_url + "/volumes", params)

    async def get(self, volume_id: str) -> Any:
        return (await self._get_json(f"{self.base_url}/volumes/{volume_id}"))[0]["volume"]

    async def create(self, i: int) -> Any:
        data = json.dumps(create_body(i)).encode()
        while True:
            async with self.session.post(
                self.base_url + "/volumes", data=data, headers=self.post_headers
            ) as response:
                body = await response.read()
                status = response.status
            if status == 201:
                return json.loads(body)["volume"]
            if status == 429 and self.retry_429:
                # The naive baseline: no backoff, no pacing, a fixed 50 ms sleep.
                self.throttled += 1
                await asyncio.sleep(0.05)
                continue
            raise RuntimeError(f"POST: {status}")

    async def list_all(self, per_page: int) -> list[Any]:
        return await list_pages(self._get_json, self.base_url + "/volumes", per_page)


class OfficialSDKAdapter(Adapter):
    """scaleway-async: ``async def`` methods that block on ``requests``."""

    def __init__(self, base_url: str) -> None:
        import scaleway_async
        from scaleway_async.instance.v1 import InstanceV1API, VolumeVolumeType

        root = base_url.split("/instance/v1/zones/")[0]
        client = scaleway_async.Client(
            access_key="SCWXXXXXXXXXXXXXXXXX",
            secret_key=TOKEN,
            default_organization_id=ORG,
            default_project_id=ORG,
            default_zone=ZONE,
            api_url=root,
        )
        self.api = InstanceV1API(client)
        self.l_ssd = VolumeVolumeType.L_SSD

    async def warm_up(self) -> None:
        await self.api.list_volumes(per_page=1, page=1, name=WARM_UP_NAME)

    async def get(self, volume_id: str) -> Any:
        return (await self.api.get_volume(volume_id=volume_id)).volume

    async def create(self, i: int) -> Any:
        response = await self.api.create_volume(
            name=f"bench-{i}", volume_type=self.l_ssd, size=SIZE, tags=["bench"]
        )
        return response.volume

    async def list_all(self, per_page: int) -> list[Any]:
        return await self.api.list_volumes_all(per_page=per_page)


def make_adapter(client: str, base_url: str, scenario: str) -> Adapter:
    """The client ``client`` for ``scenario``; ``base_url`` is the Block URL for block-*."""
    if scenario in BLOCK_SCENARIOS:
        if client == "scaleway-volumes":
            return BlockScalewayVolumesAdapter(base_url, wait=scenario == "block-wait")
        if client == "aiohttp":
            wait = scenario == "block-wait"
            return BlockAiohttpWaitAdapter(base_url) if wait else BlockAiohttpAdapter(base_url)
        raise ValueError(f"no {client!r} client for {scenario!r}")
    if client == "scaleway-volumes":
        return ScalewayVolumesAdapter(base_url)
    if client == "httpx+aiohttp":
        return HttpxAdapter(base_url, over_aiohttp=True)
    if client == "httpx":
        return HttpxAdapter(base_url, over_aiohttp=False)
    if client == "aiohttp":
        return AiohttpAdapter(base_url, retry_429=scenario == "rate-limited")
    if client == "official-sdk":
        return OfficialSDKAdapter(base_url)
    raise ValueError(f"unknown client {client!r}")
