"""The config file is read and parsed once per version, not at every API built.

An app may build an API per tenant, request or job, inside a running event loop:
each used to open, read and YAML-parse the file (about 1-2 ms, on the loop).
Counted here: opens of the file and PyYAML parses, never time.
"""

from __future__ import annotations

import asyncio
import builtins
import os
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI
from scaleway_volumes import _config_file as config_file
from scaleway_volumes._config import resolve_config
from scaleway_volumes._config_file import load_config_file

CONFIG = """\
secret_key: 11111111-1111-1111-1111-111111111111
default_organization_id: 22222222-2222-2222-2222-222222222222
default_zone: fr-par-1
active_profile: dev
profiles:
  dev:
    default_project_id: 33333333-3333-3333-3333-333333333333
"""
N = 20


def write(path: Path, text: str) -> str:
    """Write ``text`` to ``path``; return the path."""
    path.write_text(text)
    return str(path)


def read_later(monkeypatch: pytest.MonkeyPatch, seconds: float = 60.0) -> None:
    """Reads from now on happen ``seconds`` later (for the cache's clock): the files
    written so far were last changed long before (their change time cannot be set back)."""
    real = time.time_ns
    monkeypatch.setattr(config_file, "_clock", lambda: real() + int(seconds * 1e9))


def count_opens(monkeypatch: pytest.MonkeyPatch, path: str) -> list[str]:
    """The list every ``open()`` of ``path`` is appended to."""
    opened: list[str] = []
    real_open = builtins.open

    def counting_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file) == path:
            opened.append(path)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", counting_open)
    return opened


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The list every ``yaml.load()`` is appended to."""
    parses: list[int] = []
    real_load: Callable[..., Any] = yaml.load

    def counting_load(*args: Any, **kwargs: Any) -> Any:
        parses.append(1)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(yaml, "load", counting_load)
    return parses


def test_apis_built_in_a_running_loop_open_the_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty APIs built inside a handler open the file once; what a caller does to
    the layer it got changes nothing for the next."""
    path = write(tmp_path / "config.yaml", CONFIG)
    read_later(monkeypatch)
    monkeypatch.setenv("SCW_CONFIG_PATH", path)
    opened = count_opens(monkeypatch, path)

    async def handler() -> None:
        for _ in range(N):
            AsyncBlockAPI()
            AsyncVolumeAPI()

    asyncio.run(handler())
    layer = load_config_file({"SCW_CONFIG_PATH": path})
    layer.values["default_zone"] = ("nl-ams-1", "a caller")  # type: ignore[index]
    assert load_config_file({"SCW_CONFIG_PATH": path}).values["default_zone"][0] == "fr-par-1"
    assert len(opened) == 1


def test_a_file_just_written_is_parsed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-tenant APIs with token, organization and project given: one parse, even
    of a file changed a moment ago (read again then, not parsed again)."""
    monkeypatch.setenv("SCW_CONFIG_PATH", write(tmp_path / "config.yaml", CONFIG))
    parses = count_parses(monkeypatch)

    async def per_tenant() -> None:
        for i in range(N):
            AsyncBlockAPI(f"tenant-token-{i:030d}", organization="org", project="proj")

    asyncio.run(per_tenant())
    assert len(parses) == 1


def test_a_rewrite_within_the_same_stamp_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file rewritten with the same size within the filesystem's timestamp
    granularity (same inode, size, mtime and ctime) is still read anew, because it
    was read less than a few seconds after its last change; unchanged, it is not
    parsed again."""
    path = write(tmp_path / "config.yaml", "default_zone: fr-par-1\n")
    environ = {"SCW_CONFIG_PATH": path}
    parses = count_parses(monkeypatch)
    assert [resolve_config(environ=environ).zone for _ in range(3)] == ["fr-par-1"] * 3
    first = os.stat(path)
    write(tmp_path / "config.yaml", "default_zone: nl-ams-1\n")
    real_stat = os.stat

    def same_stamp(target: Any, *args: Any, **kwargs: Any) -> Any:
        if str(target) == path:
            return types.SimpleNamespace(
                **{name: getattr(first, name) for name in dir(first) if name.startswith("st_")}
            )
        return real_stat(target, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(os, "stat", same_stamp)
        assert resolve_config(environ=environ).zone == "nl-ams-1"
    assert len(parses) == 2


def test_missing_appearing_and_malformed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A missing file is not opened at each use, and is seen once it exists; a
    malformed one raises at every use, and is seen once fixed."""
    path = str(tmp_path / "config.yaml")
    environ = {"SCW_CONFIG_PATH": path}
    opened = count_opens(monkeypatch, path)
    assert [resolve_config(environ=environ).zone for _ in range(3)] == ["fr-par-1"] * 3
    assert opened == []
    write(tmp_path / "config.yaml", "default_zone: [pl-waw-1\n")
    for _ in range(3):
        with pytest.raises(ValueError, match="is not valid YAML"):
            resolve_config(environ=environ)
    write(tmp_path / "config.yaml", "default_zone: pl-waw-2\n")
    read_later(monkeypatch)
    assert [resolve_config(environ=environ).zone for _ in range(3)] == ["pl-waw-2"] * 3
    assert len(opened) == 3 + 1


def test_a_just_changed_file_with_an_old_mtime_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file copied with its old modification time kept (``cp -p``, ``rsync -t``) was
    still changed just now (its change time): it is read again until that is 3 s old,
    so a same-size rewrite within the same stamps is seen."""
    path = tmp_path / "config.yaml"
    old = time.time_ns() - 3600 * 10**9
    path.write_text("default_zone: fr-par-1\n")
    os.utime(path, ns=(old, old))  # copied with its mtime kept: ctime is now
    environ = {"SCW_CONFIG_PATH": str(path)}
    assert resolve_config(environ=environ).zone == "fr-par-1"
    first = os.stat(path)
    # Copied again at once, same size, mtime kept again (same source mtime).
    path.write_text("default_zone: nl-ams-1\n")
    os.utime(path, ns=(old, old))
    real_stat = os.stat

    def same_stamp(target: Any, *args: Any, **kwargs: Any) -> Any:
        # A filesystem of 1 s (or a clock tick's) granularity: the rewrite kept every stamp,
        # as test_config_cache.test_a_rewrite_within_the_same_stamp_is_seen simulates too.
        if str(target) == str(path):
            return types.SimpleNamespace(
                **{n: getattr(first, n) for n in dir(first) if n.startswith("st_")}
            )
        return real_stat(target, *args, **kwargs)

    monkeypatch.setattr(os, "stat", same_stamp)
    assert resolve_config(environ=environ).zone == "nl-ams-1"
