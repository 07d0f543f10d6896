"""One --base-url for both APIs: which URL a Block or an Instance command uses."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from scaleway_volumes import AsyncBlockAPI, AsyncVolumeAPI
from scaleway_volumes.cli._connect import api_of, base_url_for
from scaleway_volumes.testing import FakeScaleway

from .conftest import Invoker

segment = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
# A path prefix before the API's part; "v1" would let it spell an API's path itself.
prefixes = st.lists(segment.filter(lambda s: s != "v1"), max_size=3).map(
    lambda parts: "".join(f"/{p}" for p in parts)
)
origins = st.sampled_from(["http://127.0.0.1:8080", "https://api.scaleway.com"])


@given(origins, prefixes, segment)
def test_instance_and_block_urls_swap_both_ways(origin: str, prefix: str, zone: str) -> None:
    """An API's URL becomes the other's by its /instance/v1/ <-> /block/v1/ part, and back."""
    instance = f"{origin}{prefix}/instance/v1/zones/{zone}"
    block = f"{origin}{prefix}/block/v1/zones/{zone}"
    assert base_url_for(instance, "block") == block
    assert base_url_for(block, "instance") == instance
    assert base_url_for(instance, "instance") == instance
    assert base_url_for(block, "block") == block
    assert base_url_for(instance + "/", "block") == block


@given(origins, prefixes)
def test_other_urls_are_used_as_given(origin: str, prefix: str) -> None:
    """A URL naming neither API's path is used as it is, by both; None stays None."""
    url = origin + prefix
    assert base_url_for(url, "block") == url
    assert base_url_for(url, "instance") == url
    assert base_url_for(None, "block") is None


def test_api_of_classes() -> None:
    """AsyncBlockAPI is the Block API; anything else is taken for the Instance one."""
    assert api_of(AsyncBlockAPI) == "block"
    assert api_of(AsyncVolumeAPI) == "instance"
    assert api_of(lambda *args: None) == "instance"


def test_block_command_with_either_url(invoke: Invoker, fake: FakeScaleway) -> None:
    """A Block command reaches the Block API from the Block URL or the Instance one."""
    fake.block.add_volume("db")
    fake.add_volume("local")
    for url in (invoke.server.block_base_url, invoke.server.base_url):
        result = invoke("--base-url", url, "--token", fake.token or "", "--json", "block", "list")
        assert result.exit_code == 0, result.stderr
        assert [v["name"] for v in json.loads(result.stdout)] == ["db"]
    result = invoke(
        "--base-url", invoke.server.block_base_url, "--token", fake.token or "", "--json", "list"
    )
    assert [v["name"] for v in json.loads(result.stdout)] == ["local"]


def test_config_shows_the_url_each_api_uses(invoke: Invoker) -> None:
    """`config` shows the Block URL derived from an Instance --base-url, and says so."""
    given_url = "http://127.0.0.1:8080/instance/v1/zones/nl-ams-1"
    result = invoke("--base-url", given_url, "--json", "config")
    assert result.exit_code == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["instance_url"] == {"value": given_url, "source": "--base-url"}
    assert shown["block_url"] == {
        "value": "http://127.0.0.1:8080/block/v1/zones/nl-ams-1",
        "source": "--base-url (for the block API)",
    }
