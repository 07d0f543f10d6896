"""Builders for respx-based unit tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from scaleway_volumes import AsyncVolumeAPI, BlockVolume, RetryPolicy

from ..conftest import BASE, ORG, TOKEN

# The httpx-compatible packages a shared client may come from, for parametrize.
try:  # httpx2 needs Python 3.11+: on 3.10 these tests run for httpx alone.
    import httpx2
except ImportError:  # pragma: no cover - Python 3.10
    HTTP_MODULES: list[object] = [httpx]
else:
    HTTP_MODULES = [httpx, httpx2]
HTTP_MODULE_IDS = [module.__name__ for module in HTTP_MODULES]  # type: ignore[attr-defined]


def volume_json(**overrides: Any) -> dict[str, Any]:
    """A volume as the current API sends it."""
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": "volume-0-1",
        "size": 10_000_000_000,
        "volume_type": "l_ssd",
        "organization": ORG,
        "project": ORG,
        "export_uri": None,
        "server": None,
        "state": "available",
        "tags": [],
        "zone": "fr-par-1",
        "creation_date": "2026-11-27T10:38:35.123456+00:00",
        "modification_date": "2026-11-27T10:38:35.123456+00:00",
    }
    data.update(overrides)
    return data


def make_api(**kwargs: Any) -> AsyncVolumeAPI:
    """An API on a shared stock httpx client (the transport respx patches)."""
    kwargs.setdefault("organization", ORG)
    kwargs.setdefault("client", httpx.AsyncClient())
    kwargs.setdefault("retry", RetryPolicy(max_retries=3))
    return AsyncVolumeAPI(TOKEN, base_url=kwargs.pop("base_url", BASE), **kwargs)


def block_volume(status: str = "creating", volume_id: str | None = None) -> BlockVolume:
    """A Block volume in ``status`` (a fresh id unless given)."""
    return BlockVolume(
        id=volume_id or str(uuid.uuid4()),
        name="v",
        type="sbs_5k",
        size=10**10,
        project_id=str(uuid.UUID(int=0)),
        status=status,
    )
