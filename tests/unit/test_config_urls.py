"""api_base_url: the URL each API's paths are appended to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes._config import Config, api_base_url, resolve_config


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
        assert api_base_url(config, api, base_url) == (expected or base_url)


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
        # Never used (the token authenticates), and never to be shown in repr() or logs.
        ("http://alice:s3cretpw@h/p", "must not hold credentials"),
        ("http://alice@h/p", "must not hold credentials"),
        # Refused for another reason first: the password is masked there too.
        ("ftp://alice:s3cretpw@h/instance/v1/zones/fr-par-1", "http\\(s\\) URL with a host"),
        ("https://alice:s3cretpw@", "http\\(s\\) URL with a host"),
        ("https://alice:s3cretpw@h:abc/", "invalid base_url"),
        ("https://h/p?password=s3cretpw", "query or fragment"),
    ],
)
def test_bad_base_url(base_url: str, match: str) -> None:
    """base_url must be an absolute http(s) URL with a host, without query or fragment."""
    with pytest.raises(ValueError, match=match) as info:
        api_base_url(resolve_config(environ={}), "instance", base_url)
    assert "base_url" in str(info.value)
    error: BaseException | None = info.value
    while error is not None:
        assert "s3cretpw" not in str(error)
        error = error.__cause__ or error.__context__


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
