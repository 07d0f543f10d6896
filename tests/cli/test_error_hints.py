"""Each kind of API failure ends in two lines: the error, then what to do (`hint:`).

The answers are real: the fake produces them natively (a wrong token, an
unknown id, an attached volume) or from a scripted ``Fault`` with the status
and body the Scaleway API sends.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest

from scaleway_volumes.testing import FakeScaleway, Fault

from .conftest import Invoker, error_lines

pytestmark = pytest.mark.usefixtures("no_sleep")

MISSING_ID = str(uuid.UUID(int=7))
REQUEST_ID = "f84ca9a1-9df5-4607-88ce-afc63c2d39bc"
COLLECTION = r"/volumes$"
ONE_VOLUME = r"/volumes/[^/]+$"

QUOTA_BODY = {
    "type": "quotas_exceeded",
    "message": "quota(s) exceeded for this resource",
    "details": [
        {
            "resource": "volumes_l_ssd_total_size",
            "quota": 100_000_000_000,
            "current": 90_000_000_000,
        }
    ],
}
INVALID_BODY = {
    "type": "invalid_arguments",
    "message": "invalid argument(s)",
    "details": [
        {
            "argument_name": "volume_type",
            "reason": "constraint",
            "help_message": "must be one of l_ssd, b_ssd",
        }
    ],
}


def _fault(fake: FakeScaleway, method: str, path: str, status: int, body: Any, **kw: Any) -> None:
    fake.add_fault(
        Fault("respond", method=method, path=path, status=status, body=body, times=None, **kw)
    )


def _two_lines(stderr: str) -> tuple[str, str]:
    """The Error line and the hint line, which every case here must print."""
    error, hint = error_lines(stderr)
    assert hint is not None, stderr
    return error, hint


CREATE = ("create", "--name", "db", "--size", "20GB")
GET_MISSING = ("get", MISSING_ID)


def test_quota_exceeded_names_the_quota(invoke: Invoker, fake: FakeScaleway) -> None:
    """A 403 quotas_exceeded: the error, then which quota is full and how much is used."""
    _fault(fake, "POST", COLLECTION, 403, QUOTA_BODY)
    result = invoke.remote(*CREATE)
    assert result.exit_code == 1
    error, hint = _two_lines(result.stderr)
    assert error.startswith("Error: 403 quotas_exceeded: quota(s) exceeded for this resource")
    assert hint == (
        "hint: The quota volumes_l_ssd_total_size (90000000000 of 100000000000 used) is full: "
        "delete what is no longer needed, or ask for a higher quota on the Quotas page of "
        "the Scaleway console."
    )


def test_precondition_still_in_use_says_detach_first(invoke: Invoker, fake: FakeScaleway) -> None:
    """Deleting an attached volume (the fake's own 412): the error, then 'detach it first'."""
    attached = fake.add_volume("data", server="srv-1")["id"]
    result = invoke.remote("delete", attached)
    assert result.exit_code == 1
    error, hint = _two_lines(result.stderr)
    assert error.startswith("Error: 412 precondition_failed: resource is still in use")
    assert "detach the volume from its server first" in error  # the API's help_message
    assert hint == (
        "hint: It is still in use (attached to a server, or something depends on it): "
        "detach it first, then try again."
    )
    assert fake.get(attached) is not None


def test_invalid_arguments_name_the_argument(invoke: Invoker, fake: FakeScaleway) -> None:
    """A 400 invalid_arguments: the hint names the argument and the API's reason."""
    _fault(fake, "POST", COLLECTION, 400, INVALID_BODY)
    result = invoke.remote(*CREATE)
    assert result.exit_code == 1
    error, hint = _two_lines(result.stderr)
    assert error.startswith("Error: 400 invalid_arguments: invalid argument(s)")
    assert hint == (
        "hint: Fix the value of volume_type (constraint: must be one of l_ssd, b_ssd), "
        "then try again."
    )


def test_the_fakes_own_validation_names_the_field(invoke: Invoker) -> None:
    """The older `fields` shape (the fake's own check of --size) names the field too."""
    result = invoke("--fake", "create", "--name", "tiny", "--size", "10")
    error, hint = _two_lines(result.stderr)
    assert result.exit_code == 1
    assert error.startswith("Error: 400 invalid_request_error")
    assert hint.startswith("hint: Fix the value of size (must be greater than or equal to")


@pytest.mark.parametrize(
    ("status", "body", "args", "error_start", "hint_has"),
    [
        (
            403,
            {
                "type": "permissions_denied",
                "message": "insufficient permissions",
                "details": [{"resource": "instance_volume", "action": "read"}],
            },
            GET_MISSING,
            "Error: 403 permissions_denied: insufficient permissions",
            "give it a policy that allows it",
        ),
        (
            409,
            {
                "type": "transient_state",
                "message": "resource is in a transient state",
                "resource": "instance_volume",
                "resource_id": MISSING_ID,
                "current_state": "resizing",
            },
            ("delete", MISSING_ID),
            "Error: 409 transient_state: resource is in a transient state",
            "The instance_volume is busy (resizing): wait until it settles",
        ),
        (
            410,
            {
                "type": "expired",
                "message": "resource has expired",
                "resource": "instance_volume",
                "resource_id": MISSING_ID,
                "expired_since": "2024-01-01T00:00:00Z",
            },
            GET_MISSING,
            "Error: 410 expired: resource has expired",
            "It has expired since 2024-01-01T00:00:00+00:00 and cannot be used any more",
        ),
        (
            429,
            b"",
            GET_MISSING,
            "Error: 429",
            "lower --concurrency, or try again in 1 s",
        ),
        (
            503,
            {"type": "unknown", "message": "service unavailable"},
            GET_MISSING,
            "Error: 503",
            f"contact support and quote the request id {REQUEST_ID}",
        ),
    ],
    ids=["permission", "transient-state", "gone", "rate-limit", "server-error"],
)
def test_scripted_answers_end_in_error_and_hint(
    invoke: Invoker,
    fake: FakeScaleway,
    status: int,
    body: Any,
    args: tuple[str, ...],
    error_start: str,
    hint_has: str,
) -> None:
    """Each scripted answer of the API ends in its one-line error and its own hint."""
    headers = {"X-Request-Id": REQUEST_ID, "Retry-After": "1"}
    path = ONE_VOLUME if args[0] in ("get", "delete") else COLLECTION
    _fault(fake, args[0].replace("get", "GET").replace("delete", "DELETE"), path, status, body,
           headers=headers)  # fmt: skip
    result = invoke.remote(*args)
    assert result.exit_code == 1
    error, hint = _two_lines(result.stderr)
    assert error.startswith(error_start), error
    assert hint_has in hint


def test_wrong_token_points_at_the_option_that_gave_it(invoke: Invoker) -> None:
    """The fake's own 401: the hint names --token, where the refused key came from
    (tests/cli/test_profiles.py: a variable's and a profile's)."""
    result = invoke("--base-url", invoke.server.base_url, "--token", "nope", "list")
    assert result.exit_code == 1
    error, hint = _two_lines(result.stderr)
    assert error.startswith("Error: 401 denied_authentication: authentication is denied")
    assert hint.startswith("hint: The API refused the secret key given with --token: check it;")
    assert "nope" not in result.stderr


def test_not_found_points_at_id_and_zone(invoke: Invoker) -> None:
    """The fake's own 404: the hint says to check the id and the zone."""
    result = invoke.remote(*GET_MISSING)
    error, hint = _two_lines(result.stderr)
    assert error.startswith("Error: 404 unknown_resource")
    assert hint == (
        f"hint: No such instance_volume {MISSING_ID} here: check the id and the zone "
        "(--zone, SCW_DEFAULT_ZONE); it may have been deleted."
    )


def test_outcome_unknown_create_hint_finds_the_volume(invoke: Invoker, fake: FakeScaleway) -> None:
    """A create that landed but whose answer was lost: the hint's `list --tag` finds it."""
    fake.add_fault(Fault("act_then_drop", method="POST", path=COLLECTION))
    _fault(fake, "GET", COLLECTION, 503, {"type": "unknown", "message": "unavailable"})
    result = invoke.remote(*CREATE)
    assert result.exit_code == 1
    error, hint = _two_lines(result.stderr)
    assert "it may exist" in error
    found = re.search(r"\(scaleway-volumes list --tag (\S+)\)", hint)
    assert found is not None, hint
    assert hint.startswith("hint: It may have been created anyway")

    fake.clear_faults()
    listed = invoke.remote("--json", "list", "--tag", found.group(1))
    assert listed.exit_code == 0, listed.stderr
    assert [v["name"] for v in json.loads(listed.stdout)] == ["db"]


def test_json_failure_is_one_object_on_stderr(invoke: Invoker) -> None:
    """With --json a single failure is one JSON object on stderr, hint included; stdout empty."""
    result = invoke.remote("--json", *GET_MISSING)
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    failure = json.loads(line)
    assert failure["error"].startswith("404 unknown_resource")
    assert failure["hint"].startswith(f"No such instance_volume {MISSING_ID} here")
    assert failure["exit_code"] == 1


def test_json_usage_failure_has_a_null_hint(invoke: Invoker) -> None:
    """A configuration failure with --json: the same object, exit 2, hint null when none."""
    result = invoke("--json", "--zone", "mars-base-1", "--token", "x", "list")
    assert result.exit_code == 2
    failure = json.loads(result.stderr.splitlines()[-1])
    assert failure["exit_code"] == 2
    assert failure["hint"] is None
    assert failure["error"].startswith("unknown zone 'mars-base-1'")
