"""HTTP/1.1 on the wire for the fake's TCP server: reading requests, writing heads."""

from __future__ import annotations

from http import HTTPStatus

from ._core import RecordedRequest, Response, http_date

__all__ = ["BadRequest", "encode_head", "parse_request"]

_MAX_HEAD = 64 * 1024
_STATUS_LINES = {
    s.value: f"HTTP/1.1 {s.value} {s.phrase}\r\n".encode("latin-1") for s in HTTPStatus
}


def _status_line(status: int) -> bytes:
    line = _STATUS_LINES.get(status)
    return line if line is not None else f"HTTP/1.1 {status} Unknown\r\n".encode("latin-1")


def encode_head(response: Response, length: int, keep_alive: bool) -> bytes:
    """The status line and headers of ``response`` with a body of ``length`` bytes."""
    head = [
        _status_line(response.status),
        f"Content-Length: {length}\r\nDate: {http_date()}\r\n".encode("latin-1"),
    ]
    if response.content_type is not None:
        head.append(f"Content-Type: {response.content_type}\r\n".encode("latin-1"))
    for key, value in response.headers:
        head.append(f"{key}: {value}\r\n".encode("latin-1"))
    if not keep_alive:
        head.append(b"Connection: close\r\n")
    head.append(b"\r\n")
    return b"".join(head)


class BadRequest(Exception):
    """The bytes received are not an HTTP/1.1 request the server can read."""


def _dechunk(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """Decode a chunked body starting at ``start``; None until it is complete."""
    parts: list[bytes] = []
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        try:
            size = int(bytes(buf[pos:eol]).split(b";", 1)[0], 16)
        except ValueError:
            raise BadRequest from None
        pos = eol + 2
        if size == 0:
            # Skip (ignored) trailers up to the blank line.
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return b"".join(parts), eol + 2
                pos = eol + 2
        if len(buf) < pos + size + 2:
            return None
        parts.append(bytes(buf[pos : pos + size]))
        pos += size + 2


def parse_request(buf: bytearray, default_root: str) -> tuple[RecordedRequest, bool, str] | None:
    """Take the first complete request off ``buf``: ``(request, keep_alive, root)``, or
    None until it is all there; raises :class:`BadRequest` for one that cannot be read.

    ``root`` is ``http://`` plus the request's ``Host`` (``default_root`` without one).
    """
    while buf[:2] == b"\r\n":
        del buf[:2]
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        if len(buf) > _MAX_HEAD:
            raise BadRequest
        return None
    lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ")
    except ValueError:
        raise BadRequest from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if not sep:
            raise BadRequest
        key = key.strip().lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    start = end + 4
    if "chunked" in headers.get("transfer-encoding", "").lower():
        decoded = _dechunk(buf, start)
        if decoded is None:
            return None
        body, consumed = decoded
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise BadRequest from None
        consumed = start + length
        if len(buf) < consumed:
            return None
        body = bytes(buf[start:consumed])
    del buf[:consumed]
    connection = headers.get("connection", "").lower()
    http11 = version == "HTTP/1.1"
    keep_alive = "close" not in connection if http11 else "keep-alive" in connection
    path, _, query = target.partition("?")
    host = headers.get("host")
    root = f"http://{host}" if host else default_root
    return RecordedRequest(method, path, query, headers, body, "tcp"), keep_alive, root
