"""The secret key never shows in an error's ``__cause__`` chain.

The transport's errors are kept as causes for debugging, and they keep the request:
aiohttp's ``ClientResponseError`` its headers in ``request_info``, httpx's errors the
``httpx.Request``, whose headers' repr masks ``Authorization`` only.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from scaleway_volumes import APIConnectionError, AsyncVolumeAPI, RetryPolicy

pytestmark = pytest.mark.anyio

TOKEN = "5ec2e7ab-dead-4bee-8f00-c0ffee5ec2e7"
VID = "95e464c3-0ce1-4e89-b8f2-f36f35fad35b"


@pytest.fixture
def malformed_server() -> Iterator[str]:
    """A server that reads each request and answers a status line no client can parse."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    # A closed socket does not wake a thread blocked in accept(): it polls a flag.
    sock.settimeout(0.05)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 abc\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/instance/v1/zones/fr-par-1"
    stop.set()
    thread.join()
    sock.close()


def chain(error: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        yield error
        error = error.__cause__ or error.__context__


def assert_no_token(error: BaseException) -> None:
    causes = list(chain(error))
    assert len(causes) > 1, "the transport's error is kept as the cause"
    for cause in causes:
        assert TOKEN not in repr(cause) and TOKEN not in str(cause), type(cause)
        assert TOKEN not in repr(getattr(cause, "request_info", None))
    transport_error = error.__cause__
    assert isinstance(transport_error, httpx.TransportError)
    assert TOKEN not in repr(transport_error.request.headers)


async def test_owned_pool_error_chain_hides_the_token(malformed_server: str) -> None:
    """On the owned pool (aiohttp on asyncio, httpx's own under trio)."""
    retry = RetryPolicy(max_retries=0)
    async with AsyncVolumeAPI(TOKEN, base_url=malformed_server, retry=retry) as api:
        with pytest.raises(APIConnectionError) as info:
            await api.get_volume(VID)
    assert_no_token(info.value)


async def test_shared_client_error_chain_hides_the_token(malformed_server: str) -> None:
    """On a client the host app shares, with no event hooks."""
    retry = RetryPolicy(max_retries=0)
    async with httpx.AsyncClient() as client:
        api = AsyncVolumeAPI(TOKEN, base_url=malformed_server, retry=retry, client=client)
        with pytest.raises(APIConnectionError) as info:
            await api.get_volume(VID)
        await api.aclose()
    assert_no_token(info.value)
