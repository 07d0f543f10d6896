"""What the adaptive limiter's record of recent requests tells: pure functions over
its deques of send times, with no state of their own."""

from __future__ import annotations

import math
from collections import deque
from itertools import islice

__all__ = ["LATE", "arrived_together", "count_since", "crossed"]

#: Requests sent after the last of the ``k``, up to one just answered, with no
#: answer to one of the ``k``: it failed (a network error, a 5xx), which shows
#: no crossing. Counted up to an answered request, not up to the last one sent:
#: at 400 req/s behind 100 ms, 40 more are in flight before any is answered.
LATE = 16
#: Successes looked through, latest first: the ``k`` are answered among the last.
_RECENT = 256


def count_since(times: deque[float], since: float, until: float = math.inf) -> int:
    """How many of ``times`` (ascending) are at or after ``since`` (and not after ``until``)."""
    count = 0
    for t in reversed(times):
        if t < since:
            break
        count += t <= until
    return count


def arrived_together(
    before: tuple[float, float], sent: float, answered: float, floor: float
) -> bool:
    """Whether a request sent at ``sent`` and answered at ``answered`` reached the
    server together with the one sent just before it (``before``: its send and
    answer times), although it went out a full interval later: the one before was
    held up on the way (a new connection, a pause of either side) by more than
    ``floor`` seconds, and came back within half that interval of this one.

    Then a 429 of this one says nothing of the pace (traced at 400 req/s behind
    100 ms: a request 13 ms late, the next one refused 0.2 ms after it, ended the
    search at half the limit).

    >>> arrived_together((0.3717, 0.4857), 0.3839, 0.4859, floor=0.005)
    True
    >>> arrived_together((0.3717, 0.4737), 0.3839, 0.4859, floor=0.005)  # in its turn
    False
    """
    gap = sent - before[0]
    closer = answered - before[1]
    return 0.0 <= closer < gap / 2 and gap - closer > floor


def crossed(
    first: float,
    k: int,
    sends: deque[tuple[float, float]],
    oks: deque[float],
    refused: deque[float],
    answered: float,
) -> bool | None:
    """Whether the request sent at ``first``, refused, crossed a one-token limit.

    Above such a limit one request in two is refused (a refused one leaves the
    bucket to fill for the next), so one of the ``k`` requests sent next meets a
    429 too: ``True``. A request that arrived early (the network's or a loop's
    jitter) is refused alone: all ``k`` got through, ``False``; so too once the
    request sent ``LATE`` after them is answered (``answered``: the send time of
    the request just answered) with one of them unanswered. ``None`` until
    then. ``sends`` holds ``(send time, pace)``; ``oks`` and ``refused`` the send
    times of successes and of 429s, in the order of their answers.

    >>> sends = deque([(0.0, 100.0), (0.01, 100.0), (0.02, 100.0), (0.03, 100.0)])
    >>> crossed(0.0, 2, sends, deque([0.01]), deque([0.0, 0.02]), answered=0.02)
    True
    >>> crossed(0.0, 2, sends, deque([0.01]), deque([0.0]), answered=0.01)  # 0.02 not yet
    >>> crossed(0.0, 2, sends, deque([0.01, 0.02]), deque([0.0]), answered=0.02)
    False
    """
    after: list[float] = []  # latest first
    for t, _ in reversed(sends):
        if t <= first:
            break
        after.append(t)
    if len(after) < k:
        return None
    nexts = after[len(after) - k :]
    if any(t in refused for t in nexts):
        return True
    recent = set(islice(reversed(oks), _RECENT))
    if all(t in recent for t in nexts):
        return False
    # One of them is unanswered: lost, once a request sent ``LATE`` after them is
    # answered (answers come about in the order of sending).
    return False if sum(t <= answered for t in after) >= k + LATE else None
