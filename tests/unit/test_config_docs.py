"""docs/configuration.md's example config file behaves as the page says."""

from __future__ import annotations

import re
from pathlib import Path

from scaleway_volumes._config import resolve_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
EXAMPLE = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_documented_example_file(tmp_path: Path) -> None:
    """`dev` is active and borrows from the top level; `prod` brings its own key and zone."""
    assert len(EXAMPLE) == 1
    path = tmp_path / ".config" / "scw" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(EXAMPLE[0])
    environ = {"HOME": str(tmp_path)}

    dev = resolve_config(environ=environ)
    assert (dev.profile, dev.zone) == ("dev", "fr-par-1")
    assert dev.project == "33333333-3333-3333-3333-333333333333"
    assert dev.secret_key is not None and dev.secret_key.startswith("1111")
    assert dev.organization is not None and dev.organization.startswith("2222")

    prod = resolve_config(profile="prod", environ=environ)
    assert (prod.profile, prod.zone, prod.region) == ("prod", "nl-ams-1", "nl-ams")
    assert prod.secret_key is not None and prod.secret_key.startswith("4444")
    assert prod.project is not None and prod.project.startswith("5555")
    assert prod.organization == dev.organization

    assert resolve_config(environ={**environ, "SCW_PROFILE": "prod"}).zone == "nl-ams-1"
