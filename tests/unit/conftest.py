"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest

import scaleway_volumes._retry
from scaleway_volumes import RetryPolicy


class Highest:
    """Stands for ``random`` in ``_retry``: the backoff is its bound, no jitter."""

    @staticmethod
    def uniform(low: float, high: float) -> float:
        return high


@pytest.fixture
def long_backoff(monkeypatch: pytest.MonkeyPatch) -> RetryPolicy:
    """Retries that back off 100 s each: a short deadline passes in the first backoff."""
    monkeypatch.setattr(scaleway_volumes._retry, "random", Highest)
    return RetryPolicy(max_retries=100, backoff_initial=100.0, backoff_max=100.0)
