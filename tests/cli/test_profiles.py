"""Where the command line's settings come from: options, then SCW_*, then the config file.

Each test writes a config file in ``tmp_path`` (``SCW_CONFIG_PATH``) and runs a
real command against the test's fake, which knows one token only: a command
that works proves which secret key was chosen.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scaleway_volumes.testing import FAKE_ORGANIZATION, FAKE_TOKEN, FakeScaleway

from .conftest import Invoker, error_lines, one_error_line

WRONG = "00000000-0000-0000-0000-00000000dead"
PROD_PROJECT = "55555555-5555-5555-5555-555555555555"


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file like `scw init` writes, with a wrong top-level key and the right one in prod."""
    path = tmp_path / "config.yaml"
    path.write_text(
        f"secret_key: {WRONG}\n"
        f"default_organization_id: {FAKE_ORGANIZATION}\n"
        "profiles:\n"
        "  prod:\n"
        f"    secret_key: {FAKE_TOKEN}\n"
        f"    default_project_id: {PROD_PROJECT}\n"
        "  dev:\n"
        f"    secret_key: {WRONG}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SCW_CONFIG_PATH", str(path))
    return path


def _list(invoke: Invoker, *options: str) -> tuple[int, str]:
    result = invoke("--base-url", invoke.server.base_url, *options, "--json", "list")
    return result.exit_code, result.stderr


def test_missing_token(invoke: Invoker, tmp_path: Path) -> None:
    """No key anywhere: exit 2, naming every place one can go, and pointing at `config`."""
    result = invoke("list")
    assert result.exit_code == 2
    error, hint = error_lines(result.stderr)
    assert error == (
        "Error: no secret key: pass --token or set SCW_SECRET_KEY, or write one to "
        f"{tmp_path / 'absent-config.yaml'} (`scw init` does)"
    )
    assert (
        hint
        == "hint: `scaleway-volumes config` shows every setting in effect and where it comes from."
    )


def test_token_from_environment(invoke: Invoker, monkeypatch: pytest.MonkeyPatch) -> None:
    """SCW_SECRET_KEY alone is enough, with no config file."""
    monkeypatch.setenv("SCW_SECRET_KEY", FAKE_TOKEN)
    result = invoke("--base-url", invoke.server.base_url, "--json", "list")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_wrong_token_is_an_api_error(invoke: Invoker) -> None:
    """A key the API refuses is a failed operation (1), not a usage error."""
    result = invoke("--base-url", invoke.server.base_url, "--token", "nope", "list")
    assert result.exit_code == 1
    assert "401" in one_error_line(result.stderr)


def test_unknown_zone(invoke: Invoker) -> None:
    """A --zone that is not zone-shaped is a usage error (2) naming it, and the option
    it came from as the command line calls it (the library says "argument zone")."""
    result = invoke("--token", "x", "--zone", "mars-base-1", "list")
    assert result.exit_code == 2
    error = one_error_line(result.stderr)
    assert error.startswith("Error: unknown zone 'mars-base-1' (from option --zone): ")
    assert "argument" not in error


@pytest.mark.parametrize("command", [["list"], ["block", "list"], ["config"]])
def test_every_command_names_the_option_alike(invoke: Invoker, command: list[str]) -> None:
    """API commands and `config` word a bad --zone the same way (one translation)."""
    result = invoke("--token", "x", "--zone", "nope", "--json", *command)
    assert result.exit_code == 2
    assert json.loads(result.stderr)["error"].startswith(
        "unknown zone 'nope' (from option --zone): expected a zone such as"
    )


def test_unknown_zone_from_environment(invoke: Invoker, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad SCW_DEFAULT_ZONE is a usage error even with --fake, naming the variable."""
    monkeypatch.setenv("SCW_DEFAULT_ZONE", "nowhere")
    result = invoke("--fake", "list")
    assert result.exit_code == 2
    error = one_error_line(result.stderr)
    assert "unknown zone 'nowhere' (from environment SCW_DEFAULT_ZONE)" in error


def test_profile_option_picks_the_profile(invoke: Invoker, config_file: Path) -> None:
    """--profile prod uses prod's key; without it the top level's wrong key gets a 401."""
    assert _list(invoke, "--profile", "prod") == (0, "")
    code, stderr = _list(invoke)
    assert code == 1
    assert json.loads(stderr)["error"].startswith("401 denied_authentication")


def test_profile_reaches_the_api_beyond_the_key(
    invoke: Invoker, fake: FakeScaleway, config_file: Path
) -> None:
    """The profile's project and the top level's organization go into a create."""
    result = invoke(
        "--base-url", invoke.server.base_url, "--profile", "prod",
        "create", "--name", "p", "--size", "10GB",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    [volume] = fake.volumes
    assert volume["project"] == PROD_PROJECT


def test_scw_profile_picks_the_profile(
    invoke: Invoker, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SCW_PROFILE does what --profile does."""
    monkeypatch.setenv("SCW_PROFILE", "prod")
    assert _list(invoke) == (0, "")


def test_profile_option_over_scw_profile(
    invoke: Invoker, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--profile wins over SCW_PROFILE."""
    monkeypatch.setenv("SCW_PROFILE", "dev")
    assert _list(invoke)[0] == 1
    assert _list(invoke, "--profile", "prod") == (0, "")


def test_environment_over_file(
    invoke: Invoker, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SCW_SECRET_KEY wins over the profile's secret_key."""
    monkeypatch.setenv("SCW_SECRET_KEY", FAKE_TOKEN)
    assert _list(invoke, "--profile", "dev") == (0, "")


def test_token_option_over_environment(
    invoke: Invoker, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--token wins over SCW_SECRET_KEY (and the file)."""
    monkeypatch.setenv("SCW_SECRET_KEY", WRONG)
    assert _list(invoke)[0] == 1
    assert _list(invoke, "--token", FAKE_TOKEN) == (0, "")


def test_options_show_as_their_source(
    invoke: Invoker, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`config` tells option from variable from profile for each value."""
    monkeypatch.setenv("SCW_DEFAULT_ZONE", "pl-waw-1")
    result = invoke("--profile", "prod", "--zone", "nl-ams-2", "--json", "config")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["zone"] == {"value": "nl-ams-2", "source": "option --zone"}
    assert shown["region"] == {"value": "nl-ams", "source": "derived from zone (option --zone)"}
    assert shown["profile"] == {"value": "prod", "source": "option --profile"}
    assert shown["project"]["source"] == f"profile 'prod' in {config_file}"
    assert shown["organization"]["source"] == f"profile 'default' in {config_file}"


def test_unknown_profile_is_a_usage_error(invoke: Invoker, config_file: Path) -> None:
    """An unknown profile: exit 2, one line naming it, the option, the file and the
    known ones."""
    result = invoke("--profile", "staging", "list")
    assert result.exit_code == 2
    error, hint = error_lines(result.stderr)
    assert error == (
        f"Error: unknown profile 'staging' (from option --profile) in config file "
        f"{config_file}; known profiles: 'default', 'dev', 'prod'"
    )
    assert hint is None


def test_unknown_profile_from_environment(
    invoke: Invoker, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From SCW_PROFILE, the line names the variable, as the library words it."""
    monkeypatch.setenv("SCW_PROFILE", "staging")
    result = invoke("list")
    assert result.exit_code == 2
    assert "unknown profile 'staging' (from environment SCW_PROFILE)" in result.stderr


def test_profile_without_a_key_says_where_to_add_one(
    invoke: Invoker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No key in the profile nor anywhere: exit 2, naming the profile and the file."""
    path = tmp_path / "keyless.yaml"
    path.write_text("profiles:\n  ops:\n    default_zone: fr-par-2\n", encoding="utf-8")
    monkeypatch.setenv("SCW_CONFIG_PATH", str(path))
    result = invoke("--profile", "ops", "list")
    assert result.exit_code == 2
    error, hint = error_lines(result.stderr)
    assert error == (
        "Error: no secret key: pass --token or set SCW_SECRET_KEY, "
        f"or add secret_key to profile 'ops' in {path}"
    )
    assert hint is not None and "scaleway-volumes config" in hint


def test_fake_ignores_the_configured_key(
    invoke: Invoker, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--fake talks to its own fake whatever key is configured, and still reads the profile."""
    monkeypatch.setenv("SCW_SECRET_KEY", WRONG)
    result = invoke("--fake", "--profile", "prod", "--json", "list")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == []


def _refused_hint(invoke: Invoker, *options: str) -> str:
    code, stderr = _list(invoke, *options)
    assert code == 1
    failure = json.loads(stderr)
    assert failure["error"].startswith("401 denied_authentication")
    assert WRONG not in stderr
    return str(failure["hint"])


def test_a_refused_key_from_the_environment_is_named_with_the_way_out(
    invoke: Invoker, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SCW_SECRET_KEY comes before every profile: after a 401, --profile alone would
    not help, and the hint says so."""
    monkeypatch.setenv("SCW_SECRET_KEY", WRONG)
    hint = _refused_hint(invoke, "--profile", "prod")
    assert hint.startswith("The API refused the secret key in SCW_SECRET_KEY: ")
    assert "unset SCW_SECRET_KEY" in hint and "--profile included" in hint


def test_a_refused_key_from_the_file_names_its_profile(invoke: Invoker, config_file: Path) -> None:
    """The top level's wrong key, then the dev profile's: each hint names where it is."""
    hint = _refused_hint(invoke)
    assert hint.startswith(f"The API refused the secret key of profile 'default' in {config_file}")
    assert "--profile" in hint
    hint = _refused_hint(invoke, "--profile", "dev")
    assert hint.startswith(f"The API refused the secret key of profile 'dev' in {config_file}")


def test_a_refused_key_given_with_the_option(invoke: Invoker, config_file: Path) -> None:
    """--token comes first: the hint names it, and no other place to look."""
    hint = _refused_hint(invoke, "--token", WRONG)
    assert hint.startswith("The API refused the secret key given with --token: check it;")


@pytest.mark.parametrize(
    ("options", "source"),
    [
        (["--project", "nope"], "project 'nope' (from option --project)"),
        (["--organization", "org-1"], "organization 'org-1' (from option --organization)"),
    ],
)
@pytest.mark.parametrize(
    "command",
    [
        ["block", "create", "--name-prefix", "db", "--count", "3", "--size", "10GB"],
        ["create", "--name", "db", "--size", "10GB"],
    ],
)
def test_a_project_or_organization_that_is_no_uuid_is_a_usage_error(
    invoke: Invoker, fake: FakeScaleway, options: list[str], source: str, command: list[str]
) -> None:
    """Not three 400s on `project_id` (exit 1) whose advice names the API's field: one
    usage error naming the option, before any request."""
    result = invoke("--base-url", invoke.server.base_url, "--token", FAKE_TOKEN, *options, *command)
    assert result.exit_code == 2
    error, hint = error_lines(result.stderr)
    assert error == f"Error: {source} is not an id: expected a UUID such as {FAKE_ORGANIZATION}"
    assert hint is not None and "`scaleway-volumes config`" in hint
    assert fake.stats.requests == []


def test_a_project_that_is_no_uuid_names_the_variable_or_the_profile(
    invoke: Invoker, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the bad id came from is where to fix it, environment or config file."""
    monkeypatch.setenv("SCW_DEFAULT_PROJECT_ID", "my-project")
    result = invoke("--base-url", invoke.server.base_url, "--json", "--profile", "prod", "list")
    assert result.exit_code == 2
    assert json.loads(result.stderr)["error"].startswith(
        "project 'my-project' (from environment SCW_DEFAULT_PROJECT_ID) is not an id"
    )
    config_file.write_text(
        config_file.read_text(encoding="utf-8").replace(PROD_PROJECT, "prod"), encoding="utf-8"
    )
    monkeypatch.delenv("SCW_DEFAULT_PROJECT_ID")
    result = invoke("--fake", "--profile", "prod", "block", "list")
    assert result.exit_code == 2
    assert one_error_line(result.stderr) == (
        f"Error: project 'prod' (from profile 'prod' in {config_file}) is not an id: "
        f"expected a UUID such as {FAKE_ORGANIZATION}"
    )


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (
            ["--base-url", "nope"],
            "Error: --base-url must be an http(s) URL with a host, got 'nope'",
        ),
        (["--token", "a b"], "Error: --token must be printable ASCII without spaces"),
    ],
)
def test_a_bad_value_checked_under_its_argument_name_names_the_option(
    invoke: Invoker, options: list[str], error: str
) -> None:
    """The library says `base_url must be ...`: the command line has no `base_url`."""
    result = invoke("--token", "x", *options, "list")
    assert result.exit_code == 2
    assert one_error_line(result.stderr) == error


def test_config_names_the_option_that_makes_an_api_unusable(invoke: Invoker) -> None:
    """`config`'s `unusable:` reasons word the option as every other message does."""
    result = invoke("--json", "--zone", "par1", "config")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["block_url"]["source"].startswith(
        "unusable: Block Storage has no legacy zone 'par1' (from option --zone): "
    )
    result = invoke("--json", "--base-url", "nope", "config")
    assert json.loads(result.stdout)["instance_url"]["source"] == (
        "unusable: --base-url must be an http(s) URL with a host, got 'nope'"
    )


CLOSED = "http://127.0.0.1:1"


def _unreachable_hint(invoke: Invoker, *options: str) -> str:
    result = invoke("--token", FAKE_TOKEN, *options, "--json", "block", "list")
    assert result.exit_code == 1, result.stderr
    return str(json.loads(result.stderr)["hint"])


def test_an_unreachable_url_from_the_environment_is_named(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stale SCW_API_URL: the hint names it, not only --base-url."""
    monkeypatch.setenv("SCW_API_URL", CLOSED)
    hint = _unreachable_hint(invoke)
    assert hint.startswith("The API could not be reached: check the network, a proxy or ")
    assert "the API URL in SCW_API_URL" in hint and "--base-url overrides it" in hint


def test_an_unreachable_url_from_a_profile_is_named(
    invoke: Invoker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile's api_url: the hint names the profile and its file."""
    path = tmp_path / "config.yaml"
    path.write_text(f"profiles:\n  lab:\n    api_url: {CLOSED}\n", encoding="utf-8")
    monkeypatch.setenv("SCW_CONFIG_PATH", str(path))
    hint = _unreachable_hint(invoke, "--profile", "lab")
    assert f"the api_url of profile 'lab' in {path}" in hint, hint


def test_an_unreachable_base_url_keeps_the_option_hint(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--base-url comes before SCW_API_URL: the hint points at the option alone."""
    monkeypatch.setenv("SCW_API_URL", "https://api.example.invalid")
    hint = _unreachable_hint(invoke, "--base-url", CLOSED)
    assert hint == (
        "The API could not be reached: check the network, a proxy or --base-url, then retry."
    )
