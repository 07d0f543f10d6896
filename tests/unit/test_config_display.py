"""What a Config shows: the masked secret, the sources, the config table, its errors."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._config import mask_secret, resolve_config

SECRET = "5ec8e7aa-2222-3333-4444-555555555555"
ORG = "000a115d-2852-4b0a-9ce8-47f1134ba95a"


def config_file(tmp_path: Path, text: str) -> dict[str, str]:
    """An environment naming a config file holding ``text``."""
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return {"SCW_CONFIG_PATH": str(path)}


def test_secret_never_in_repr_str_or_rows(tmp_path: Path) -> None:
    """The secret key shows nowhere: repr, str, rows, sources."""
    environ = config_file(tmp_path, f"secret_key: {SECRET}\n")
    config = resolve_config(environ=environ)
    assert config.require_secret_key() == SECRET
    shown = [repr(config), str(config), repr(config.rows()), repr(dict(config.sources))]
    assert all(SECRET not in text and SECRET[:8] not in text for text in shown)
    assert ("secret_key", "5ec8***", f"profile 'default' in {tmp_path / 'config.yaml'}") in (
        config.rows()
    )


def test_rows_give_every_field_and_its_source(tmp_path: Path) -> None:
    """rows() is the config table: every field, its shown value and where it came from."""
    environ = config_file(
        tmp_path, "default_region: nl-ams\nprofiles:\n  prod:\n    default_project_id: p1\n"
    )
    environ["SCW_ACCESS_KEY"] = "SCWACCESS"
    path = tmp_path / "config.yaml"
    rows = resolve_config(profile="prod", organization=ORG, environ=environ).rows()
    assert rows == [
        ("secret_key", "-", "not set"),
        ("access_key", "SCWACCESS", "environment SCW_ACCESS_KEY"),
        ("api_url", "https://api.scaleway.com", "default"),
        ("zone", "nl-ams-1", f"derived from region (profile 'default' in {path})"),
        ("region", "nl-ams", f"profile 'default' in {path}"),
        ("project", "p1", f"profile 'prod' in {path}"),
        ("organization", ORG, "argument"),
        ("profile", "prod", "argument"),
        ("config_path", str(path), "environment SCW_CONFIG_PATH"),
    ]


def test_require_secret_key_says_where_to_put_one(tmp_path: Path) -> None:
    """No secret: the ValueError names SCW_SECRET_KEY, token=, the profile and the file."""
    environ = config_file(tmp_path, "profiles:\n  prod: {}\n")
    config = resolve_config(profile="prod", environ=environ)
    with pytest.raises(
        ValueError, match=r"^no secret key: pass token=\.\.\. or set the SCW_SECRET_KEY"
    ) as info:
        config.require_secret_key()
    assert f"add secret_key to profile 'prod' in {tmp_path / 'config.yaml'}" in str(info.value)


def test_require_secret_key_without_file_names_where_to_write_one(tmp_path: Path) -> None:
    """With no file, the message names the path `scw init` would write."""
    config = resolve_config(environ={"HOME": str(tmp_path)})
    with pytest.raises(ValueError, match="SCW_SECRET_KEY") as info:
        config.require_secret_key()
    assert str(tmp_path / ".config" / "scw" / "config.yaml") in str(info.value)
    with pytest.raises(ValueError, match=r"environment variable$"):
        resolve_config(environ={}).require_secret_key()


@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1))
def test_mask_reveals_at_most_four_characters(secret: str) -> None:
    """The mask shows at most a 4-character prefix, and never a real-length secret."""
    masked = mask_secret(secret)
    assert masked.endswith("***") and len(masked) <= 7
    assert secret.startswith(masked[:-3])
    if len(secret) >= 8:
        assert secret not in masked


def test_config_is_frozen_and_hashable() -> None:
    """A Config cannot be changed after the fact, and its sources are read-only."""
    config = resolve_config(environ={})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        config.zone = "nl-ams-1"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.sources["zone"] = "x"  # type: ignore[index]
    assert hash(config) == hash(resolve_config(environ={}))
