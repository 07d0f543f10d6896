"""Block Storage JSON as the real API sends it (the shapes of recorded traffic)."""

from __future__ import annotations

import uuid
from typing import Any

PROJECT = "105bdce1-64c0-48ab-899d-868455867ecf"
STAMP = "2025-03-11T10:00:00.123456Z"


def reference_json(**overrides: Any) -> dict[str, Any]:
    """A volume reference: the volume attached to an Instance server."""
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "product_resource_type": "instance_server",
        "product_resource_id": str(uuid.uuid4()),
        "created_at": "2025-03-11T10:05:00.5Z",
        "type": "exclusive",
        "status": "attached",
    }
    data.update(overrides)
    return data


def block_volume_json(**overrides: Any) -> dict[str, Any]:
    """A Block volume body (the bare object of get, create and update)."""
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": "data-0",
        "type": "sbs_5k",
        "size": 20_000_000_000,
        "project_id": PROJECT,
        "created_at": STAMP,
        "updated_at": STAMP,
        "references": [reference_json()],
        "parent_snapshot_id": None,
        "status": "in_use",
        "tags": ["env=prod"],
        "specs": {"perf_iops": 5000, "class": "sbs"},
        "last_detached_at": None,
        "kms_key_id": None,
        "zone": "fr-par-1",
    }
    data.update(overrides)
    return data


def block_snapshot_json(**overrides: Any) -> dict[str, Any]:
    """A Block snapshot body."""
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": "nightly",
        "parent_volume": {
            "id": str(uuid.uuid4()),
            "name": "data-0",
            "type": "sbs_5k",
            "status": "in_use",
        },
        "size": 20_000_000_000,
        "project_id": PROJECT,
        "created_at": STAMP,
        "updated_at": "2025-03-11T10:01:00Z",
        "references": [],
        "status": "available",
        "tags": [],
        "zone": "fr-par-1",
        "class": "sbs",
        "public": False,
        "kms_key_id": None,
    }
    data.update(overrides)
    return data


def volume_type_json(**overrides: Any) -> dict[str, Any]:
    """An item of ``GET /volume-types``."""
    data: dict[str, Any] = {
        "type": "sbs_15k",
        "pricing": {"currency_code": "EUR", "units": 0, "nanos": 120000000},
        "snapshot_pricing": {"currency_code": "EUR", "units": 0, "nanos": 50000000},
        "specs": {"perf_iops": 15000, "class": "sbs"},
        "zone": "fr-par-1",
    }
    data.update(overrides)
    return data
