"""What the adaptive limiter's record of recent requests tells: pure functions over
its deques of send times, with no state of their own."""

from __future__ import annotations

import math
from collections import deque
from itertools import islice

__all__ = [
    "LATE",
    "arrived_together",
    "count_since",
    "crossed",
    "in_a_clump",
    "overtaken",
    "search_crossing",
    "window",
]

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
    before: tuple[float, float],
    sent: float,
    answered: float,
    floor: float,
    srtt: float = 0.0,
    *,
    clumped: bool = False,
) -> bool:
    """Whether a request sent at ``sent`` and answered at ``answered`` reached the
    server together with the one sent just before it (``before``: its send and
    answer times), although it went out a full interval later: it came back
    within half that interval after the one before, which was held up on the way
    (a new connection, a pause of either side) by more than ``floor`` seconds,
    against this one (the interval less how much closer they came back) or
    against the smoothed round trip ``srtt`` (0.0: not known), or which was
    itself one of such a clump (``clumped``).

    Then a 429 of this one says nothing of the pace (traced at 400 req/s behind
    100 ms: a request 13 ms late, the next one refused 0.2 ms after it, ended the
    search at half the limit). Against ``srtt`` too: where both were held up, as
    in a clump of three (traced: sent 4.8 ms apart at 208 req/s, back 10 and 5
    ms late, within 0.4 ms of each other; the two after the first were refused,
    and the search ended at half the limit), the interval less how much closer
    they came is under the floor at any pace over 200 req/s.

    >>> arrived_together((0.3717, 0.4857), 0.3839, 0.4859, floor=0.005)
    True
    >>> arrived_together((0.3717, 0.4737), 0.3839, 0.4859, floor=0.005)  # in its turn
    False
    >>> arrived_together((0.5521, 0.6629), 0.5569, 0.6631, floor=0.005)
    False
    >>> arrived_together((0.5521, 0.6629), 0.5569, 0.6631, floor=0.005, srtt=0.1027)
    True
    """
    gap = sent - before[0]
    closer = answered - before[1]
    if not 0.0 <= closer < gap / 2:
        return False
    held = gap - closer
    if srtt > 0.0:
        held = max(held, before[1] - before[0] - srtt)
    return clumped or held > floor


def overtaken(
    this: tuple[float, float], after: tuple[float, float], floor: float, srtt: float
) -> bool:
    """Whether a request (``this``: its send and answer times), held up on the way
    by more than ``floor`` seconds over the smoothed round trip ``srtt`` (0.0: not
    known), reached the server with the one sent just after it (``after``) or
    behind it: that one came back less than half the interval between them after
    this one, or before it.

    Then a 429 of this one says nothing of the pace: the one after took the token
    (traced at 400 req/s behind 100 ms: a request 17 ms late, back 0.3 ms after
    the one sent 16 ms after it, ended the search at a third of the limit).

    >>> overtaken((0.3138, 0.4323), (0.3297, 0.4320), floor=0.005, srtt=0.1012)
    True
    >>> overtaken((0.3138, 0.4152), (0.3297, 0.4320), floor=0.005, srtt=0.1012)  # in its turn
    False
    """
    if srtt <= 0.0 or this[1] - this[0] - srtt <= floor:
        return False
    return after[1] - this[1] < (after[0] - this[0]) / 2


def in_a_clump(
    refused: tuple[float, float],
    sends: deque[tuple[float, float]],
    done: deque[tuple[float, float]],
    muted: deque[float],
    floor: float,
    srtt: float,
) -> bool:
    """Whether the request ``refused`` (its send and answer times) reached the server
    with a neighbour: behind the one sent before it, held up on the way, or one of
    such a clump (``arrived_together``); or held up itself, with or behind the one
    sent after it (``overtaken``). ``sends`` holds ``(sent, rate)`` of the requests
    sent, ``done`` ``(sent, answered)`` of those answered, ``muted`` the send times
    of the requests already found in a clump.

    >>> sends = deque([(0.3138, 400.0), (0.3297, 400.0)])
    >>> done = deque([(0.3297, 0.4320)])
    >>> in_a_clump((0.3138, 0.4323), sends, done, deque(), floor=0.005, srtt=0.1012)
    True
    """
    sent, _ = refused
    before = after = 0.0
    for t, _ in reversed(sends):
        if t < sent:
            before = t
            break
        if t > sent:
            after = t
    for t, answered in reversed(done):
        if t == before:
            clumped = t in muted
            if arrived_together((t, answered), sent, refused[1], floor, srtt, clumped=clumped):
                return True
        elif t == after and overtaken(refused, (t, answered), floor, srtt):
            return True
    return False


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


def search_crossing(
    first: float,
    until: float,
    k: int,
    sends: deque[tuple[float, float]],
    oks: deque[float],
    refused: deque[float],
    answered: float,
) -> tuple[float | None, bool]:
    """Where a one-token search crossed its limit, judged from its first 429 (sent at
    ``first``) on: ``(t, True)`` once the 429 sent at ``t`` shows a crossing
    (``crossed``), ``(None, True)`` once none sent before ``until`` (the search's
    end) does and a request sent after it is answered, ``(t, False)`` while the 429
    sent at ``t`` awaits its verdict. Arguments as ``crossed``'s.

    A stray is refused alone and says nothing, but the search went on rising after
    it: the next 429 of a request sent before ``until`` is judged the same way (left
    at the rate when a stray came back, 474 req/s, the climb back crossed a 400 req/s
    limit again 0.4 s later: traced).

    >>> sends = deque([(0.01 * i, 100.0) for i in range(7)])
    >>> oks = deque([0.01, 0.02, 0.03, 0.06])
    >>> search_crossing(0.0, 0.1, 2, sends, oks, deque([0.0, 0.04, 0.05]), answered=0.06)
    (0.04, True)
    >>> search_crossing(0.0, 0.05, 2, sends, oks, deque([0.0]), answered=0.06)
    (None, True)
    >>> search_crossing(0.0, 0.05, 2, sends, oks, deque([0.0]), answered=0.03)
    (0.0, False)
    """
    while True:
        verdict = crossed(first, k, sends, oks, refused, answered)
        if verdict is None:
            return first, False
        if verdict:
            return first, True
        later = [t for t in refused if first < t < until]
        if later:
            first = min(later)
        elif answered >= until:
            return None, True
        else:
            return first, False  # more of the search's requests to come


def window(
    sent: float, since: float, sample: int, sends: deque[tuple[float, float]], oks: deque[float]
) -> tuple[float, float, float, int]:
    """How the requests sent just before ``sent`` fared.

    Returns the rate at which the last ``sample`` requests sent since ``since`` (the
    last cut) got through (0.0 if too few to tell), the share of them that did (1.0
    if too few), the highest pacing rate they went out at, and how many they are.
    ``sends`` holds ``(send time, pace)``, ``oks`` the send times of successes.

    >>> sends = deque([(0.01 * i, 100.0) for i in range(5)])
    >>> window(0.04, 0.0, 16, sends, deque([0.0, 0.02, 0.03]))
    (60.0, 0.6, 100.0, 5)
    """
    count = 0
    start = sent
    top = 0.0
    for t, rate in reversed(sends):
        if t > sent:
            continue
        # Requests sent before the last cut went out at a corrected rate.
        if t < since or count == sample:
            break
        count += 1
        start = t
        top = max(top, rate)
    if count < 4:
        return 0.0, 1.0, top, count
    through = 0
    for t in reversed(oks):
        if t < start:
            break
        if t < sent:
            through += 1
    # ``count`` requests span ``count - 1`` intervals, and one more for ``sent``.
    span = (sent - start) * count / (count - 1)
    return through / max(span, 1e-6), through / count, top, count
