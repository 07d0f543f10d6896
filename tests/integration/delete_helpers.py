"""Helpers of the delete tests: the fake in process, with DELETE answers held at will,
and waits that move the fake's clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import httpx

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI
from scaleway_volumes.testing import FakeScaleway, ManualClock


class Waits(list[float]):
    """``set_testing``'s record: each wait of the library moves ``clock`` by its
    length (the fake's states change as if the time had passed) and calls ``then``."""

    def __init__(self, clock: ManualClock | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.then: Callable[[], object] = lambda: None

    def append(self, seconds: float) -> None:
        """Record a wait of ``seconds``."""
        super().append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)
        self.then()


class Gate(httpx.AsyncBaseTransport):
    """The fake in process; after the first ``skip`` DELETEs, the next ``hold`` are held
    until ``release()`` (``act``: the fake has acted on them meanwhile; else it never
    sees them)."""

    def __init__(
        self, fake: FakeScaleway, *, hold: int = 1, act: bool = True, skip: int = 0
    ) -> None:
        self.inner = fake.transport()
        self.hold = hold
        self.skip = skip
        self.act = act
        self.held = 0
        self._release: anyio.Event | None = None
        self._arrived: anyio.Event | None = None

    def _events(self) -> tuple[anyio.Event, anyio.Event]:
        if self._release is None or self._arrived is None:
            self._release, self._arrived = anyio.Event(), anyio.Event()
        return self._release, self._arrived

    def release(self) -> None:
        """Let the held DELETEs' answers through."""
        self._events()[0].set()

    async def arrived(self) -> None:
        """Return once ``hold`` DELETEs are held."""
        await self._events()[1].wait()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Answer from the fake, holding the first DELETEs."""
        if request.method != "DELETE" or self.held >= self.hold:
            return await self.inner.handle_async_request(request)
        if self.skip:
            self.skip -= 1
            return await self.inner.handle_async_request(request)
        release, arrived = self._events()
        self.held += 1
        response = await self.inner.handle_async_request(request) if self.act else None
        if self.held == self.hold:
            arrived.set()
        await release.wait()
        if response is None:
            raise httpx.RemoteProtocolError("held, then dropped", request=request)
        return response


class ActThenDrop(Gate):
    """The first DELETE reaches the fake (which deletes); its answer is held until
    ``release()``, then lost (the connection dropped)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """As ``Gate``, but the held answer never comes: ``RemoteProtocolError``."""
        if request.method != "DELETE" or self.held >= self.hold:
            return await self.inner.handle_async_request(request)
        release, arrived = self._events()
        self.held += 1
        await self.inner.handle_async_request(request)
        arrived.set()
        await release.wait()
        raise httpx.RemoteProtocolError("acted, then dropped", request=request)


def client(fake: FakeScaleway, transport: httpx.AsyncBaseTransport | None = None) -> Any:
    """An ``httpx.AsyncClient`` on the fake in process (through ``transport``)."""
    return httpx.AsyncClient(
        transport=transport or fake.transport(), headers={"X-Auth-Token": str(fake.token)}
    )


def api_of(kind: str, fake: FakeScaleway, http: httpx.AsyncClient, **kwargs: Any) -> Any:
    """The Block (``kind == "block"``) or Instance API on the fake, sharing ``http``."""
    if kind == "block":
        return AsyncBlockAPI(
            fake.token,
            base_url=fake.block_base_url,
            project=fake.organization,
            client=http,
            **kwargs,
        )
    return AsyncVolumeAPI(
        fake.token, base_url=fake.base_url, organization=fake.organization, client=http, **kwargs
    )


def volume_of(kind: str, fake: FakeScaleway, name: str = "v") -> str:
    """The id of a new stored volume of the ``kind`` API."""
    if kind == "block":
        return str(fake.block.add_volume(name)["id"])
    return str(fake.add_volume(name, 10**10)["id"])


class Outcomes(dict[int, object]):
    """``on_item``: each item's outcome by input index."""

    def __call__(self, index: int, item: object, outcome: object) -> None:
        assert index not in self, f"item {index} reported twice"
        self[index] = outcome


def block_status(fake: FakeScaleway, volume_id: str) -> str | None:
    """The stored Block volume's status (None once gone)."""
    volume = fake.block.get_volume(volume_id)
    return None if volume is None else str(volume["status"])
