"""Keeping the secret key (``X-Auth-Token``) out of what requests and errors print.

httpx masks ``Authorization`` in a repr, not Scaleway's header, and an aiohttp
error keeps the request's headers: kept as the ``__cause__`` of the library's
error, or logged by a host's hook, either would show the key.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import aiohttp
import multidict

__all__ = ["forget_token", "token_masked", "token_masking_headers"]


def forget_token(exc: BaseException) -> None:
    """Mask the secret key in what an aiohttp error keeps of the request.

    A ``ClientResponseError`` (a malformed answer, among others) keeps the
    request's headers in ``request_info``, and its repr prints them: kept as
    the ``__cause__`` of the library's error, it would show ``X-Auth-Token``.
    """
    info = getattr(exc, "request_info", None)
    if not isinstance(info, aiohttp.RequestInfo) or "X-Auth-Token" not in info.headers:
        return
    headers = multidict.CIMultiDict(info.headers)
    headers["X-Auth-Token"] = "[secure]"
    exc.request_info = aiohttp.RequestInfo(  # type: ignore[attr-defined]
        info.url, info.method, multidict.CIMultiDictProxy(headers), info.real_url
    )


def token_masked(headers: Any) -> list[tuple[str, str]]:
    """The items of ``headers`` (httpx's or httpx2's) with ``X-Auth-Token``'s value
    replaced by ``[secure]``."""
    return [
        (key, "[secure]" if key.lower() == "x-auth-token" else value)
        for key, value in headers.multi_items()
    ]


def token_masking_headers(module: ModuleType) -> Any:
    """A ``Headers`` class of ``module`` whose repr masks ``X-Auth-Token``.

    httpx masks ``Authorization`` in a repr, not Scaleway's header: a host's
    hook that logs ``request.headers`` would print the secret key.
    """

    class TokenMaskingHeaders(module.Headers):  # type: ignore[name-defined,misc]
        def __repr__(self) -> str:
            return repr(module.Headers(token_masked(self), encoding=self.encoding))

    return TokenMaskingHeaders
