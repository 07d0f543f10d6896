"""Waiter decisions: what a state means for a wait, and how polls are spaced."""

from __future__ import annotations

import itertools
import random
import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from scaleway_volumes._states import (
    BLOCK_SNAPSHOT_STATES,
    BLOCK_SNAPSHOT_TRANSIENT,
    BLOCK_VOLUME_STATES,
    BLOCK_VOLUME_TRANSIENT,
    FAILURE_STATES,
    INSTANCE_VOLUME_STATES,
    INSTANCE_VOLUME_TRANSIENT,
    classify,
    normalize_until,
    poll_delays,
)

BLOCK = BLOCK_VOLUME_TRANSIENT


@pytest.mark.parametrize(
    ("state", "until", "expected"),
    [
        ("creating", None, "wait"),
        ("updating", None, "wait"),
        ("available", None, "done"),
        ("in_use", None, "done"),
        ("deleted", None, "failed"),
        ("deleted", {"error"}, "failed"),
        ("brand_new_state", None, "done"),
        ("error", None, "failed"),
        ("locked", None, "failed"),
        (None, None, "failed"),
        ("available", {"available"}, "done"),
        ("creating", {"available"}, "wait"),
        ("in_use", {"available"}, "wait"),
        ("error", {"available"}, "failed"),
        ("error", {"error"}, "done"),
        ("locked", {"locked", "available"}, "done"),
        ("deleted", {"available"}, "failed"),
        ("deleted", {"deleted"}, "done"),
        ("deleting", {"deleted"}, "wait"),
        (None, {"deleted"}, "done"),
        (None, {"available", "deleted"}, "done"),
        (None, {"available"}, "failed"),
    ],
)
def test_block_volume_outcomes(state: str | None, until: set[str] | None, expected: str) -> None:
    """Settled, transient, failure and gone states each give the documented outcome."""
    wanted = None if until is None else frozenset(until)
    assert classify(state, until=wanted, transient=BLOCK) == expected


def test_transient_sets_per_resource() -> None:
    """Each resource has its own transient states; exporting is a snapshot's, saving Instance's."""
    assert classify("exporting", until=None, transient=BLOCK_SNAPSHOT_TRANSIENT) == "wait"
    assert classify("exporting", until=None, transient=BLOCK) == "done"
    assert classify("hotsyncing", until=None, transient=INSTANCE_VOLUME_TRANSIENT) == "wait"
    assert classify("snapshotting", until=None, transient=INSTANCE_VOLUME_TRANSIENT) == "wait"
    assert classify("error", until=None, transient=BLOCK, failures=frozenset()) == "done"


known = BLOCK | BLOCK_SNAPSHOT_TRANSIENT | INSTANCE_VOLUME_TRANSIENT | FAILURE_STATES
states = st.none() | st.sampled_from([*sorted(known), "available", "in_use", "deleted", "x"])
state_sets = st.frozensets(st.sampled_from(["available", "in_use", "deleted", "error", "x"]))


@given(states, st.none() | state_sets.filter(bool), state_sets, state_sets)
@example("deleted", None, frozenset(), frozenset())
def test_classify_is_consistent(
    state: str | None, until: frozenset[str] | None, transient: frozenset[str], failures: Any
) -> None:
    """What was asked for is done; a transient state never fails; gone (404 or status
    deleted) is done only for deleted, and never waited through."""
    outcome = classify(state, until=until, transient=transient, failures=failures)
    if state is None or state == "deleted":
        assert outcome == ("done" if until and "deleted" in until else "failed")
    elif until is not None and state in until:
        assert outcome == "done"
    elif state in failures:
        assert outcome == "failed"
    elif until is None:
        assert outcome == ("wait" if state in transient else "done")
    else:
        assert outcome == "wait"


@pytest.mark.parametrize(
    ("until", "expected"),
    [
        (None, None),
        ("available", frozenset({"available"})),
        (["available", "in_use", "available"], frozenset({"available", "in_use"})),
        (("deleted",), frozenset({"deleted"})),
        (frozenset({"error"}), frozenset({"error"})),
        ((s for s in ["a", "b"]), frozenset({"a", "b"})),
    ],
)
def test_normalize_until(until: Any, expected: frozenset[str] | None) -> None:
    """A state or any collection of states becomes a frozenset."""
    assert normalize_until(until) == expected


@pytest.mark.parametrize(
    ("until", "words"),
    [
        ("", "non-empty"),
        ([], "at least one"),
        (set(), "at least one"),
        (["available", ""], "non-empty"),
        (["available", 3], "non-empty"),
        ([None], "non-empty"),
        (b"available", "state string"),
        (3, "state string"),
    ],
)
def test_normalize_until_refuses(until: Any, words: str) -> None:
    """Empty, non-string or non-collection values are a ValueError naming until."""
    with pytest.raises(ValueError, match=f"until.*{words}"):
        normalize_until(until)


# The status enums of Scaleway's official SDK (scaleway 2.12: block.v1 VolumeStatus,
# SnapshotStatus; instance.v1 VolumeState), plus "deleted", which a 404 also means.
SDK_STATES = {
    "Block volume": (
        BLOCK_VOLUME_STATES,
        "unknown_status creating available in_use deleting deleted resizing error "
        "snapshotting locked updating",
    ),
    "Block snapshot": (
        BLOCK_SNAPSHOT_STATES,
        "unknown_status creating available error deleting deleted in_use locked exporting",
    ),
    "Instance volume": (
        INSTANCE_VOLUME_STATES,
        "available snapshotting fetching saving attaching resizing hotsyncing error deleted",
    ),
}


@pytest.mark.parametrize("resource", SDK_STATES)
def test_known_states_are_the_apis(resource: str) -> None:
    """Each resource's states are its API's, transient and failure ones included."""
    known, listed = SDK_STATES[resource]
    assert known == frozenset(listed.split())
    transient = {
        "Block volume": BLOCK_VOLUME_TRANSIENT,
        "Block snapshot": BLOCK_SNAPSHOT_TRANSIENT,
        "Instance volume": INSTANCE_VOLUME_TRANSIENT,
    }[resource]
    assert transient < known and "error" in known


@pytest.mark.parametrize(
    ("until", "named", "suggested"),
    [
        ("availble", "availble", "available"),
        ("Available", "Available", "available"),
        ("AVAILABLE", "AVAILABLE", "available"),
        (["available", "in-use"], "in-use", "in_use"),
        ({"deleted", "gone"}, "gone", None),
    ],
)
def test_normalize_until_refuses_a_state_the_resource_cannot_have(
    until: Any, named: str, suggested: str | None
) -> None:
    """A misspelt or miscased state is a ValueError naming it, its close match and the
    known states, not a wait that burns its whole timeout."""
    with pytest.raises(ValueError, match="until") as info:
        normalize_until(until, BLOCK_VOLUME_STATES, kind="volume")
    message = str(info.value)
    assert f"a volume has no state {named!r}" in message
    assert ("did you mean" in message) == (suggested is not None)
    if suggested is not None:
        assert f"did you mean {suggested!r}?" in message
    assert ", ".join(sorted(BLOCK_VOLUME_STATES)) in message


def test_instance_volumes_have_no_in_use_state() -> None:
    """The Instance API never reports in_use: waiting for it would never end."""
    assert normalize_until("in_use", BLOCK_VOLUME_STATES) == {"in_use"}
    with pytest.raises(ValueError, match="no state 'in_use'"):
        normalize_until("in_use", INSTANCE_VOLUME_STATES)


@given(
    st.sampled_from(sorted(SDK_STATES)),
    st.lists(
        st.text(min_size=1, max_size=14) | st.sampled_from(sorted(BLOCK_VOLUME_STATES)),
        min_size=1,
        max_size=4,
    ),
)
def test_normalize_until_accepts_exactly_the_known_states(resource: str, until: list[str]) -> None:
    """Known states (any case of them counts as another word) pass as a set; the first
    unknown one is refused by name."""
    known = SDK_STATES[resource][0]
    unknown = [state for state in until if state not in known]
    if not unknown:
        assert normalize_until(until, known, kind="volume") == frozenset(until)
    else:
        with pytest.raises(ValueError, match=f"no state {re.escape(repr(unknown[0]))}"):
            normalize_until(until, known, kind="volume")


# -- poll spacing ----------------------------------------------------------------


@given(
    st.floats(min_value=0.01, max_value=5.0),
    st.floats(min_value=1.0, max_value=60.0),
    st.floats(min_value=1.0, max_value=4.0),
    st.integers(min_value=0, max_value=2**32),
)
def test_poll_delays_bounds(initial: float, cap: float, factor: float, seed: int) -> None:
    """First poll at once; then each delay lies in [d/2, d], d growing by factor up to cap."""
    cap = max(cap, initial)
    delays = list(
        itertools.islice(poll_delays(initial, cap, factor=factor, rng=random.Random(seed)), 40)
    )
    assert delays[0] == 0.0
    for n, delay in enumerate(delays[1:]):
        ceiling = min(cap, initial * factor**n)
        assert ceiling / 2 <= delay <= ceiling <= cap


def test_poll_delays_reach_the_cap_and_stay() -> None:
    """Backoff grows to the cap and stays there, forever, without overflow."""
    delays = poll_delays(0.5, 5.0, rng=random.Random(1))
    tail = list(itertools.islice(delays, 5000))[-100:]
    assert all(2.5 <= d <= 5.0 for d in tail)
    assert max(tail) > 4.5  # the jitter really draws across the range


def test_poll_delays_are_jittered() -> None:
    """Two waiters started together do not poll in lockstep."""
    a = list(itertools.islice(poll_delays(rng=random.Random(1)), 10))
    b = list(itertools.islice(poll_delays(rng=random.Random(2)), 10))
    assert a[0] == b[0] == 0.0 and a[1:] != b[1:]


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"initial": 0}, ValueError, "initial"),
        ({"initial": -1.0}, ValueError, "initial"),
        ({"initial": float("nan")}, ValueError, "initial"),
        ({"cap": float("inf")}, ValueError, "cap"),
        ({"initial": 2.0, "cap": 1.0}, ValueError, "cap"),
        ({"factor": 0.5}, ValueError, "factor"),
        ({"initial": "1"}, TypeError, "initial"),
        ({"cap": True}, TypeError, "cap"),
    ],
)
def test_poll_delays_refuse_bad_arguments(
    kwargs: dict[str, Any], error: type[Exception], words: str
) -> None:
    """Bad settings fail at the call, before any wait starts."""
    with pytest.raises(error, match=words):
        poll_delays(**kwargs)


def test_the_waiters_literal_states_are_the_known_ones_but_deleted() -> None:
    """The types that make a wait return the model name every state but ``deleted``."""
    from typing import get_args

    from scaleway_volumes._states import (
        BLOCK_SNAPSHOT_STATES,
        BLOCK_VOLUME_STATES,
        INSTANCE_VOLUME_STATES,
        BlockSnapshotWaitState,
        BlockVolumeWaitState,
        InstanceVolumeWaitState,
    )

    assert {*get_args(BlockVolumeWaitState), "deleted"} == BLOCK_VOLUME_STATES
    assert {*get_args(BlockSnapshotWaitState), "deleted"} == BLOCK_SNAPSHOT_STATES
    assert {*get_args(InstanceVolumeWaitState), "deleted"} == INSTANCE_VOLUME_STATES
