"""The examples in ``_pacing._record``'s docstrings are run: they show the record's
decisions on small cases, and must stay true."""

from __future__ import annotations

import doctest

from scaleway_volumes._pacing import _record


def test_the_records_examples_hold() -> None:
    failed, attempted = doctest.testmod(_record, raise_on_error=False, verbose=False)
    assert attempted >= 6
    assert failed == 0
