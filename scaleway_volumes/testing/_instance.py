"""The Instance API's volumes (and the seed's ``/volumes``): routes, validation, state."""

from __future__ import annotations

import copy
import math
import threading
import uuid
from collections.abc import Iterable
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

from . import _shapes as shapes
from ._core import JSON, Clock, RecordedRequest, Response, dumps, iso_timestamp
from ._params import MAX_SIZE, MIN_SIZE, int_param, is_uuid, parse_body, size_problem, tag_list

__all__ = ["InstanceHost", "InstanceVolumes"]

VOLUME_TYPES = frozenset({"l_ssd", "b_ssd", "sbs_volume", "scratch"})
DEFAULT_VOLUME_TYPE = "l_ssd"
LEGACY_FIELDS = ("export_uri", "id", "name", "organization", "server", "size", "volume_type")
VOLUME_FIELDS = frozenset(
    {
        "id",
        "name",
        "size",
        "volume_type",
        "organization",
        "project",
        "export_uri",
        "server",
        "state",
        "tags",
        "zone",
        "creation_date",
        "modification_date",
    }
)
CREATE_KEYS = frozenset(
    {"name", "size", "volume_type", "organization", "project", "tags"}
    | {"base_snapshot", "base_volume"}
)
UPDATE_KEYS = frozenset({"name", "size", "tags"})
#: ``GET products/volumes``: the types the zoned API creates, with the sizes the fake takes.
PRODUCT_TYPES = {
    "l_ssd": {"display_name": "Local SSD", "snapshot": True},
    "scratch": {"display_name": "Scratch", "snapshot": False},
}

# Servers get stable ids so that attaching twice to "srv-1" names the same server.
_SERVER_NS = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


class InstanceHost(Protocol):
    """What the Instance routes read from the fake: settings, the clock and the store.

    The store (volumes by id, rendered JSON by id for each rendering) lives on the fake,
    which owns every piece of shared state; every access holds ``_lock``.
    """

    zone: str
    organization: str
    legacy: bool
    clock: Clock
    _lock: threading.RLock
    _volumes: dict[str, dict[str, Any]]
    _rendered: dict[str, bytes]
    _rendered_legacy: dict[str, bytes]


def _check_name(value: object, errors: dict[str, list[str]]) -> None:
    if not isinstance(value, str) or not value:
        errors["name"] = ["must be a non-empty string"]


def _check_size(value: object, errors: dict[str, list[str]]) -> None:
    problem = size_problem(value)
    if problem is not None:
        errors["size"] = [problem]


def _check_tags(value: object, errors: dict[str, list[str]]) -> None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        errors["tags"] = ["must be a list of strings"]


def server_summary(name: str) -> dict[str, str]:
    """The ``server`` object of a volume attached to the server called ``name``."""
    return {"id": str(uuid.uuid5(_SERVER_NS, name)), "name": name}


class InstanceVolumes:
    """The Instance volume routes over the store ``host`` keeps (see :class:`InstanceHost`)."""

    def __init__(self, host: InstanceHost) -> None:
        self._host = host
        # Volumes created naming only a project the fake does not know (not its default
        # project): the organization owning it is the caller's, unseen, so any
        # ``organization`` filter lists them (they show the fake's organization).
        self._unowned: set[str] = set()

    def clear(self) -> None:
        """Forget every volume (the fake's ``reset``)."""
        host = self._host
        with host._lock:
            host._volumes.clear()
            host._rendered.clear()
            host._rendered_legacy.clear()
            self._unowned.clear()

    # -- direct state access (FakeScaleway's helpers) -------------------------------------

    def add(
        self,
        name: str,
        size: int,
        volume_type: str,
        tags: Iterable[str],
        server: str | None,
        overrides: dict[str, Any],
    ) -> dict[str, Any]:
        unknown = set(overrides) - VOLUME_FIELDS
        if unknown:
            raise TypeError(f"unknown volume fields: {sorted(unknown)}")
        volume = self._new_volume(name, size, volume_type, tag_list(tags), None, None, None)
        if server is not None:
            volume["server"] = server_summary(server)
        volume.update(overrides)
        host = self._host
        with host._lock:
            host._volumes[volume["id"]] = volume
            self._forget(volume["id"])
        return copy.deepcopy(volume)

    def set_server(self, volume_id: str, server: dict[str, str] | None) -> None:
        host = self._host
        with host._lock:
            volume = host._volumes.get(volume_id)
            if volume is None:
                raise KeyError(volume_id)
            volume["server"] = server
            volume["modification_date"] = iso_timestamp(host.clock())
            self._forget(volume_id)

    def all(self) -> list[dict[str, Any]]:
        with self._host._lock:
            return copy.deepcopy(list(self._host._volumes.values()))

    def get(self, volume_id: str) -> dict[str, Any] | None:
        with self._host._lock:
            volume = self._host._volumes.get(volume_id)
            return copy.deepcopy(volume) if volume is not None else None

    # -- routes ---------------------------------------------------------------------------

    def dispatch(
        self, request: RecordedRequest, root: str, prefix: str, tail: str, zone: str
    ) -> Response:
        """Answer ``request`` for the path ``prefix + tail`` (``tail`` starts at ``volumes``),
        over the volumes of ``zone`` (those of other zones are not found)."""
        method = request.method
        if tail == "products/volumes" and prefix != "/":
            if method != "GET":
                return shapes.method_not_allowed(method, "GET")
            return _list_types(request)
        if tail == "volumes":
            collection = prefix + "volumes"
            if method == "GET":
                return self._list(request, collection, zone)
            if method == "POST":
                return self._create(request, root + collection, zone)
            return shapes.method_not_allowed(method, "GET, POST")
        if not tail.startswith("volumes/"):
            return shapes.unknown_path(request.path)
        volume_id = tail[8:]
        if not volume_id or "/" in volume_id:
            return shapes.unknown_path(request.path)
        if method not in ("GET", "PATCH", "DELETE"):
            return shapes.method_not_allowed(method, "GET, PATCH, DELETE")
        if not is_uuid(volume_id):
            return shapes.validation_error({"volume_id": ["must be a valid UUID"]})
        if method == "PATCH":
            return self._update(request, volume_id, zone)
        host = self._host
        with host._lock:
            volume = host._volumes.get(volume_id)
            if volume is None or volume["zone"] != zone:
                return shapes.unknown_resource(volume_id)
            if method == "GET":
                return Response(200, b'{"volume":' + self._render(volume_id) + b"}")
            if volume["server"] is not None:
                return shapes.INSTANCE_STILL_IN_USE
            del host._volumes[volume_id]
            self._unowned.discard(volume_id)
            self._forget(volume_id)
        return Response(204, b"", None)

    def _render(self, volume_id: str) -> bytes:
        # Caller holds the lock.
        host = self._host
        cache = host._rendered_legacy if host.legacy else host._rendered
        rendered = cache.get(volume_id)
        if rendered is None:
            volume = host._volumes[volume_id]
            if host.legacy:
                rendered = dumps({k: volume.get(k) for k in LEGACY_FIELDS})
            else:
                rendered = dumps(volume)
            cache[volume_id] = rendered
        return rendered

    def _forget(self, volume_id: str) -> None:
        self._host._rendered.pop(volume_id, None)
        self._host._rendered_legacy.pop(volume_id, None)

    def _new_volume(
        self,
        name: str,
        size: int,
        volume_type: str,
        tags: list[str],
        organization: str | None,
        project: str | None,
        zone: str | None,
    ) -> dict[str, Any]:
        host = self._host
        # A body naming only an organization puts the volume in its default project (same
        # id); one naming only a project shows the fake's organization (see ``_unowned``).
        organization = organization or host.organization
        now = iso_timestamp(host.clock())
        return {
            "id": str(uuid.uuid4()),
            "name": name,
            "export_uri": None,
            "size": size,
            "volume_type": volume_type,
            "creation_date": now,
            "modification_date": now,
            "organization": organization,
            "project": project or organization,
            "tags": tags,
            "server": None,
            "state": "available",
            "zone": zone or host.zone,
        }

    def _create(self, request: RecordedRequest, collection_url: str, zone: str) -> Response:
        data = parse_body(request.body)
        if data is None:
            return shapes.validation_error()
        errors: dict[str, list[str]] = {}
        for key in data.keys() - CREATE_KEYS:
            errors[key] = ["unknown field"]
        _check_name(data.get("name"), errors)
        if "base_snapshot" in data or "base_volume" in data:
            # The fake has no Instance snapshots, so whatever is referenced cannot exist.
            ref = "base_snapshot" if "base_snapshot" in data else "base_volume"
            if not is_uuid(data[ref]):
                errors[ref] = ["must be a valid UUID"]
        else:
            _check_size(data.get("size"), errors)
        # The official SDK leaves volume_type out unless given; the zoned API's
        # default is l_ssd (the seed's blueprint makes it required).
        volume_type = (
            data.get("volume_type")
            if self._host.legacy
            else data.setdefault("volume_type", DEFAULT_VOLUME_TYPE)
        )
        # Type first: a JSON list or object is unhashable and would break the lookup.
        if not isinstance(volume_type, str) or volume_type not in VOLUME_TYPES:
            errors["volume_type"] = [f"must be one of {', '.join(sorted(VOLUME_TYPES))}"]
        organization, project = data.get("organization"), data.get("project")
        if organization is None and project is None:
            errors["project"] = ["one of project or organization is required"]
        for key, value in (("organization", organization), ("project", project)):
            if value is not None and not is_uuid(value):
                errors[key] = ["must be a valid UUID"]
        if "tags" in data:
            _check_tags(data["tags"], errors)
        if errors:
            return shapes.validation_error(errors)
        retired = shapes.INSTANCE_RETIRED_TYPES.get(data["volume_type"])
        if retired is not None:
            return shapes.invalid_arguments(shapes.argument("volume_type", "constraint", retired))
        if "base_snapshot" in data:
            return shapes.unknown_resource(data["base_snapshot"], "instance_snapshot")
        if "base_volume" in data:
            return shapes.unknown_resource(data["base_volume"], "instance_volume")
        volume = self._new_volume(
            data["name"],
            data["size"],
            data["volume_type"],
            list(data.get("tags", [])),
            organization,
            project,
            zone,
        )
        volume_id = volume["id"]
        with self._host._lock:
            if organization is None and project != self._host.organization:
                self._unowned.add(volume_id)
            self._host._volumes[volume_id] = volume
            rendered = self._render(volume_id)
        return Response(
            201,
            b'{"volume":' + rendered + b"}",
            JSON,
            (("Location", f"{collection_url}/{volume_id}"),),
        )

    def _update(self, request: RecordedRequest, volume_id: str, zone: str) -> Response:
        data = parse_body(request.body)
        if data is None:
            return shapes.validation_error()
        errors: dict[str, list[str]] = {}
        for key in data.keys() - UPDATE_KEYS:
            errors[key] = ["unknown field"]
        if "name" in data:
            _check_name(data["name"], errors)
        if "size" in data:
            _check_size(data["size"], errors)
        if "tags" in data:
            _check_tags(data["tags"], errors)
        host = self._host
        with host._lock:
            volume = host._volumes.get(volume_id)
            if volume is None or volume["zone"] != zone:
                return shapes.unknown_resource(volume_id)
            if "size" in data and "size" not in errors:
                if data["size"] < volume["size"]:
                    errors["size"] = ["volume size can only be increased"]
                elif data["size"] != volume["size"] and volume["volume_type"] != "b_ssd":
                    # As Scaleway's SDKs document it: "only b_ssd volume growing is
                    # supported"; a server's local disk keeps its size.
                    errors["size"] = ["only b_ssd volumes can grow"]
            if errors:
                return shapes.validation_error(errors)
            for key in ("name", "size"):
                if key in data:
                    volume[key] = data[key]
            if "tags" in data:
                volume["tags"] = list(data["tags"])
            volume["modification_date"] = iso_timestamp(host.clock())
            self._forget(volume_id)
            rendered = self._render(volume_id)
        return Response(200, b'{"volume":' + rendered + b"}")

    def _list(self, request: RecordedRequest, collection: str, zone: str) -> Response:
        params = parse_qsl(request.query, keep_blank_values=True)
        query = dict(params)
        page, per_page, errors = _pages(query)
        if errors:
            return shapes.validation_error(errors)
        if self._host.legacy:
            # The seed API's list takes no filter (its blueprint names none):
            # whatever a client sends, every volume comes back.
            query = {}
        name = query.get("name")
        volume_type = query.get("volume_type")
        organization = query.get("organization")
        project = query.get("project")
        tags = [t for t in query["tags"].split(",") if t] if query.get("tags") else []
        start = (page - 1) * per_page
        with self._host._lock:
            matching = [
                volume_id
                for volume_id, v in self._host._volumes.items()
                if v["zone"] == zone
                and (name is None or name in v["name"])
                and (volume_type is None or v["volume_type"] == volume_type)
                and (
                    organization is None
                    or v["organization"] == organization
                    or volume_id in self._unowned
                )
                and (project is None or v["project"] == project)
                and all(t in v["tags"] for t in tags)
            ]
            chunk = [self._render(i) for i in matching[start : start + per_page]]
        total = len(matching)
        headers = [("X-Total-Count", str(total))]
        link = _link_header(collection, params, page, per_page, total)
        if link:
            headers.append(("Link", link))
        return Response(200, b'{"volumes":[' + b",".join(chunk) + b"]}", JSON, tuple(headers))


def _pages(params: dict[str, str]) -> tuple[int, int, dict[str, list[str]]]:
    """``page`` and ``per_page`` of a list's query, and the validation errors."""
    errors: dict[str, list[str]] = {}
    page, problem = int_param(params.get("page"), 1, 1, None)
    if problem:
        errors["page"] = [problem]
    per_page, problem = int_param(params.get("per_page"), 50, 1, 100)
    if problem:
        errors["per_page"] = [problem]
    return page, per_page, errors


def _list_types(request: RecordedRequest) -> Response:
    """The volume types catalogue: one page holds it all, counted in ``X-Total-Count``."""
    _, _, errors = _pages(dict(parse_qsl(request.query, keep_blank_values=True)))
    if errors:
        return shapes.validation_error(errors)
    volumes = {
        kind: {
            "display_name": spec["display_name"],
            "capabilities": {"snapshot": spec["snapshot"]},
            "constraints": {"min": MIN_SIZE, "max": MAX_SIZE},
        }
        for kind, spec in PRODUCT_TYPES.items()
    }
    return Response(200, dumps({"volumes": volumes}), JSON, (("X-Total-Count", str(len(volumes))),))


def _link_header(
    collection: str, params: list[tuple[str, str]], page: int, per_page: int, total: int
) -> str:
    last = max(1, math.ceil(total / per_page))
    kept = [(k, v) for k, v in params if k not in ("page", "per_page")]

    def url(target: int) -> str:
        return f"{collection}?{urlencode([*kept, ('page', target), ('per_page', per_page)])}"

    links = []
    if page > 1:
        links.append(f'<{url(1)}>; rel="first"')
        links.append(f'<{url(min(page - 1, last))}>; rel="previous"')
    if page < last:
        links.append(f'<{url(page + 1)}>; rel="next"')
        links.append(f'<{url(last)}>; rel="last"')
    return ", ".join(links)
