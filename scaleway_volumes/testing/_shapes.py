"""Every error answer of the fake, for both APIs, in one place.

Two families of shapes exist side by side at Scaleway, and the fake sends both:

- the Instance API's older ones: ``{"type", "message", "fields"?}`` (a validation error
  lists ``fields: {name: [reasons]}``), ``unknown_resource`` 404s;
- the shapes every newer API (Block Storage) and the gateway use:
  ``invalid_arguments`` (400, ``details: [{argument_name, reason, help_message}]``),
  ``quotas_exceeded`` (403, ``details: [{resource, quota, current}]``), ``not_found``
  (404, ``resource``, ``resource_id``), ``transient_state`` (409, ``current_state``),
  ``precondition_failed`` (412, ``precondition``, ``help_message``), ``expired`` (410,
  ``expired_since``). The Instance API also answers ``invalid_arguments`` where it was
  recorded doing so (refusing ``b_ssd`` creates).

The ``*_body`` functions are public (re-exported by :mod:`scaleway_volumes.testing`) so
tests can script a :class:`~scaleway_volumes.testing.Fault` that answers exactly what the
fake itself would::

    fake.add_fault(Fault("respond", status=409, path="/volumes/",
                         body=transient_state_body("volume", volume_id, "updating")))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._core import Response, json_response

__all__ = [
    "expired_body",
    "invalid_arguments_body",
    "not_found_body",
    "precondition_failed_body",
    "quotas_exceeded_body",
    "transient_state_body",
]

# -- the Scaleway shapes (Block API, gateway, newer Instance answers) ----------------------


def invalid_arguments_body(*details: Mapping[str, str]) -> dict[str, Any]:
    """A 400 ``invalid_arguments`` body; each detail has ``argument_name``, ``reason``
    (``required``, ``constraint``, ``format``, ``unknown``) and ``help_message``."""
    return {
        "type": "invalid_arguments",
        "message": "invalid argument(s)",
        "details": [dict(d) for d in details],
    }


def quotas_exceeded_body(*details: Mapping[str, Any]) -> dict[str, Any]:
    """A 403 ``quotas_exceeded`` body; each detail has ``resource``, ``quota``, ``current``."""
    return {
        "type": "quotas_exceeded",
        "message": "quota(s) exceeded for this resource",
        "details": [dict(d) for d in details],
    }


def not_found_body(resource: str, resource_id: str) -> dict[str, Any]:
    """A 404 ``not_found`` body naming the missing ``resource`` (``"volume"``...)."""
    return {
        "type": "not_found",
        "message": "resource is not found",
        "resource": resource,
        "resource_id": resource_id,
    }


def transient_state_body(resource: str, resource_id: str, current_state: str) -> dict[str, Any]:
    """A 409 ``transient_state`` body: the resource is busy in ``current_state``."""
    return {
        "type": "transient_state",
        "message": "resource is in a transient state",
        "resource": resource,
        "resource_id": resource_id,
        "current_state": current_state,
    }


def precondition_failed_body(precondition: str, help_message: str) -> dict[str, Any]:
    """A 412 ``precondition_failed`` body; ``precondition`` is e.g. ``resource_still_in_use``."""
    return {
        "type": "precondition_failed",
        "message": "precondition is not respected",
        "precondition": precondition,
        "help_message": help_message,
    }


def expired_body(resource: str, resource_id: str, expired_since: str) -> dict[str, Any]:
    """A 410 ``expired`` body; ``expired_since`` is an RFC 3339 date."""
    return {
        "type": "expired",
        "message": "resource has expired",
        "resource": resource,
        "resource_id": resource_id,
        "expired_since": expired_since,
    }


def argument(name: str, reason: str, help_message: str) -> dict[str, str]:
    """One ``invalid_arguments`` detail."""
    return {"argument_name": name, "reason": reason, "help_message": help_message}


def invalid_arguments(*details: Mapping[str, str]) -> Response:
    return json_response(400, invalid_arguments_body(*details))


def quotas_exceeded(*details: Mapping[str, Any]) -> Response:
    return json_response(403, quotas_exceeded_body(*details))


def not_found(resource: str, resource_id: str) -> Response:
    return json_response(404, not_found_body(resource, resource_id))


def transient_state(resource: str, resource_id: str, current_state: str) -> Response:
    return json_response(409, transient_state_body(resource, resource_id, current_state))


def precondition_failed(precondition: str, help_message: str) -> Response:
    return json_response(412, precondition_failed_body(precondition, help_message))


def invalid_uuid(argument_name: str) -> Response:
    return invalid_arguments(argument(argument_name, "constraint", "must be a valid UUID"))


class Refusal(Exception):
    """Raised deep in a route to answer ``response`` instead of going on."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


# -- the gateway (both APIs) ---------------------------------------------------------------

AUTH_DENIED = json_response(
    401,
    {
        "type": "denied_authentication",
        "message": "authentication is denied",
        "method": "api_key",
        "reason": "invalid_argument",
    },
)
THROTTLED = json_response(429, {"message": "rate limit exceeded", "type": "too_many_requests"})
#: What the TCP server answers when the fake itself fails (a bug: the traceback is logged).
INTERNAL_ERROR = json_response(
    500, {"type": "internal_error", "message": "the fake failed to answer (see its log)"}
)


def method_not_allowed(method: str, allow: str) -> Response:
    return json_response(
        405,
        {"type": "method_not_allowed", "message": f"method {method} not allowed"},
        (("Allow", allow),),
    )


def unknown_path(path: str) -> Response:
    return json_response(404, {"type": "not_found", "message": f"path {path} not found"})


# -- the Instance API's own shapes ---------------------------------------------------------

INSTANCE_STILL_IN_USE = json_response(
    412,
    {
        "type": "precondition_failed",
        "precondition": "resource_still_in_use",
        "message": "resource is still in use",
        "help_message": "detach the volume from its server first",
    },
)

#: Why the Instance API refuses to create network volumes since 2025, per volume type.
INSTANCE_RETIRED_TYPES = {
    "b_ssd": (
        "b_ssd volumes can no longer be created with the Instance API: "
        "create a Scaleway Block Storage (SBS) volume with the Block Storage API instead"
    ),
    "sbs_volume": (
        "sbs_volume volumes are created with the Block Storage API "
        "(/block/v1/zones/{zone}/volumes), not with the Instance API"
    ),
}


def validation_error(fields: dict[str, list[str]] | None = None) -> Response:
    body: dict[str, Any] = {"type": "invalid_request_error", "message": "Validation Error"}
    if fields is not None:
        body["fields"] = fields
    return json_response(400, body)


def unknown_resource(resource_id: str, resource: str = "instance_volume") -> Response:
    return json_response(
        404,
        {
            "type": "unknown_resource",
            "message": f'"{resource_id}" not found',
            "resource": resource,
            "resource_id": resource_id,
        },
    )
