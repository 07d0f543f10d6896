"""Errors survive pickle and copy; a failed attempt is logged like an answered one."""

from __future__ import annotations

import copy
import logging
import pickle

import httpx
import pytest

from scaleway_volumes import APIConnectionError, NotFoundError, RetryPolicy
from scaleway_volumes._error_body import ResponseHeaders
from scaleway_volumes._errors import error_from_response
from scaleway_volumes._pipeline import Attempts, MaybeActed, Pipeline
from scaleway_volumes._transport import TransportFailure

from .test_pipeline import ScriptedSender, make

HEADERS = {"X-Request-Id": "r-1", "Set-Cookie": "secret", "Via": "a", "via": "b"}


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_api_error_and_its_headers_pickle_with_every_protocol(protocol: int) -> None:
    """ResponseHeaders (slots, no __dict__) pickles with protocols 0 and 1 too."""
    headers = ResponseHeaders(HEADERS)
    again = pickle.loads(pickle.dumps(headers, protocol))
    assert type(again) is ResponseHeaders and dict(again) == dict(headers)
    assert again["VIA"] == "a, b" and "set-cookie" not in again
    err = error_from_response(404, b'{"type": "not_found", "message": "gone"}', headers=HEADERS)
    clone = pickle.loads(pickle.dumps(err, protocol))
    assert type(clone) is NotFoundError and str(clone) == str(err)
    assert clone.request_id == "r-1" and dict(clone.headers) == dict(err.headers)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_maybe_acted_pickles_and_copies(protocol: int) -> None:
    """MaybeActed's keyword-only flag no longer defeats pickle and copy."""
    error = APIConnectionError("request timed out: t", outcome_unknown=True)
    reply = httpx.Response(504, json={"type": "x", "message": "m"})
    acted = MaybeActed(error, may_land_later=True, reply=reply)
    clones = [pickle.loads(pickle.dumps(acted, protocol)), copy.copy(acted), copy.deepcopy(acted)]
    for clone in clones:
        assert type(clone) is MaybeActed and str(clone) == str(acted)
        assert clone.may_land_later is True and str(clone.error) == str(error)
        assert clone.reply is not None and clone.reply.status_code == 504
    plain = copy.copy(MaybeActed(error, may_land_later=False))
    assert plain.may_land_later is False and plain.reply is None


def _debug_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "scaleway_volumes" and r.levelno == logging.DEBUG
    ]


@pytest.mark.anyio
@pytest.mark.usefixtures("no_sleep")
async def test_failed_attempt_is_logged_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """An attempt with no answer gets its DEBUG line, its status the failure's kind."""
    caplog.set_level(logging.DEBUG, logger="scaleway_volumes")
    failure = TransportFailure("refused", sent=False, timed_out=False)
    try:
        raise failure from httpx.ConnectError("refused")
    except TransportFailure:
        pass
    pipeline = Pipeline(
        sender=ScriptedSender(failure, 200),
        retry=RetryPolicy(max_retries=1),
        timeout={},
        deadline=5.0,
        limiter=None,
        base_path="/block/v1/zones/fr-par-1",
    )
    await pipeline.request("GET", "/volumes", None, None, Attempts())
    lines = _debug_lines(caplog)
    assert any(
        line.startswith("GET /block/v1/zones/fr-par-1/volumes -> ConnectError (attempt 1, ")
        for line in lines
    ), lines
    assert any(
        line.startswith("GET /block/v1/zones/fr-par-1/volumes -> 200 (attempt 2, ")
        for line in lines
    ), lines


@pytest.mark.anyio
@pytest.mark.usefixtures("no_sleep")
async def test_failure_without_cause_logs_its_own_class(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="scaleway_volumes")
    sender = ScriptedSender(TransportFailure("t", sent=True, timed_out=True))
    with pytest.raises(MaybeActed):
        await make(sender).request("POST", "/volumes", None, b"{}", Attempts())
    lines = _debug_lines(caplog)
    assert any(line.startswith("POST /volumes -> TransportFailure (attempt 1, ") for line in lines)
