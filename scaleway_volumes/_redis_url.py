"""A Redis URL's password, found to be masked (in logs, reprs and errors) or refused.

No redis-py here: ``redis.RedisRateLimiter`` checks with redis-py that it parses.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["password_span", "redact"]


def password_span(url: str) -> tuple[int, int] | None:
    """Where ``url``'s password is. In a well-formed authority, its own; when the
    authority is broken or an ``@`` comes in the path (a password pasted unencoded,
    holding ``/``, ``?``, ``#`` or ``@``), from the first ``:`` after ``scheme://``
    to the last ``@``: masked whole. An ``@`` in the query alone is a value there."""
    scheme, sep, _ = url.partition("://")
    if not sep or "@" not in url:
        return None
    start = len(scheme) + 3
    parts = urlsplit(url)
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        colon = userinfo.find(":")
        return (start + colon + 1, start + len(userinfo)) if colon != -1 else None
    try:
        whole = bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a port that is no number: the password's start
        whole = False
    if whole and "@" not in parts.path and "@" not in parts.fragment:
        return None
    colon, last = url.find(":", start), url.rfind("@")
    return (colon + 1, last) if colon != -1 and last > colon else None


def redact(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for logs and reprs)."""
    span = password_span(url)
    if span is not None:
        url = url[: span[0]] + "***" + url[span[1] :]
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)
