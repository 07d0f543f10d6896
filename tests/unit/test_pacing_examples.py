"""The examples in the pacing's docstrings are run: they show its decisions and
formulas on small cases, and must stay true."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from scaleway_volumes._pacing import _formulas, _record


@pytest.mark.parametrize(("module", "examples"), [(_record, 6), (_formulas, 1)])
def test_the_examples_hold(module: ModuleType, examples: int) -> None:
    failed, attempted = doctest.testmod(module, raise_on_error=False, verbose=False)
    assert attempted >= examples
    assert failed == 0
