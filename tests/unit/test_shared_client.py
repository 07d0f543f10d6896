"""A shared client's failures and settings, over ``MockTransport`` (httpx and httpx2).

What a shared client's transport or hooks raise must become the library's
errors with a truthful "may it have been sent?"; what an httpx2 user naturally
passes (an ``httpx2.Timeout``) must be accepted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from scaleway_volumes import APIConnectionError, AsyncVolumeAPI, RetryPolicy
from scaleway_volumes._validate import timeout_dict

from ..conftest import ORG, TOKEN
from .helpers import HTTP_MODULE_IDS, HTTP_MODULES, volume_json

pytestmark = pytest.mark.usefixtures("no_sleep")
by_module = pytest.mark.parametrize("module", HTTP_MODULES, ids=HTTP_MODULE_IDS)


def answering(module: Any, seen: list[str], fail: Callable[[], None]) -> Any:
    """A ``MockTransport`` whose first POST calls ``fail``; then a create and an empty list."""

    def handle(request: Any) -> Any:
        seen.append(request.method)
        if request.method == "POST":
            if seen.count("POST") == 1:
                fail()
            name = json.loads(request.read())["name"]
            return module.Response(201, json={"volume": volume_json(name=name)})
        return module.Response(200, json={"volumes": []}, headers={"X-Total-Count": "0"})

    return module.MockTransport(handle)


@by_module
@pytest.mark.anyio
async def test_a_not_sent_error_wrapping_another_library_may_have_been_sent(
    module: Any,
) -> None:
    """A "never sent" error a third-party transport raised from its own library's error
    (httpx-aiohttp does so for a server disconnect) is not believed: the create is
    looked up by its marker before it is resent."""
    seen: list[str] = []

    def fail() -> None:
        try:
            raise ConnectionResetError("server disconnected")
        except ConnectionResetError as exc:
            raise module.ConnectError("server disconnected") from exc

    async with module.AsyncClient(transport=answering(module, seen, fail)) as client:
        api = AsyncVolumeAPI(TOKEN, client=client, organization=ORG)
        await api.create_volume(name="x", size=10**10)
    assert seen == ["POST", "GET", "POST"]


@by_module
@pytest.mark.anyio
async def test_a_refused_proxy_is_known_not_sent(module: Any) -> None:
    """A ``ProxyError`` (the proxy refused the CONNECT) never reached the API: a create is
    resent with no marker lookup, and the final error says nothing was made."""
    seen: list[str] = []

    def handle(request: Any) -> Any:
        seen.append(request.method)
        raise module.ProxyError("407 Proxy Authentication Required")

    async with module.AsyncClient(transport=module.MockTransport(handle)) as client:
        api = AsyncVolumeAPI(TOKEN, client=client, organization=ORG, retry=RetryPolicy(1))
        with pytest.raises(APIConnectionError) as info:
            await api.create_volume(name="x", size=10**10)
    assert info.value.outcome_unknown is False
    assert seen == ["POST", "POST"]


async def spend_stream(response: Any) -> None:
    """A response hook that iterates the raw answer, so the client cannot read it."""
    async for _ in response.aiter_raw():
        pass


@by_module
@pytest.mark.anyio
async def test_other_errors_of_the_clients_package_are_library_errors(module: Any) -> None:
    """A hook that spends the answer's stream makes the client raise ``StreamConsumed``
    (neither a ``RequestError`` nor an ``HTTPStatusError``): an ``APIConnectionError``."""
    transport = answering(module, [], lambda: None)
    hooks = {"response": [spend_stream]}
    async with module.AsyncClient(transport=transport, event_hooks=hooks) as client:
        api = AsyncVolumeAPI(TOKEN, client=client, retry=RetryPolicy(0))
        with pytest.raises(APIConnectionError, match="StreamConsumed") as info:
            await api.list_volumes()
    assert info.value.outcome_unknown is False


@by_module
@pytest.mark.anyio
async def test_a_create_failing_with_such_an_error_is_looked_up_before_a_resend(
    module: Any,
) -> None:
    """Nothing says a request failing that way did not leave: a create is checked first."""
    seen: list[str] = []

    async def spend_first_answer(response: Any) -> None:
        if seen == ["POST"]:
            await spend_stream(response)

    transport = answering(module, seen, lambda: None)
    hooks = {"response": [spend_first_answer]}
    async with module.AsyncClient(transport=transport, event_hooks=hooks) as client:
        await AsyncVolumeAPI(TOKEN, client=client, organization=ORG).create_volume(
            name="x", size=10**10
        )
    assert seen == ["POST", "GET", "POST"]


@pytest.mark.anyio
async def test_an_httpx2_timeout_reaches_every_request() -> None:
    """``timeout=httpx2.Timeout(...)`` (natural beside an httpx2 client) is taken, as an
    ``httpx.Timeout`` is, in the constructor and in ``with_options``."""
    httpx2 = pytest.importorskip("httpx2")
    timeouts: list[dict[str, float | None]] = []

    async def record(request: Any) -> None:
        timeouts.append(request.extensions["timeout"])

    def handle(request: Any) -> Any:
        return httpx2.Response(200, json={"volumes": []}, headers={"X-Total-Count": "0"})

    hooks = {"request": [record]}
    transport = httpx2.MockTransport(handle)
    async with httpx2.AsyncClient(transport=transport, event_hooks=hooks) as client:
        api = AsyncVolumeAPI(TOKEN, client=client, timeout=httpx2.Timeout(10.0, connect=2.0))
        await api.list_volumes()
        await api.with_options(timeout=httpx2.Timeout(3.0)).list_volumes()
    assert timeouts == [
        {"connect": 2.0, "read": 10.0, "write": 10.0, "pool": 10.0},
        dict.fromkeys(("connect", "read", "write", "pool"), 3.0),
    ]


def test_an_httpx2_timeout_is_checked_part_by_part() -> None:
    """An ``httpx2.Timeout`` is checked as an ``httpx.Timeout`` is: zero names its part."""
    httpx2 = pytest.importorskip("httpx2")
    with pytest.raises(ValueError, match=r"timeout\.pool must be a positive"):
        timeout_dict(httpx2.Timeout(5.0, pool=0.0))
    assert timeout_dict(httpx2.Timeout(None)) == dict.fromkeys(("connect", "read", "write", "pool"))


def test_a_timeout_of_another_kind_is_refused() -> None:
    """Anything but seconds or a ``Timeout`` of httpx or httpx2 is a TypeError."""
    with pytest.raises(TypeError, match=r"httpx\.Timeout \(or httpx2\.Timeout\)"):
        timeout_dict(httpx.Limits())
