"""`scaleway-volumes config`: every setting, its source, the file, the URLs; never the secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Invoker, error_lines

SECRET = "4f6c2a19-0b7e-4d3a-9c51-77e2d8a1b0f3"
TOP_SECRET = "9e1d5b27-3c8a-4f60-8a2d-1b4c6e9f0a75"
FIELDS = [
    "secret_key", "access_key", "api_url", "zone", "region", "project", "organization",
    "profile", "config_path", "instance_url", "block_url",
]  # fmt: skip


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "scw.yaml"
    path.write_text(
        f"secret_key: {TOP_SECRET}\n"
        "access_key: SCWABCDEFGHIJKLMNOPQ\n"
        "active_profile: prod\n"
        "profiles:\n"
        "  prod:\n"
        f"    secret_key: {SECRET}\n"
        "    default_zone: nl-ams-1\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SCW_CONFIG_PATH", str(path))
    return path


def _table(stdout: str) -> dict[str, list[str]]:
    """The config table's rows: field -> [value, source] (the header row is drawn apart)."""
    return {
        cells[0]: cells[1:]
        for line in stdout.splitlines()
        if len(cells := [c.strip() for c in line.strip("│ ").split("│")]) == 3
    }


def _no_secret(output: str) -> None:
    assert SECRET not in output and TOP_SECRET not in output
    assert SECRET[4:12] not in output  # not even a part past the masked prefix


def test_plain_table(invoke: Invoker, config_file: Path) -> None:
    """The table has a row per field with value and source; the secret shows masked."""
    result = invoke("config")
    assert result.exit_code == 0, result.stderr
    _no_secret(result.stdout + result.stderr)
    rows = _table(result.stdout)
    assert list(rows) == FIELDS
    where = f"profile 'prod' in {config_file}"
    assert rows["secret_key"] == ["4f6c***", where]
    assert rows["zone"] == ["nl-ams-1", where]
    assert rows["profile"] == ["prod", f"active_profile in {config_file}"]
    assert rows["config_path"] == [str(config_file), "environment SCW_CONFIG_PATH"]
    assert rows["project"] == ["-", "not set"]
    assert rows["instance_url"] == [
        "https://api.scaleway.com/instance/v1/zones/nl-ams-1",
        "api_url and zone",
    ]
    assert rows["block_url"] == [
        "https://api.scaleway.com/block/v1/zones/nl-ams-1",
        "api_url and zone",
    ]


def test_json(invoke: Invoker, config_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--json: field -> {value, source}, null when not set; the secret masked."""
    monkeypatch.setenv("SCW_API_URL", "http://127.0.0.1:9/api/")
    result = invoke("--json", "config")
    assert result.exit_code == 0, result.stderr
    _no_secret(result.stdout + result.stderr)
    shown = json.loads(result.stdout)
    assert list(shown) == FIELDS
    assert shown["secret_key"]["value"] == "4f6c***"
    assert shown["project"] == {"value": None, "source": "not set"}
    assert shown["api_url"] == {
        "value": "http://127.0.0.1:9/api",
        "source": "environment SCW_API_URL",
    }
    assert shown["block_url"]["value"] == "http://127.0.0.1:9/api/block/v1/zones/nl-ams-1"


def test_base_url_option_is_both_urls(invoke: Invoker) -> None:
    """--base-url is what each API would use, and says so."""
    result = invoke("--base-url", "http://127.0.0.1:8080/p/", "--json", "config")
    shown = json.loads(result.stdout)
    for api in ("instance", "block"):
        assert shown[f"{api}_url"] == {"value": "http://127.0.0.1:8080/p", "source": "--base-url"}


def test_no_key_anywhere_is_not_an_error_here(invoke: Invoker, tmp_path: Path) -> None:
    """Without any secret key or file, `config` shows it as not set and exits 0."""
    result = invoke("--json", "config")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["secret_key"] == {"value": None, "source": "not set"}
    absent = tmp_path / "absent-config.yaml"
    assert shown["config_path"] == {
        "value": None,
        "source": f"environment SCW_CONFIG_PATH: {absent} does not exist",
    }
    assert shown["profile"]["value"] is None

    plain = invoke("config")
    assert plain.exit_code == 0
    assert _table(plain.stdout)["secret_key"] == ["-", "not set"]


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize(
    "content",
    [
        f"secret_key: {SECRET}\nprofiles: [broken\n",
        f"secret_key: {SECRET}\n  default_zone: {SECRET}: x\n",
        f"secret_key: {SECRET}\nprofiles:\n  - {SECRET}\n",
        "- a list\n- not a mapping\n",
        f"secret_key: !!int {SECRET}\n",
        "default_project_id: !!timestamp 2024-13-45\n",
        "x: " + "[" * 500 + "]" * 500 + "\n",
    ],
    ids=["unclosed", "bad-indent", "profiles-list", "not-a-mapping", "int-tag", "no-date", "deep"],
)
def test_malformed_file_is_one_line_naming_it(
    invoke: Invoker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    content: str,
    as_json: bool,
) -> None:
    """A malformed file: exit 2, one line that names the file, no secret printed."""
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    monkeypatch.setenv("SCW_CONFIG_PATH", str(path))
    result = invoke(*(["--json"] if as_json else []), "config")
    assert result.exit_code == 2
    assert result.stdout == ""
    _no_secret(result.stderr)
    [line] = result.stderr.splitlines()
    message = json.loads(line)["error"] if as_json else line
    assert f"config file {path}" in message


def test_bad_token_option_is_refused_without_echoing_it(invoke: Invoker) -> None:
    """A --token with a space is a usage error that does not repeat the token."""
    result = invoke("--token", f"{SECRET} x", "config")
    assert result.exit_code == 2
    error, _ = error_lines(result.stderr)
    assert error == "Error: --token must be printable ASCII without spaces"
    _no_secret(result.stderr)


def test_legacy_zone_leaves_block_unusable(invoke: Invoker) -> None:
    """The seed's legacy zone works for Instance; Block's row says why it cannot."""
    result = invoke("--zone", "par1", "--json", "config")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["instance_url"]["value"] == "https://cp-par1.scaleway.com"
    assert shown["block_url"]["value"] is None
    assert shown["block_url"]["source"].startswith("unusable: Block Storage has no legacy zone")


def test_fake_has_no_fixed_url(invoke: Invoker) -> None:
    """With --fake the URLs are a fake's, started per command."""
    shown = json.loads(invoke("--fake", "--json", "config").stdout)
    assert shown["instance_url"] == {
        "value": None,
        "source": "--fake: a fake served on 127.0.0.1 for each command",
    }


def test_help_mentions_config_and_profile(invoke: Invoker) -> None:
    """The group's help lists `config` and --profile with its variable."""
    result = invoke("--help")
    assert "config" in result.stdout
    assert "--profile NAME" in result.stdout
    assert "SCW_PROFILE" in result.stdout
    assert "Show the settings in effect" in invoke("config", "--help").stdout


def test_a_path_holding_the_word_argument_is_printed_as_it_is(
    invoke: Invoker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the library's own "(from argument)" forms are named as options: a config
    file under a directory called ``argument`` keeps its path, in an error and in
    `config`'s source column."""
    folder = tmp_path / "argument"
    folder.mkdir()
    path = folder / "config.yaml"
    path.write_text(f"secret_key: {SECRET}\n", encoding="utf-8")
    monkeypatch.setenv("SCW_CONFIG_PATH", str(path))
    refused = invoke("--profile", "nope", "config")
    assert refused.exit_code == 2
    assert "(from option --profile)" in refused.stderr and str(path) in refused.stderr
    shown = invoke("--json", "config")
    assert shown.exit_code == 0
    assert json.loads(shown.stdout)["secret_key"]["source"] == f"profile 'default' in {path}"
