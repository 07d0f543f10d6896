"""The Block Storage API's HTTP surface: paths, body and query validation, answers.

Shapes of the real API: no envelope (a create answers 200 with the bare object), lists
as ``{"volumes": [...], "total_count": N}`` with the count in the body, repeated
``tags``/``volume_ids`` query parameters, ``invalid_arguments`` errors with ``details``.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from . import _shapes as shapes
from ._block_ops import BlockOperations
from ._block_state import PERF_TYPES, BlockStore, Query
from ._core import JSON, RecordedRequest, Response, dumps
from ._params import int_param, is_uuid, parse_body, size_problem
from ._shapes import Refusal, argument

__all__ = ["BlockRoutes"]

CREATE_VOLUME_KEYS = frozenset(
    {"name", "project_id", "perf_iops", "tags", "from_empty", "from_snapshot", "kms_key_id"}
)
UPDATE_VOLUME_KEYS = frozenset({"name", "size", "tags", "perf_iops"})
# The official SDK always sends ``public`` (snapshots are private by default).
CREATE_SNAPSHOT_KEYS = frozenset({"volume_id", "name", "project_id", "tags", "public"})
UPDATE_SNAPSHOT_KEYS = frozenset({"name", "tags", "public"})
EXPORT_SNAPSHOT_KEYS = frozenset({"bucket", "key"})
IMPORT_SNAPSHOT_KEYS = frozenset({"bucket", "key", "name", "project_id", "tags", "size"})
IMPORT = "import-from-object-storage"
EXPORT = "export-to-object-storage"
# An Object Storage bucket name: 3 to 63 lowercase letters, digits, dots and hyphens.
_BUCKET = re.compile(r"\A[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
ORDERS = ("created_at_asc", "created_at_desc", "name_asc", "name_desc")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}

# Illustrative prices (EUR per GB and hour), in the API's Money shape.
_PRICES = {5000: (118_000, 47_000), 15000: (151_000, 47_000)}


def _money(nanos: int) -> dict[str, Any]:
    return {"currency_code": "EUR", "units": 0, "nanos": nanos}


def volume_types(zone: str) -> list[dict[str, Any]]:
    """The volume types of ``zone``, by name as the API orders them."""
    types = [
        {
            "type": kind,
            "pricing": _money(_PRICES[iops][0]),
            "snapshot_pricing": _money(_PRICES[iops][1]),
            "specs": {"perf_iops": iops, "class": "sbs"},
            "zone": zone,
        }
        for iops, kind in PERF_TYPES.items()
    ]
    return sorted(types, key=lambda t: str(t["type"]))


class _Body:
    """Collects the ``invalid_arguments`` details of one JSON object (or sub-object)."""

    def __init__(
        self,
        data: dict[str, Any],
        allowed: frozenset[str],
        prefix: str = "",
        details: list[dict[str, str]] | None = None,
    ) -> None:
        self.data = data
        self.prefix = prefix
        self.details = [] if details is None else details
        self.details.extend(
            argument(prefix + key, "unknown", "unknown field")
            for key in sorted(data.keys() - allowed)
        )

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and required:
            self.details.append(argument(self.prefix + key, "required", f"{key} is required"))
        return value

    def bad(self, key: str, help_message: str) -> None:
        self.details.append(argument(self.prefix + key, "constraint", help_message))

    def name(self, required: bool) -> None:
        value = self._get("name", required)
        if value is not None and (not isinstance(value, str) or not value):
            self.bad("name", "must be a non-empty string")

    def uuid(self, key: str, required: bool) -> None:
        value = self._get(key, required)
        if value is not None and not is_uuid(value):
            self.bad(key, "must be a valid UUID")

    def tags(self) -> None:
        value = self.data.get("tags")
        if value is not None and (
            not isinstance(value, list) or not all(isinstance(t, str) for t in value)
        ):
            self.bad("tags", "must be a list of strings")

    def perf_iops(self) -> None:
        value = self.data.get("perf_iops")
        # Type first: a JSON list or object is unhashable and would break the lookup.
        if value is not None and (type(value) is not int or value not in PERF_TYPES):
            self.bad("perf_iops", f"must be one of {', '.join(map(str, PERF_TYPES))}")

    def size(self, required: bool) -> None:
        value = self._get("size", required)
        problem = None if value is None else size_problem(value)
        if problem is not None:
            self.bad("size", problem)

    def text(self, key: str, pattern: re.Pattern[str] | None = None) -> None:
        """A required non-empty string (matching ``pattern`` if given)."""
        value = self._get(key, required=True)
        if value is None:
            return
        if not isinstance(value, str) or not value:
            self.bad(key, "must be a non-empty string")
        elif pattern is not None and not pattern.match(value):
            self.bad(key, f"must match {pattern.pattern}")

    def boolean(self, key: str) -> None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            self.bad(key, "must be a boolean")

    def sub(self, key: str, allowed: frozenset[str]) -> _Body | None:
        """Check the object under ``key``; ``None`` (and a detail) if it is not an object."""
        value = self.data[key]
        if not isinstance(value, dict):
            self.bad(key, "must be an object")
            return None
        return _Body(value, allowed, f"{self.prefix}{key}.", self.details)

    def raise_if_invalid(self) -> None:
        if self.details:
            raise Refusal(shapes.invalid_arguments(*self.details))


def _json_body(request: RecordedRequest) -> dict[str, Any]:
    data = parse_body(request.body)
    if data is None:
        raise Refusal(
            shapes.invalid_arguments(
                argument("body", "format", "the request body must be a JSON object")
            )
        )
    return data


class BlockRoutes:
    """Answers requests under ``/block/v1/zones/{zone}/`` from a :class:`BlockStore`:
    made for each request, for the ``zone`` of its path."""

    def __init__(self, store: BlockStore, zone: str) -> None:
        self._zone = zone
        self._block = BlockOperations(store, zone)

    def dispatch(self, request: RecordedRequest, tail: str) -> Response:
        """Answer ``request``; ``tail`` is its path after the zone (``volumes/...``)."""
        try:
            return self._route(request, tail)
        except Refusal as refusal:
            return refusal.response

    def _route(self, request: RecordedRequest, tail: str) -> Response:
        method = request.method
        resource, sep, item = tail.partition("/")
        if resource == "volume-types" and not sep:
            if method != "GET":
                return shapes.method_not_allowed(method, "GET")
            return self._list_types(request)
        if resource == "snapshots" and (item == IMPORT or item.endswith("/" + EXPORT)):
            return self._object_storage(request, item)
        if resource not in ("volumes", "snapshots") or (sep and (not item or "/" in item)):
            return shapes.unknown_path(request.path)
        volumes = resource == "volumes"
        if not sep:
            if method == "GET":
                return self._list(request, resource)
            if method != "POST":
                return shapes.method_not_allowed(method, "GET, POST")
            if volumes:
                return self._create_volume(request)
            return self._create_snapshot(request)
        if method not in ("GET", "PATCH", "DELETE"):
            return shapes.method_not_allowed(method, "GET, PATCH, DELETE")
        if not is_uuid(item):
            return shapes.invalid_uuid("volume_id" if volumes else "snapshot_id")
        block = self._block
        if method == "GET":
            body = block.read_volume(item) if volumes else block.read_snapshot(item)
        elif method == "PATCH":
            body = self._update(request, item, volumes)
        else:
            if volumes:
                block.delete_volume(item)
            else:
                block.delete_snapshot(item)
            return Response(204, b"", None)
        return Response(200, body)

    def _create_volume(self, request: RecordedRequest) -> Response:
        data = _json_body(request)
        check = _Body(data, CREATE_VOLUME_KEYS)
        check.name(required=True)
        check.uuid("project_id", required=True)
        check.perf_iops()
        check.tags()
        check.uuid("kms_key_id", required=False)
        size = snapshot_id = None
        sources = [key for key in ("from_empty", "from_snapshot") if key in data]
        if len(sources) > 1:
            check.bad("from_empty", "set only one of from_empty and from_snapshot")
        elif not sources:
            check.details.append(
                argument("from_empty", "required", "one of from_empty or from_snapshot is required")
            )
        elif sources == ["from_empty"]:
            inner = check.sub("from_empty", frozenset({"size"}))
            if inner is not None:
                inner.size(required=True)
                size = inner.data.get("size")
        else:
            inner = check.sub("from_snapshot", frozenset({"snapshot_id", "size"}))
            if inner is not None:
                inner.uuid("snapshot_id", required=True)
                snapshot_id, size = inner.data.get("snapshot_id"), inner.data.get("size")
                # The official SDK sends size 0 when none is given ("otherwise original
                # snapshot size will be used"), so 0 restores at the snapshot's size.
                if type(size) is int and size == 0:
                    size = None
                else:
                    inner.size(required=False)
        check.raise_if_invalid()
        body = self._block.create_volume(
            name=data["name"],
            project_id=data["project_id"],
            perf_iops=data.get("perf_iops"),
            tags=list(data.get("tags", [])),
            size=size,
            snapshot_id=snapshot_id,
            kms_key_id=data.get("kms_key_id"),
        )
        return Response(200, body)

    def _create_snapshot(self, request: RecordedRequest) -> Response:
        data = _json_body(request)
        check = _Body(data, CREATE_SNAPSHOT_KEYS)
        check.uuid("volume_id", required=True)
        check.name(required=True)
        check.uuid("project_id", required=True)
        check.tags()
        check.boolean("public")
        check.raise_if_invalid()
        body = self._block.create_snapshot(
            volume_id=data["volume_id"],
            name=data["name"],
            project_id=data["project_id"],
            tags=list(data.get("tags", [])),
            public=data.get("public", False),
        )
        return Response(200, body)

    def _object_storage(self, request: RecordedRequest, item: str) -> Response:
        """``snapshots/import-from-object-storage`` and ``snapshots/{id}/export-to-...``."""
        if request.method != "POST":
            return shapes.method_not_allowed(request.method, "POST")
        snapshot_id = item.removesuffix("/" + EXPORT)
        if item != IMPORT and (not snapshot_id or "/" in snapshot_id):
            return shapes.unknown_path(request.path)
        if item != IMPORT and not is_uuid(snapshot_id):
            return shapes.invalid_uuid("snapshot_id")
        data = _json_body(request)
        check = _Body(data, IMPORT_SNAPSHOT_KEYS if item == IMPORT else EXPORT_SNAPSHOT_KEYS)
        check.text("bucket", _BUCKET)
        check.text("key")
        if item != IMPORT:
            check.raise_if_invalid()
            return Response(200, self._block.export_snapshot(snapshot_id))
        check.name(required=True)
        check.uuid("project_id", required=True)
        check.tags()
        size = data.get("size")
        # The official SDK sends size 0 when none is given, as for a restore.
        if type(size) is int and size == 0:
            size = None
        else:
            check.size(required=False)
        check.raise_if_invalid()
        body = self._block.import_snapshot(
            name=data["name"],
            project_id=data["project_id"],
            tags=list(data.get("tags", [])),
            size=size,
        )
        return Response(200, body)

    def _update(self, request: RecordedRequest, item: str, volumes: bool) -> bytes:
        data = _json_body(request)
        check = _Body(data, UPDATE_VOLUME_KEYS if volumes else UPDATE_SNAPSHOT_KEYS)
        check.name(required=False)
        check.tags()
        if volumes:
            check.size(required=False)
            check.perf_iops()
        else:
            check.boolean("public")
        check.raise_if_invalid()
        if volumes:
            return self._block.update_volume(item, data)
        return self._block.update_snapshot(item, data)

    def _list(self, request: RecordedRequest, resource: str) -> Response:
        params = parse_qsl(request.query, keep_blank_values=True)
        query, details = _query(params, resource)
        if details:
            return shapes.invalid_arguments(*details)
        items, total = self._block.list_page(resource, query)
        return _list_response(resource, items, total)

    def _list_types(self, request: RecordedRequest) -> Response:
        query, details = _query(parse_qsl(request.query, keep_blank_values=True), "volume_types")
        if details:
            return shapes.invalid_arguments(*details)
        types = volume_types(self._zone)
        start = (query.page - 1) * query.page_size
        page = [dumps(t) for t in types[start : start + query.page_size]]
        return _list_response("volume_types", page, len(types))


def _list_response(key: str, items: list[bytes], total: int) -> Response:
    body = b'{"%s":[%s],"total_count":%d}' % (key.encode(), b",".join(items), total)
    return Response(200, body, JSON)


def _query(params: list[tuple[str, str]], resource: str) -> tuple[Query, list[dict[str, str]]]:
    """The :class:`Query` of a list request's parameters, and what is wrong with them."""
    single = dict(params)
    details: list[dict[str, str]] = []
    query = Query()
    for key, low, high in (("page", 1, None), ("page_size", 1, 100)):
        value, problem = int_param(single.get(key), getattr(query, key), low, high)
        if problem:
            details.append(argument(key, "constraint", problem))
        setattr(query, key, value)
    if resource == "volume_types":
        return query, details
    order = single.get("order_by", query.order_by)
    if order not in ORDERS:
        details.append(argument("order_by", "constraint", f"must be one of {', '.join(ORDERS)}"))
    query.order_by = order
    raw = single.get("include_deleted", "false").lower()
    if raw not in _BOOLEANS:
        details.append(argument("include_deleted", "format", "must be true or false"))
    query.include_deleted = _BOOLEANS.get(raw, False)
    query.name = single.get("name")
    query.tags = [v for k, v in params if k == "tags" and v]
    uuids = ["project_id", "organization_id"]
    if resource == "volumes":
        query.volume_type = single.get("volume_type")
        query.product_resource_id = single.get("product_resource_id")
        if any(k == "volume_ids" for k, _ in params):
            query.ids = [v for k, v in params if k == "volume_ids" and v]
            if not all(is_uuid(i) for i in query.ids):
                details.append(argument("volume_ids", "constraint", "must be valid UUIDs"))
    else:
        uuids.append("volume_id")
    for key in uuids:
        given = single.get(key)
        if given is not None and not is_uuid(given):
            details.append(argument(key, "constraint", "must be a valid UUID"))
        setattr(query, key, given)
    return query, details
