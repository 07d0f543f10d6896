"""The Scaleway config file: where it is found, which profile applies, malformed files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import scaleway_volumes
from scaleway_volumes._config import resolve_config

SECRET = "5ec8e7aa-2222-3333-4444-555555555555"
OTHER_SECRET = "0dd5ec8e-6666-7777-8888-999999999999"
ORG = "000a115d-2852-4b0a-9ce8-47f1134ba95a"
PROJECT = "1111aaaa-2852-4b0a-9ce8-47f1134ba95a"

TWO_PROFILES = f"""\
access_key: SCWTOPLEVELXXXXXXXXX
secret_key: {SECRET}
default_organization_id: {ORG}
default_zone: fr-par-2
profiles:
  prod:
    secret_key: {OTHER_SECRET}
    default_zone: nl-ams-1
  dev:
    default_zone: pl-waw-1
"""


def write(path: Path, text: str | bytes) -> Path:
    """Write ``text`` to ``path`` (creating its directories) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def env_for(path: Path, **extra: str) -> dict[str, str]:
    """An environment whose only config file is ``path``."""
    return {"SCW_CONFIG_PATH": str(path), **extra}


# -- where the file is -------------------------------------------------------------


def test_scw_config_path_names_the_file(tmp_path: Path) -> None:
    """$SCW_CONFIG_PATH is the file read, wherever it is."""
    path = write(tmp_path / "any" / "name.yml", "default_zone: nl-ams-2\n")
    config = resolve_config(environ=env_for(path))
    assert config.zone == "nl-ams-2"
    assert config.config_path == str(path)
    assert config.sources["config_path"] == "environment SCW_CONFIG_PATH"
    assert config.sources["zone"] == f"profile 'default' in {path}"


def test_scw_config_path_wins_over_xdg_config_home(tmp_path: Path) -> None:
    """$SCW_CONFIG_PATH is preferred to $XDG_CONFIG_HOME/scw/config.yaml."""
    explicit = write(tmp_path / "explicit.yaml", "default_zone: nl-ams-2\n")
    write(tmp_path / "xdg" / "scw" / "config.yaml", "default_zone: pl-waw-2\n")
    environ = env_for(explicit, XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    assert resolve_config(environ=environ).zone == "nl-ams-2"


def test_xdg_config_home(tmp_path: Path) -> None:
    """Without $SCW_CONFIG_PATH the file is $XDG_CONFIG_HOME/scw/config.yaml, not ~'s."""
    path = write(tmp_path / "xdg" / "scw" / "config.yaml", "default_zone: pl-waw-2\n")
    write(tmp_path / "home" / ".config" / "scw" / "config.yaml", "default_zone: nl-ams-2\n")
    environ = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HOME": str(tmp_path / "home")}
    config = resolve_config(environ=environ)
    assert (config.zone, config.config_path) == ("pl-waw-2", str(path))
    assert config.sources["config_path"] == "environment XDG_CONFIG_HOME"


def test_default_path_under_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With neither variable set the file is ~/.config/scw/config.yaml (os.environ)."""
    path = write(tmp_path / ".config" / "scw" / "config.yaml", "default_zone: nl-ams-3\n")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    config = resolve_config()
    assert (config.zone, config.config_path) == ("nl-ams-3", str(path))
    assert config.sources["config_path"] == "default location"


def test_userprofile_when_no_home(tmp_path: Path) -> None:
    """As in the Go SDK, $USERPROFILE stands in for a missing $HOME (Windows)."""
    path = write(tmp_path / ".config" / "scw" / "config.yaml", "default_zone: nl-ams-3\n")
    assert resolve_config(environ={"USERPROFILE": str(tmp_path)}).config_path == str(path)


def test_no_home_means_no_file() -> None:
    """An environment without any home has no config file and needs none."""
    config = resolve_config(environ={})
    assert (config.config_path, config.searched_path, config.profile) == (None, None, None)
    assert config.sources["config_path"] == "no home directory"


def test_missing_file_is_fine(tmp_path: Path) -> None:
    """A config file that does not exist, even one named by $SCW_CONFIG_PATH, is no error."""
    missing = tmp_path / "nope.yaml"
    config = resolve_config(environ=env_for(missing, SCW_DEFAULT_ZONE="nl-ams-1"))
    assert (config.zone, config.config_path, config.profile) == ("nl-ams-1", None, None)
    assert config.searched_path == str(missing)
    assert ("config_path", "-", f"environment SCW_CONFIG_PATH: {missing} does not exist") in (
        config.rows()
    )


def test_empty_file_is_fine(tmp_path: Path) -> None:
    """An empty (or all-comments) file is a file with no settings."""
    path = write(tmp_path / "c.yaml", "# nothing yet\n")
    config = resolve_config(environ=env_for(path))
    assert (config.zone, config.profile, config.config_path) == ("fr-par-1", "default", str(path))


def test_importing_and_resolving_without_a_file_does_not_import_yaml(tmp_path: Path) -> None:
    """PyYAML is imported only when there is a file to parse."""
    code = (
        "import sys, scaleway_volumes, scaleway_volumes._config as c\n"
        f"c.resolve_config(environ={{'SCW_CONFIG_PATH': {str(tmp_path / 'none')!r}}})\n"
        "assert 'yaml' not in sys.modules, 'yaml imported'\n"
        f"c.resolve_config(environ={{'SCW_CONFIG_PATH': {str(write(tmp_path / 'c', ''))!r}}})\n"
        "assert 'yaml' in sys.modules\n"
    )
    root = str(Path(scaleway_volumes.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": root}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


# -- which profile -----------------------------------------------------------------


def test_top_level_keys_without_a_profile(tmp_path: Path) -> None:
    """With no profile chosen anywhere, the top-level keys apply (profile 'default')."""
    path = write(tmp_path / "c.yaml", TWO_PROFILES)
    config = resolve_config(environ=env_for(path))
    assert (config.profile, config.zone, config.secret_key) == ("default", "fr-par-2", SECRET)
    assert config.sources["profile"] == "default"


def test_active_profile_chooses(tmp_path: Path) -> None:
    """The file's active_profile picks a profile when nothing else does."""
    path = write(tmp_path / "c.yaml", TWO_PROFILES + "active_profile: dev\n")
    config = resolve_config(environ=env_for(path))
    assert (config.profile, config.zone) == ("dev", "pl-waw-1")
    assert config.sources["profile"] == f"active_profile in {path}"
    assert config.sources["zone"] == f"profile 'dev' in {path}"


def test_scw_profile_over_active_profile(tmp_path: Path) -> None:
    """$SCW_PROFILE beats the file's active_profile."""
    path = write(tmp_path / "c.yaml", TWO_PROFILES + "active_profile: dev\n")
    config = resolve_config(environ=env_for(path, SCW_PROFILE="prod"))
    assert (config.profile, config.zone) == ("prod", "nl-ams-1")
    assert config.sources["profile"] == "environment SCW_PROFILE"


def test_profile_argument_over_scw_profile(tmp_path: Path) -> None:
    """profile= beats $SCW_PROFILE (and active_profile)."""
    path = write(tmp_path / "c.yaml", TWO_PROFILES + "active_profile: prod\n")
    config = resolve_config(profile="dev", environ=env_for(path, SCW_PROFILE="prod"))
    assert (config.profile, config.zone) == ("dev", "pl-waw-1")
    assert config.sources["profile"] == "argument"


def test_named_profile_falls_back_to_top_level_keys(tmp_path: Path) -> None:
    """A key the named profile lacks comes from the top level, and says so."""
    path = write(tmp_path / "c.yaml", TWO_PROFILES)
    config = resolve_config(profile="prod", environ=env_for(path))
    assert (config.secret_key, config.zone) == (OTHER_SECRET, "nl-ams-1")
    assert (config.organization, config.access_key) == (ORG, "SCWTOPLEVELXXXXXXXXX")
    assert config.sources["zone"] == f"profile 'prod' in {path}"
    assert config.sources["organization"] == f"profile 'default' in {path}"


def test_default_profile_means_top_level(tmp_path: Path) -> None:
    """'default' names the top level, even if profiles has an entry of that name (as Go)."""
    text = TWO_PROFILES + "  default:\n    default_zone: it-mil-1\nactive_profile: prod\n"
    path = write(tmp_path / "c.yaml", text)
    config = resolve_config(profile="default", environ=env_for(path))
    assert (config.profile, config.zone) == ("default", "fr-par-2")


def test_null_profile_is_an_empty_profile(tmp_path: Path) -> None:
    """A profile whose keys are all commented out (YAML null) falls back entirely."""
    path = write(tmp_path / "c.yaml", "default_zone: nl-ams-1\nprofiles:\n  bare:\n")
    config = resolve_config(profile="bare", environ=env_for(path))
    assert (config.profile, config.zone) == ("bare", "nl-ams-1")


def test_unknown_profile_names_file_profile_and_known_ones(tmp_path: Path) -> None:
    """An unknown profile is a ValueError naming it, the file and the profiles there."""
    path = write(tmp_path / "c.yaml", TWO_PROFILES)
    with pytest.raises(ValueError, match="unknown profile 'staging'") as info:
        resolve_config(profile="staging", environ=env_for(path))
    message = str(info.value)
    assert str(path) in message and "(from argument)" in message
    assert "known profiles: 'default', 'dev', 'prod'" in message


def test_unknown_active_profile_says_it_came_from_active_profile(tmp_path: Path) -> None:
    """A dangling active_profile is an error that says active_profile chose it."""
    path = write(tmp_path / "c.yaml", TWO_PROFILES + "active_profile: gone\n")
    with pytest.raises(ValueError, match=f"'gone' \\(from active_profile in {path}\\)"):
        resolve_config(environ=env_for(path))


@pytest.mark.parametrize("quote", ["", "'"])
@pytest.mark.parametrize("how", ["argument", "active_profile"])
def test_unquoted_numeric_profile_name_is_found(tmp_path: Path, how: str, quote: str) -> None:
    """`scw config profile activate 2024` writes `active_profile: 2024` and `2024:`
    unquoted, and the Go tools read both as the text 2024: so does the library."""
    text = "profiles:\n  2024:\n    default_zone: nl-ams-1\n"
    if how == "active_profile":
        text += f"active_profile: {quote}2024{quote}\n"
    path = write(tmp_path / "c.yaml", text)
    config = resolve_config(profile="2024" if how == "argument" else None, environ=env_for(path))
    assert (config.profile, config.zone) == ("2024", "nl-ams-1")


@pytest.mark.parametrize("name", ["yes", "no", "on", "off", "true", "null", "010", "0x1f", "1_000"])
def test_profile_names_yaml_would_retype_are_found(tmp_path: Path, name: str) -> None:
    """A plain YAML scalar is its text, as the Go tools read the file: a profile
    named `yes` is not True, `010` is not 8 (and is listed by its name)."""
    quoted = f"'{name}'" if name == "null" else name  # an unquoted `null:` is no name
    text = f"secret_key: {SECRET}\nprofiles:\n  {quoted}:\n    default_zone: nl-ams-1\n"
    path = write(tmp_path / "c.yaml", text)
    config = resolve_config(environ=env_for(path, SCW_PROFILE=name))
    assert (config.profile, config.zone) == (name, "nl-ams-1")
    with pytest.raises(ValueError, match=f"known profiles: 'default', '{name}'$"):
        resolve_config(profile="other", environ=env_for(path))


def test_values_yaml_would_retype_are_text(tmp_path: Path) -> None:
    """Unquoted numbers and dates are read as the text written, in keys the library
    reads and in keys it does not (an invalid date-like value gets in no one's way)."""
    text = (
        f"secret_key: {SECRET}\n"
        "default_project_id: 1234\n"
        "send_telemetry: yes\n"
        "profiles:\n  old:\n    expires: 2024-02-30\n"
    )
    path = write(tmp_path / "c.yaml", text)
    config = resolve_config(environ=env_for(path))
    assert (config.secret_key, config.project) == (SECRET, "1234")


def test_profile_without_profiles_section(tmp_path: Path) -> None:
    """A file with no profiles section knows only 'default'."""
    path = write(tmp_path / "c.yaml", "default_zone: nl-ams-1\n")
    with pytest.raises(ValueError, match=r"known profiles: 'default'$"):
        resolve_config(environ=env_for(path, SCW_PROFILE="prod"))


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_named_profile_without_any_file_is_an_error(tmp_path: Path, how: str) -> None:
    """Asking for a profile when no config file exists is an error naming the path looked at."""
    missing = tmp_path / "none.yaml"
    environ = env_for(missing, **({"SCW_PROFILE": "prod"} if how == "environment" else {}))
    profile = "prod" if how == "argument" else None
    with pytest.raises(ValueError, match="unknown profile 'prod'") as info:
        resolve_config(profile=profile, environ=environ)
    assert f"no config file at {missing}" in str(info.value)


def test_default_profile_without_any_file_is_fine(tmp_path: Path) -> None:
    """'default' needs no file: it is the (empty) top level."""
    config = resolve_config(profile="default", environ=env_for(tmp_path / "none.yaml"))
    assert (config.profile, config.zone) == (None, "fr-par-1")


def test_unknown_keys_are_ignored(tmp_path: Path) -> None:
    """Keys scw writes that we do not use (insecure, send_telemetry...) are left alone."""
    text = "insecure: true\nsend_telemetry: false\napiurl: x\nprofiles:\n  p:\n    insecure: 1\n"
    config = resolve_config(profile="p", environ=env_for(write(tmp_path / "c.yaml", text)))
    assert config.api_url == "https://api.scaleway.com"


# -- malformed files ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("default_zone: [nl-ams-1\n", "is not valid YAML: .*line 2, column 1"),
        ("a: 1\n b: 2\n", "is not valid YAML: mapping values are not allowed here"),
        ("key:\tvalue\n  - x\n", "is not valid YAML"),
        ("---\na: 1\n---\nb: 2\n", "is not valid YAML: .*single document"),
        (b"default_zone: \xff\xfe\x00x\n", "is not valid YAML: not UTF-8 or UTF-16 text"),
        ("- fr-par-1\n", "must be a YAML mapping of settings, got list"),
        ("just text\n", "must be a YAML mapping of settings, got str"),
        ("profiles: [prod]\n", "profiles must be a mapping of profile names"),
        ("active_profile: [a]\n", "active_profile must be a profile name"),
        ("default_zone: [a]\n", "default_zone of profile 'default' must be a string, got list$"),
        ("default_project_id: !!int 1234\n", "default_project_id of .* must be a string, got int$"),
        # Values PyYAML fails to build: Python's errors, not PyYAML's.
        ("default_project_id: !!timestamp 2024-13-45\n", "not the date or .*line 1, column 21"),
        ("profiles:\n  p:\n    x: !!float nope\n", "not the date or number .*line 3, column 8"),
        ("x: !!int " + "9" * 5000 + "\n", "not the date or number .*line 1, column 4"),
        ("x: !!int ''\n", "not the date or number .*line 1, column 4"),  # IndexError
        ("x: !!bool maybe\n", "not the date or number .*line 1, column 4"),  # KeyError
        ("x: " + "[" * 500 + "]" * 500 + "\n", "is not valid YAML: collections nested too deeply"),
    ],
)
def test_malformed_file_is_value_error_naming_it(
    tmp_path: Path, text: str | bytes, match: str
) -> None:
    """Bad YAML, a non-mapping, a wrong-typed key: a ValueError that names the file."""
    path = write(tmp_path / "c.yaml", text)
    with pytest.raises(ValueError, match=match) as info:
        resolve_config(environ=env_for(path))
    assert f"config file {path}" in str(info.value)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("    - nl-ams-1\n", "profile 'prod' must be a mapping of settings, got list"),
        ("    default_zone: !!int 3\n", "default_zone of profile 'prod' must be a string, got int"),
    ],
)
def test_malformed_profile_names_file_and_profile(tmp_path: Path, body: str, match: str) -> None:
    """A profile that is not a mapping, or holds a wrong type, names the file and profile."""
    path = write(tmp_path / "c.yaml", "profiles:\n  prod:\n" + body)
    with pytest.raises(ValueError, match=match) as info:
        resolve_config(profile="prod", environ=env_for(path))
    assert str(path) in str(info.value)


def test_unused_broken_profile_does_not_matter(tmp_path: Path) -> None:
    """Only the profile in use (and the top level) is checked."""
    path = write(tmp_path / "c.yaml", "profiles:\n  broken: 3\n  ok:\n    default_zone: pl-waw-1\n")
    assert resolve_config(profile="ok", environ=env_for(path)).zone == "pl-waw-1"


def test_unreadable_file_is_value_error(tmp_path: Path) -> None:
    """A path that exists but cannot be read (a directory) is a ValueError naming it."""
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(ValueError, match=f"cannot read config file {tmp_path / 'dir.yaml'}"):
        resolve_config(environ=env_for(tmp_path / "dir.yaml"))


# -- the secret never shows ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        f"secret_key: *{SECRET}\n",  # undefined alias: PyYAML quotes its name
        f"secret_key: !{SECRET} x\n",  # unknown tag: PyYAML quotes it
        f"a: &{SECRET} 1\nb: &{SECRET} 2\n",  # duplicate anchor
        f"secret_key: {SECRET}: x\n",  # PyYAML's message would show the line
        f'secret_key: "{SECRET}\n',  # unterminated string
        f"secret_key:\t{SECRET}\n  x: [\n",
        f"secret_key: [{SECRET}]\n",  # wrong type
        f'secret_key: "{SECRET} with spaces"\n',  # not a valid token
        f"profiles:\n  prod:\n    secret_key: {{{SECRET}: 1}}\n",
        f"secret_key: {SECRET}\nprofiles: {SECRET}\n",
        f"secret_key: !!int {SECRET}\n",  # int()'s error quotes the text
        f"secret_key: !!float {SECRET}\n",
        f"secret_key: !!timestamp {SECRET}\n",  # an AttributeError inside PyYAML
        f"secret_key: !!bool {SECRET}\n",  # a KeyError whose text is the value
    ],
)
def test_secret_never_in_error(tmp_path: Path, text: str) -> None:
    """No error about the file shows the secret, in its text or its chained exceptions."""
    path = write(tmp_path / "c.yaml", text)
    with pytest.raises(ValueError) as info:
        resolve_config(profile="prod" if "prod" in text else None, environ=env_for(path))
    error: BaseException | None = info.value
    while error is not None:
        assert SECRET not in str(error) and SECRET not in repr(error)
        assert SECRET[:8] not in str(error)
        error = error.__cause__ or error.__context__
