"""resolve_config precedence, validation and sources; api_base_url; the masked secret."""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._config import Config, api_base_url, mask_secret, resolve_config

SECRET = "5ec8e7aa-2222-3333-4444-555555555555"
ENV_SECRET = "e7e7e7e7-2222-3333-4444-555555555555"
ORG = "000a115d-2852-4b0a-9ce8-47f1134ba95a"


def config_file(tmp_path: Path, text: str) -> dict[str, str]:
    """An environment naming a config file holding ``text``."""
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return {"SCW_CONFIG_PATH": str(path)}


# -- precedence ----------------------------------------------------------------------


def test_defaults_when_nothing_is_set() -> None:
    """With no argument, variable or file: the built-in defaults, and no secret."""
    config = resolve_config(environ={})
    assert (config.api_url, config.zone, config.region) == (
        "https://api.scaleway.com",
        "fr-par-1",
        "fr-par",
    )
    assert (config.secret_key, config.access_key, config.project, config.organization) == (
        None,
        None,
        None,
        None,
    )
    assert dict(config.sources) == {
        "api_url": "default",
        "zone": "default",
        "region": "derived from zone (default)",
        "config_path": "no home directory",
    }


def test_environment_over_file(tmp_path: Path) -> None:
    """Each SCW_* variable beats the same key in the config file."""
    environ = config_file(
        tmp_path,
        f"secret_key: {SECRET}\naccess_key: SCWFILE\ndefault_zone: fr-par-2\n"
        "default_region: fr-par\ndefault_project_id: file-p\n"
        "default_organization_id: file-o\napi_url: https://file.example\n",
    )
    environ.update(
        SCW_SECRET_KEY=ENV_SECRET,
        SCW_ACCESS_KEY="SCWENV",
        SCW_DEFAULT_ZONE="nl-ams-1",
        SCW_DEFAULT_REGION="nl-ams",
        SCW_DEFAULT_PROJECT_ID="env-p",
        SCW_DEFAULT_ORGANIZATION_ID="env-o",
        SCW_API_URL="https://env.example/",
    )
    config = resolve_config(environ=environ)
    assert attrs.asdict(config, filter=lambda a, _: a.name in _FIELDS) == {
        "secret_key": ENV_SECRET,
        "access_key": "SCWENV",
        "api_url": "https://env.example",
        "zone": "nl-ams-1",
        "region": "nl-ams",
        "project": "env-p",
        "organization": "env-o",
    }
    assert config.sources["zone"] == "environment SCW_DEFAULT_ZONE"
    assert config.sources["secret_key"] == "environment SCW_SECRET_KEY"


_FIELDS = {"secret_key", "access_key", "api_url", "zone", "region", "project", "organization"}


def test_arguments_over_environment() -> None:
    """Explicit arguments beat the environment."""
    environ = {
        "SCW_SECRET_KEY": ENV_SECRET,
        "SCW_DEFAULT_ZONE": "nl-ams-1",
        "SCW_DEFAULT_PROJECT_ID": "env-p",
        "SCW_DEFAULT_ORGANIZATION_ID": "env-o",
        "SCW_API_URL": "https://env.example",
    }
    config = resolve_config(
        token=SECRET,
        zone="pl-waw-2",
        project="arg-p",
        organization="arg-o",
        api_url="http://127.0.0.1:9",
        environ=environ,
    )
    assert (config.secret_key, config.zone, config.project, config.organization) == (
        SECRET,
        "pl-waw-2",
        "arg-p",
        "arg-o",
    )
    assert config.api_url == "http://127.0.0.1:9"
    assert all(config.sources[f] == "argument" for f in ("secret_key", "zone", "api_url"))


def test_empty_strings_count_as_unset(tmp_path: Path) -> None:
    """An empty argument, variable or file value falls through to the next layer."""
    environ = config_file(tmp_path, 'default_zone: ""\ndefault_project_id: file-p\n')
    environ.update(SCW_DEFAULT_ZONE="", SCW_DEFAULT_PROJECT_ID="", SCW_PROFILE="")
    config = resolve_config(zone="", project="", token="", environ=environ)
    assert (config.zone, config.project, config.secret_key) == ("fr-par-1", "file-p", None)
    assert config.sources["zone"] == "default"


def test_os_environ_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without environ=, os.environ is read."""
    monkeypatch.setenv("SCW_DEFAULT_ZONE", "nl-ams-2")
    monkeypatch.setenv("SCW_CONFIG_PATH", "/nonexistent/scw.yaml")
    assert resolve_config().zone == "nl-ams-2"


_LAYER_ORDER = ("argument", "environment", "profile", "top")
_ARGUMENT = {
    "secret_key": "token",
    "api_url": "api_url",
    "zone": "zone",
    "project": "project",
    "organization": "organization",
}
_VARIABLE = {
    "secret_key": "SCW_SECRET_KEY",
    "access_key": "SCW_ACCESS_KEY",
    "api_url": "SCW_API_URL",
    "zone": "SCW_DEFAULT_ZONE",
    "region": "SCW_DEFAULT_REGION",
    "project": "SCW_DEFAULT_PROJECT_ID",
    "organization": "SCW_DEFAULT_ORGANIZATION_ID",
}
_KEY = {
    "secret_key": "secret_key",
    "access_key": "access_key",
    "api_url": "api_url",
    "zone": "default_zone",
    "region": "default_region",
    "project": "default_project_id",
    "organization": "default_organization_id",
}
_ZONES = {
    "argument": "fr-par-1",
    "environment": "fr-par-2",
    "profile": "nl-ams-1",
    "top": "pl-waw-2",
}
_REGIONS = {"environment": "nl-ams", "profile": "pl-waw", "top": "it-mil"}


def _value(field: str, layer: str) -> str:
    if field == "zone":
        return _ZONES[layer]
    if field == "region":
        return _REGIONS[layer]
    if field == "api_url":
        return f"https://{layer}.example"
    return f"{field}-from-{layer}"


def _layers(field: str) -> st.SearchStrategy[frozenset[str]]:
    available = [layer for layer in _LAYER_ORDER if layer != "argument" or field in _ARGUMENT]
    return st.frozensets(st.sampled_from(available))


@given(
    chosen=st.fixed_dictionaries({field: _layers(field) for field in _VARIABLE}),
    chooser=st.sampled_from(["argument", "environment", "active_profile"]),
)
def test_highest_set_layer_wins(
    tmp_path_factory: pytest.TempPathFactory,
    chosen: dict[str, frozenset[str]],
    chooser: str,
) -> None:
    """For any layers set per field, the highest one wins and the source names it."""
    path = tmp_path_factory.getbasetemp() / "precedence.yaml"
    arguments: dict[str, str] = {}
    environ = {"SCW_CONFIG_PATH": str(path)}
    top, profile = [], []
    for field, layers in chosen.items():
        for layer in layers:
            value = _value(field, layer)
            if layer == "argument":
                arguments[_ARGUMENT[field]] = value
            elif layer == "environment":
                environ[_VARIABLE[field]] = value
            else:
                (top if layer == "top" else profile).append(f"{_KEY[field]}: {value}")
    if chooser == "active_profile":
        top.append("active_profile: p")
    elif chooser == "environment":
        environ["SCW_PROFILE"] = "p"
    path.write_text("\n".join([*top, "profiles:", "  p:", *(f"    {x}" for x in profile), ""]))

    config = resolve_config(
        profile="p" if chooser == "argument" else None, environ=environ, **arguments
    )

    sources = {
        "argument": "argument",
        "profile": f"profile 'p' in {path}",
        "top": f"profile 'default' in {path}",
    }
    for field, layers in chosen.items():
        winner = next((layer for layer in _LAYER_ORDER if layer in layers), None)
        if winner is None:
            continue
        expected = _value(field, winner)
        assert getattr(config, field) == expected, field
        source = f"environment {_VARIABLE[field]}" if winner == "environment" else sources[winner]
        assert config.sources[field] == source
    if not chosen["zone"]:
        region = config.region if chosen["region"] else None
        assert config.zone == (f"{region}-1" if region else "fr-par-1")
    if not chosen["region"]:
        assert config.region == config.zone.rsplit("-", 1)[0]
    assert config.profile == "p"


# -- zone and region -----------------------------------------------------------------


def test_zone_from_region_when_no_zone() -> None:
    """A region with no zone anywhere gives the region's first zone."""
    config = resolve_config(environ={"SCW_DEFAULT_REGION": "nl-ams"})
    assert (config.zone, config.region) == ("nl-ams-1", "nl-ams")
    assert config.sources["zone"] == "derived from region (environment SCW_DEFAULT_REGION)"


def test_region_from_zone_when_no_region() -> None:
    """A zone with no region gives its region, as scw guesses it."""
    config = resolve_config(zone="pl-waw-3", environ={})
    assert config.region == "pl-waw"
    assert config.sources["region"] == "derived from zone (argument)"


def test_zone_wins_over_region(tmp_path: Path) -> None:
    """A zone from any layer beats a region-derived one, even from a lower layer."""
    environ = config_file(tmp_path, "default_zone: fr-par-2\n")
    environ["SCW_DEFAULT_REGION"] = "nl-ams"
    config = resolve_config(environ=environ)
    assert (config.zone, config.region) == ("fr-par-2", "nl-ams")


@pytest.mark.parametrize(("zone", "region"), [("par1", "fr-par"), ("ams1", "nl-ams")])
def test_legacy_zones_and_regions(zone: str, region: str) -> None:
    """The seed's legacy zones are accepted; legacy region names are translated."""
    assert resolve_config(zone=zone, environ={}).region == region
    config = resolve_config(environ={"SCW_DEFAULT_REGION": zone})
    assert (config.region, config.zone) == (region, f"{region}-1")


@pytest.mark.parametrize(
    ("kwargs", "environ", "match"),
    [
        ({"zone": "mars-1"}, {}, "unknown zone 'mars-1' \\(from argument zone\\)"),
        ({"zone": "FR-PAR-1"}, {}, "unknown zone 'FR-PAR-1'"),
        ({"zone": "fr-par-1/../x"}, {}, "unknown zone"),
        ({}, {"SCW_DEFAULT_ZONE": "fr par 1"}, "\\(from environment SCW_DEFAULT_ZONE\\)"),
        ({}, {"SCW_DEFAULT_REGION": "fr-par-1"}, "unknown region 'fr-par-1' \\(from environment"),
    ],
)
def test_bad_zone_or_region(kwargs: dict[str, str], environ: dict[str, str], match: str) -> None:
    """A value that is not zone- or region-shaped is a ValueError naming where it came from."""
    with pytest.raises(ValueError, match=match):
        resolve_config(environ=environ, **kwargs)


def test_bad_zone_in_file_names_the_profile(tmp_path: Path) -> None:
    """A bad zone from the file names the profile and the file."""
    environ = config_file(tmp_path, "profiles:\n  p:\n    default_zone: moon\n")
    with pytest.raises(ValueError, match=f"'moon' \\(from profile 'p' in {tmp_path}"):
        resolve_config(profile="p", environ=environ)


@given(st.from_regex(ZONE := r"[a-z]{2}-[a-z]{3}-[0-9]{1,2}", fullmatch=True))
def test_any_zone_shaped_zone_works_for_both_apis(zone: str) -> None:
    """A zone opened tomorrow works today: only the shape is checked."""
    config = resolve_config(zone=zone, environ={})
    assert config.region == zone.rsplit("-", 1)[0]
    assert api_base_url(config, "block") == f"https://api.scaleway.com/block/v1/zones/{zone}"
    assert api_base_url(config, "instance").endswith(f"/instance/v1/zones/{zone}")


@given(st.text(max_size=12))
def test_zone_check_is_the_pattern(zone: str) -> None:
    """Exactly the zone-shaped strings and the legacy zones are accepted."""
    valid = re.fullmatch(ZONE, zone) is not None or zone in ("par1", "ams1")
    try:
        config = resolve_config(zone=zone, environ={})
    except ValueError:
        assert not valid
    else:
        assert valid or zone == ""
        assert config.zone == (zone or "fr-par-1")


# -- token, urls, types --------------------------------------------------------------


@pytest.mark.parametrize("token", ["a b", "tok\r\nX-Evil: 1", "é"])
def test_bad_token_argument(token: str) -> None:
    """A token that could break or inject a header is refused, naming the argument."""
    with pytest.raises(ValueError, match=r"^token must be printable ASCII") as info:
        resolve_config(token=token, environ={})
    assert token not in str(info.value)


def test_bad_secret_from_environment_names_variable_not_value() -> None:
    """A bad secret key from the environment names the variable, never the value."""
    bad = SECRET + " x"
    with pytest.raises(ValueError, match="secret key from environment SCW_SECRET_KEY") as info:
        resolve_config(environ={"SCW_SECRET_KEY": bad})
    assert SECRET not in str(info.value)


@pytest.mark.parametrize("name", ["token", "zone", "organization", "project", "api_url", "profile"])
def test_non_string_argument_is_type_error(name: str) -> None:
    """A non-string argument is a TypeError naming it."""
    with pytest.raises(TypeError, match=f"^{name} must be a string, got int"):
        resolve_config(environ={}, **{name: 123})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("api_url", "expected"),
    [
        ("http://127.0.0.1:9/", "http://127.0.0.1:9"),
        ("https://proxy.example/scaleway/", "https://proxy.example/scaleway"),
    ],
)
def test_api_url_trailing_slash_stripped_prefix_kept(api_url: str, expected: str) -> None:
    """SCW_API_URL loses its trailing slash and keeps its path prefix."""
    config = resolve_config(environ={"SCW_API_URL": api_url})
    assert config.api_url == expected
    assert api_base_url(config, "block") == f"{expected}/block/v1/zones/fr-par-1"


def test_bad_api_url_names_its_source() -> None:
    """A bad SCW_API_URL is a ValueError naming the variable."""
    with pytest.raises(ValueError, match=r"^api_url from environment SCW_API_URL must be an http"):
        resolve_config(environ={"SCW_API_URL": "ftp://x"})
    with pytest.raises(ValueError, match=r"^api_url must not have a query"):
        resolve_config(api_url="https://x/?a=1", environ={})


# -- api_base_url --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "api", "url"),
    [
        ("fr-par-1", "instance", "https://api.scaleway.com/instance/v1/zones/fr-par-1"),
        ("nl-ams-3", "block", "https://api.scaleway.com/block/v1/zones/nl-ams-3"),
        ("pl-waw-2", "block", "https://api.scaleway.com/block/v1/zones/pl-waw-2"),
        ("par1", "instance", "https://cp-par1.scaleway.com"),
        ("ams1", "instance", "https://cp-ams1.scaleway.com"),
    ],
)
def test_api_base_url_from_zone(zone: str, api: str, url: str) -> None:
    """Zones map to each API's path; legacy zones to the seed's hosts (Instance only)."""
    config = resolve_config(zone=zone, environ={})
    assert api_base_url(config, api) == url  # type: ignore[arg-type]


@pytest.mark.parametrize("zone", ["par1", "ams1"])
def test_block_has_no_legacy_zones(zone: str) -> None:
    """Block Storage refuses the legacy zones with a clear error."""
    with pytest.raises(ValueError, match=f"Block Storage has no legacy zone '{zone}'"):
        api_base_url(resolve_config(zone=zone, environ={}), "block")


def test_legacy_zone_ignores_api_url() -> None:
    """The legacy zones have their own hosts, whatever api_url says."""
    config = resolve_config(zone="par1", api_url="http://127.0.0.1:9", environ={})
    assert api_base_url(config, "instance") == "https://cp-par1.scaleway.com"


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("http://127.0.0.1:8080/instance/v1/zones/fr-par-1", None),
        ("http://127.0.0.1:8080/some/prefix/", "http://127.0.0.1:8080/some/prefix"),
        ("https://h.example/", "https://h.example"),
    ],
)
def test_base_url_wins_and_keeps_prefix(base_url: str, expected: str | None) -> None:
    """base_url overrides the zone; a trailing slash goes, a path prefix stays."""
    config = resolve_config(zone="par1", environ={})
    for api in ("instance", "block"):
        assert api_base_url(config, api, base_url) == (expected or base_url)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("base_url", "match"),
    [
        ("ftp://x/y", "http\\(s\\) URL with a host"),
        ("http://", "http\\(s\\) URL with a host"),
        ("not a url", "http\\(s\\) URL with a host"),
        ("/relative/path", "http\\(s\\) URL with a host"),
        ("", "http\\(s\\) URL with a host"),
        ("http://h/p?x=1", "query or fragment"),
        ("http://h/p#frag", "query or fragment"),
        ("http://h:abc/", "invalid base_url"),
    ],
)
def test_bad_base_url(base_url: str, match: str) -> None:
    """base_url must be an absolute http(s) URL with a host, without query or fragment."""
    with pytest.raises(ValueError, match=match) as info:
        api_base_url(resolve_config(environ={}), "instance", base_url)
    assert "base_url" in str(info.value)


def test_api_base_url_argument_checks() -> None:
    """An unknown API name or a non-string base_url is refused; a hand-built bad zone too."""
    config = resolve_config(environ={})
    with pytest.raises(ValueError, match="api must be one of"):
        api_base_url(config, "snapshots")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="base_url must be a string"):
        api_base_url(config, "block", b"http://h")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"unknown zone '\.\./x' \(from config.zone\)"):
        api_base_url(Config(zone="../x"), "block")


@given(st.lists(st.from_regex(r"[a-z0-9_-]{1,8}", fullmatch=True), max_size=4))
def test_base_url_prefix_always_kept(segments: list[str]) -> None:
    """Whatever the path prefix, it is kept as given (minus a trailing slash)."""
    prefix = "".join(f"/{s}" for s in segments)
    result = api_base_url(resolve_config(environ={}), "block", f"http://10.0.0.1:81{prefix}/")
    assert result == f"http://10.0.0.1:81{prefix}"


# -- secrets and sources -------------------------------------------------------------


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
