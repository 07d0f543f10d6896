"""resolve_config: precedence of arguments, environment, file and defaults; validation."""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._config import api_base_url, resolve_config

SECRET = "5ec8e7aa-2222-3333-4444-555555555555"
ENV_SECRET = "e7e7e7e7-2222-3333-4444-555555555555"
# The zone shape, written out again so the test does not trust the code's own pattern.
ZONE = r"[a-z]{2}-[a-z]{3,7}-[0-9]{1,2}"
_FIELDS = {"secret_key", "access_key", "api_url", "zone", "region", "project", "organization"}


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
    """For any layers set per field, the highest one wins and the source names it. Zone
    and region are one pair: when they disagree, the one from the stronger layer wins
    and the other is derived from it; from one layer (their values disagree in every
    layer here), they are a ``ValueError`` naming both."""
    path = tmp_path_factory.getbasetemp() / "precedence.yaml"
    arguments: dict[str, str] = {}
    environ = {"SCW_CONFIG_PATH": str(path)}
    top: list[str] = []
    profile: list[str] = []
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

    winners = {
        field: next((layer for layer in _LAYER_ORDER if layer in layers), None)
        for field, layers in chosen.items()
    }
    pair = (winners["zone"], winners["region"])
    if pair[0] is not None and pair[0] == pair[1]:
        with pytest.raises(ValueError, match="is not in region"):
            resolve_config(
                profile="p" if chooser == "argument" else None, environ=environ, **arguments
            )
        return
    config = resolve_config(
        profile="p" if chooser == "argument" else None, environ=environ, **arguments
    )
    if (
        pair[0] is not None
        and pair[1] is not None
        and _ZONES[pair[0]].rsplit("-", 1)[0] != _REGIONS[pair[1]]
    ):
        # Disagreeing, the weaker of the two is derived from the stronger.
        weaker = "region" if _LAYER_ORDER.index(pair[0]) < _LAYER_ORDER.index(pair[1]) else "zone"
        chosen = {**chosen, weaker: frozenset()}
        assert config.sources[weaker].startswith("derived from")

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


def test_a_region_from_a_stronger_layer_moves_the_zone(tmp_path: Path) -> None:
    """``scw init`` writes a zone and a region at the top of the file: a
    ``SCW_DEFAULT_REGION`` naming another region moves the zone to that region, rather
    than pairing Paris requests with an Amsterdam region."""
    environ = config_file(tmp_path, "default_zone: fr-par-2\ndefault_region: fr-par\n")
    environ["SCW_DEFAULT_REGION"] = "nl-ams"
    config = resolve_config(environ=environ)
    assert (config.zone, config.region) == ("nl-ams-1", "nl-ams")
    assert config.sources["zone"] == "derived from region (environment SCW_DEFAULT_REGION)"


def test_a_zone_from_a_stronger_layer_moves_the_region(tmp_path: Path) -> None:
    """``zone=`` (or a profile's zone) over the file's top-level region: the region is the
    zone's, not the file's."""
    environ = config_file(
        tmp_path,
        "default_zone: fr-par-1\ndefault_region: fr-par\n"
        "profiles:\n  ams:\n    default_zone: nl-ams-2\n",
    )
    config = resolve_config(zone="pl-waw-1", environ=environ)
    assert (config.zone, config.region) == ("pl-waw-1", "pl-waw")
    assert config.sources["region"] == "derived from zone (argument)"
    config = resolve_config(profile="ams", environ=environ)
    assert (config.zone, config.region) == ("nl-ams-2", "nl-ams")


def test_a_zone_and_region_of_one_layer_must_agree(tmp_path: Path) -> None:
    """The same layer naming a zone outside its region: which one was meant is unknown."""
    with pytest.raises(ValueError, match=r"zone 'fr-par-1' .* is not in region 'nl-ams'"):
        resolve_config(environ={"SCW_DEFAULT_ZONE": "fr-par-1", "SCW_DEFAULT_REGION": "nl-ams"})
    environ = config_file(tmp_path, "default_zone: fr-par-2\ndefault_region: fr-par\n")
    assert resolve_config(environ=environ).zone == "fr-par-2"  # agreeing: both kept


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
        ({"zone": "fr-parisien-1"}, {}, "unknown zone 'fr-parisien-1'"),
        ({}, {"SCW_DEFAULT_REGION": "fr-pa"}, "unknown region 'fr-pa'"),
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


@pytest.mark.parametrize(("zone", "region"), [("fr-paris-1", "fr-paris"), ("de-fra-12", "de-fra")])
def test_zones_and_regions_of_the_go_sdk_shapes(zone: str, region: str) -> None:
    """Zones and regions are checked by the Go SDK's shapes, whose city part has 3 to 7
    letters (scaleway/scaleway-sdk-go#2748): a zone opened tomorrow works today."""
    assert resolve_config(environ={"SCW_DEFAULT_ZONE": zone}).region == region
    assert resolve_config(environ={"SCW_DEFAULT_REGION": region}).zone == f"{region}-1"


def test_bad_zone_in_file_names_the_profile(tmp_path: Path) -> None:
    """A bad zone from the file names the profile and the file."""
    environ = config_file(tmp_path, "profiles:\n  p:\n    default_zone: moon\n")
    with pytest.raises(ValueError, match=f"'moon' \\(from profile 'p' in {tmp_path}"):
        resolve_config(profile="p", environ=environ)


@given(st.from_regex(ZONE, fullmatch=True))
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


_READ_VARIABLES = [
    "SCW_SECRET_KEY",
    "SCW_ACCESS_KEY",
    "SCW_API_URL",
    "SCW_DEFAULT_ZONE",
    "SCW_DEFAULT_REGION",
    "SCW_DEFAULT_PROJECT_ID",
    "SCW_DEFAULT_ORGANIZATION_ID",
    "SCW_PROFILE",
    "SCW_CONFIG_PATH",
    "XDG_CONFIG_HOME",
    "HOME",
    "USERPROFILE",
]


@pytest.mark.parametrize("variable", _READ_VARIABLES)
@pytest.mark.parametrize("value", [0, b"fr-par-1", ["fr-par-1"]])
def test_non_string_variable_of_environ_is_type_error(variable: str, value: object) -> None:
    """A variable of ``environ=`` that is read and is not a string is a TypeError naming it.

    Each failed its own way before: an int ``SCW_CONFIG_PATH`` was opened as a file
    descriptor, an int project id was kept, a bytes zone met a regular expression.
    """
    environ: dict[str, object] = {"SCW_SECRET_KEY": SECRET, variable: value}
    with pytest.raises(
        TypeError, match=rf"^environ\['{variable}'\] must be a string \(or absent\), got "
    ):
        resolve_config(environ=environ)  # type: ignore[arg-type]


@pytest.mark.parametrize("environ", [5, [("SCW_SECRET_KEY", SECRET)], "SCW_SECRET_KEY"])
def test_environ_that_is_no_mapping_is_type_error(environ: object) -> None:
    """``environ=`` is a mapping: anything else is a TypeError saying so (it was an
    AttributeError, ``'list' object has no attribute 'get'``)."""
    with pytest.raises(
        TypeError, match=r"^environ must be a mapping of variable names to values, got "
    ):
        resolve_config(environ=environ)  # type: ignore[arg-type]


def test_none_in_environ_counts_as_unset() -> None:
    """None for a variable of ``environ=`` is unset, as an empty string is; other
    variables of the mapping are not looked at."""
    environ: dict[str, object] = dict.fromkeys(_READ_VARIABLES)
    environ.update({"SCW_SECRET_KEY": SECRET, "UNRELATED": 5})
    config = resolve_config(environ=environ)  # type: ignore[arg-type]
    assert (config.zone, config.project, config.config_path) == ("fr-par-1", None, None)


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
