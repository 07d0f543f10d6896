"""A listing that stopped short says so on stderr: the table alone would look complete."""

from __future__ import annotations

import json
import logging

from scaleway_volumes._constants import PAGINATION_LOGGER
from scaleway_volumes.testing import FakeScaleway, Fault

from .conftest import Invoker

WARNED = "GET /block/v1/zones/fr-par-1/volumes: stopped after 2 requests and 3 distinct items"


def _a_proxy_that_ignores_page(fake: FakeScaleway) -> None:
    """Every page is the same three volumes, of a total of nine."""
    volumes = [fake.block.add_volume(f"v{i}") for i in range(3)]
    body = json.dumps({"volumes": volumes, "total_count": 9}).encode()
    fake.add_fault(
        Fault("respond", method="GET", path="^/block/.*/volumes$", status=200, body=body, times=20)
    )


def test_a_listing_that_stopped_short_is_a_warning_line(
    invoke: Invoker, fake: FakeScaleway
) -> None:
    _a_proxy_that_ignores_page(fake)
    result = invoke.remote("block", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count(" sbs_5k ") == 3  # the three volumes, in a table
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith(f"warning: {WARNED}")
    # Shown while the command runs only: nothing is left on the library's logger.
    assert logging.getLogger(PAGINATION_LOGGER).handlers == []


def test_with_json_the_warning_is_a_json_line(invoke: Invoker, fake: FakeScaleway) -> None:
    _a_proxy_that_ignores_page(fake)
    result = invoke.remote("--json", "block", "list")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)) == 3
    (line,) = result.stderr.splitlines()
    assert json.loads(line)["warning"].startswith(WARNED)


def test_a_complete_listing_warns_of_nothing(invoke: Invoker, fake: FakeScaleway) -> None:
    for i in range(3):
        fake.block.add_volume(f"v{i}")
    result = invoke.remote("block", "list")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count(" sbs_5k ") == 3
    assert result.stderr == ""
