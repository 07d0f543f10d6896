"""A Redis URL's password, found to be masked (in logs, reprs and errors) or refused.

No redis-py here: ``redis.RedisRateLimiter`` checks with redis-py that it parses.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

__all__ = ["ENCODE_HINT", "password_span", "redact", "scheme_problem", "scrub", "unsafe_password"]

#: The schemes redis-py's ``from_url`` accepts.
SCHEMES = ("redis", "rediss", "unix")

ENCODE_HINT = (
    "percent-encode any '/', '?', '#' or '@' of its user name or password (e.g. '/' as %2F)"
)


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


def scrub(text: str, url: str) -> str:
    """``text`` (an error's message) with ``url`` masked and its password, as
    written or decoded, replaced by ``***``."""
    text = text.replace(url, redact(url))
    span = password_span(url)
    password = url[span[0] : span[1]] if span else ""
    for secret in (password, unquote(password)) if password else ():
        text = text.replace(secret, "***")
    return text


def scheme_problem(url: str) -> str | None:
    """What is wrong with ``url``'s scheme (``host:6379``, ``http://...``), or None."""
    scheme, sep, _ = url.partition("://")
    if sep and scheme.lower() in SCHEMES:
        return None
    return "it must start with redis://, rediss:// (TLS) or unix:// (a socket path)"


def unsafe_password(url: str, marks: str = "/?#") -> bool:
    """Whether ``url``'s password, pasted unencoded, holds one of ``marks``: a ``/``,
    ``?`` or ``#`` ends the host early (``redis://:1234/5@host`` is port 1234)."""
    span = password_span(url)
    return span is not None and any(mark in url[span[0] : span[1]] for mark in marks)
