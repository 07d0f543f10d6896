"""Names, tags and other values from the API print exactly as they are in tables.

rich reads ``[bold]`` as markup and ``:fire:`` as an emoji code in what it
prints; cells hold user data, so neither may apply (and a stray ``[/]`` must not
crash a listing for everyone in the zone).
"""

from __future__ import annotations

from scaleway_volumes.testing import FakeScaleway

from .conftest import Invoker


def test_a_closing_tag_in_a_name_does_not_break_list(invoke: Invoker, fake: FakeScaleway) -> None:
    """A volume named ``db[/]`` is listed: no MarkupError, the name as typed."""
    fake.add_volume("db[/]")
    result = invoke.remote("list")
    assert result.exit_code == 0, result.stderr
    assert "db[/]" in result.stdout


def test_create_prints_the_volume_whatever_its_name(invoke: Invoker, fake: FakeScaleway) -> None:
    """``create --name 'db[/]'`` shows the volume it made, id included, and exits 0."""
    result = invoke.remote("create", "--name", "db[/]", "--size", "10GB")
    assert result.exit_code == 0, result.stderr
    [volume] = fake.volumes
    assert volume["name"] == "db[/]"
    assert volume["id"] in result.stdout
    assert "db[/]" in result.stdout


def test_list_shows_markup_like_names_literally(invoke: Invoker, fake: FakeScaleway) -> None:
    """``[bold]prod`` is a name, shown whole, not a bold ``prod``."""
    fake.add_volume("[bold]prod")
    result = invoke.remote("list")
    assert result.exit_code == 0, result.stderr
    assert "[bold]prod" in result.stdout


def test_get_shows_markup_like_names_literally(invoke: Invoker, fake: FakeScaleway) -> None:
    """The field/value record of ``get`` prints the name as it is too."""
    volume = fake.add_volume("[bold]prod")
    result = invoke.remote("get", volume["id"])
    assert result.exit_code == 0, result.stderr
    assert "[bold]prod" in result.stdout


def test_block_list_shows_names_and_tags_literally(invoke: Invoker, fake: FakeScaleway) -> None:
    """Block volumes: names and tags with brackets print as they are."""
    fake.block.add_volume(name="[red]data[/red]", tags=["[u]team"])
    result = invoke.remote("block", "list")
    assert result.exit_code == 0, result.stderr
    assert "[red]data[/red]" in result.stdout
    assert "[u]team" in result.stdout


def test_emoji_codes_are_not_replaced(invoke: Invoker, fake: FakeScaleway) -> None:
    """A tag ``:fire:`` stays ``:fire:``, in the table and in the record."""
    volume = fake.block.add_volume(name="hot:fire:", tags=[":fire:"])
    listed = invoke.remote("block", "list")
    shown = invoke.remote("block", "get", volume["id"])
    for result in (listed, shown):
        assert result.exit_code == 0, result.stderr
        assert "hot:fire:" in result.stdout
        assert "\N{FIRE}" not in result.stdout
