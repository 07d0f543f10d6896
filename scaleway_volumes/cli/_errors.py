"""How the command line fails: exit statuses, the ``Error:`` line and the ``hint:`` line.

Every failure ends as one line on stderr, never a traceback, and a status:

=====  =====================================================================
0      success
1      an operation failed (an API error, a bulk call with failed items)
2      the command line or the configuration must change (click's usage errors)
130    interrupted by Ctrl-C
=====  =====================================================================

When there is something to do about it, a second line says what (``hint``:
the library's ``scaleway_volumes._hints.hint``, except that the advice after a
create of unknown outcome names the listing of the command's own API, set by
its group with ``_context.set_listing_command``, and the advice after a wait that ran
out of time names the command that waits again); a bulk call prints that
advice once, for its most common kind of failure, however many items failed.
With ``--json`` the same failure is one JSON object on stderr: ``{"error",
"hint", "exit_code"}``, and ``"id"`` when the error names a resource that
exists (``waited_id``; ``wait_failed`` for a wait a refused poll stopped, which
``_runners.wait_for_created`` applies).

This module decides the lines and the status; ``_app`` turns the decision into
click's exceptions. It needs neither click nor rich, so ``main()`` can still
say what is missing when the ``cli`` extra is not installed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from scaleway_volumes import (
    AuthenticationError,
    NotFoundError,
    ResourceStateError,
    ScalewayError,
    WaitTimeoutError,
)
from scaleway_volumes._constants import WAIT_TIMEOUT
from scaleway_volumes._hints import UNREACHABLE
from scaleway_volumes._hints import hint as library_hint

from ._constants import PROG
from ._context import listing_command, refused_key, unreachable

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CLIError",
    "Failure",
    "failure_of",
    "hint",
    "interrupted",
    "missing_extra_line",
    "not_ready",
    "one_line",
    "show",
    "summary_hint",
    "wait_failed",
    "waited_id",
]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def hint(error: BaseException) -> str | None:
    """What to do next about ``error`` (the library's advice), or None.

    After a create whose outcome is unknown, the advice names the listing of
    the running command's API (``_context.set_listing_command``) with the marker tag:
    ``scaleway-volumes block list --tag scaleway-volumes:create=...``. After a
    wait for a volume or snapshot that ran out of time, it names the command
    that waits for it again (``scaleway-volumes block get <id> --wait``), and
    warns that running the create again would make a second one. When a failed
    poll ended that wait (its ``__cause__``: a bulk wait stops at a 403), the
    advice for that failure comes first, and the command is for once it is fixed.
    After a 401, it names where the refused key came from (``_context.set_key_source``);
    when the API could not be reached, where its URL came from if that was the
    environment or a profile (``_context.set_url_source``).
    """
    if isinstance(error, ScalewayError) and error.outcome_unknown and error.marker_tag:
        tag = error.marker_tag
        return (
            f"It may have been created anyway: list what carries the tag {tag} "
            f"({listing_command()} --tag {tag}) before trying again, or you may get two."
        )
    if isinstance(error, WaitTimeoutError) and error.kind in _GETTERS and error.last_state:
        return _wait_again(error)
    if isinstance(error, AuthenticationError) and (advice := refused_key()) is not None:
        return advice
    advice = library_hint(error)
    if advice == UNREACHABLE:
        return unreachable() or advice
    return advice


# The command that shows (and with --wait, waits for) each kind of resource a
# command waits for.
_GETTERS = {"volume": "block get", "snapshot": "block snapshot get"}


def _wait_command(kind: str, resource_id: str, timeout: float | None = None) -> str:
    # The command that waits for an existing resource: the only way a command
    # line user can wait again (running the create again would make a second).
    command = f"{PROG} {_GETTERS[kind]} {resource_id} --wait"
    if timeout is not None and timeout >= WAIT_TIMEOUT:
        # --wait alone would wait no longer than the wait that just ran out.
        command += f" --wait-timeout {2 * timeout:g}"
    return command


def _exists_despite(
    cause: ScalewayError, kind: str, resource_id: str, state: str, timeout: float | None = None
) -> str:
    # A poll of a resource the command made failed (a 403, a 401, a 501, or a
    # 5xx until the time ran out): waiting again meets the same failure until
    # it is fixed, which is what the cause's advice is about; the resource
    # exists all the same, and creating it again would make a second one.
    advice = hint(cause) or f"A poll of it failed: {one_line(cause)}."
    command = _wait_command(kind, resource_id, timeout)
    advice += (
        f" The {kind} {resource_id} exists (last seen {state!r}): once polls of it "
        f"succeed, wait for it with `{command}`"
    )
    if state == "creating":
        advice += f"; running the create again would make a second {kind}"
    return advice + "."


def _wait_again(error: WaitTimeoutError) -> str:
    # The library says "wait again with a longer timeout", which a command line
    # user can only do with a command that waits for an existing resource;
    # running the create again instead would make (and bill) a second one.
    assert error.last_state is not None  # hint() checked it
    cause = error.__cause__
    if isinstance(cause, ScalewayError):
        # The wait ended on a failed poll (a bulk wait stops at once on a 403):
        # `get --wait` alone would meet it again.
        return _exists_despite(
            cause, error.kind, error.resource_id, error.last_state, error.timeout
        )
    command = _wait_command(error.kind, error.resource_id, error.timeout)
    advice = (
        f"The {error.kind} {error.resource_id} exists but is still {error.last_state!r} after "
        f"{error.timeout:g} s: wait for it with `{command}`"
    )
    if error.last_state == "creating":
        advice += f"; running the create again would make a second {error.kind}"
    return advice + "."


def wait_failed(
    error: ScalewayError, *, kind: str, resource_id: str, state: str, described: str
) -> CLIError | None:
    """The failure to raise for a wait for the ``kind`` the command just created that
    failed with ``error``, or None to raise ``error`` itself.

    ``resource_id`` is the resource's id, ``state`` the state its create answered
    with, ``described`` how stderr names it. A timeout or a failure state already
    names it (``waited_id``): None. Any other failure of the wait (a
    poll refused: 401, 403, a 501, an unreadable answer) would lose the id of a
    resource that exists and is billed: a ``CLIError`` saying it was created,
    with its id as ``resource_id`` (the ``--json`` ``"id"``) and the advice for
    the poll's error followed by the command that waits for it once that is
    fixed. A 404 (it is gone) says it was created, but claims no id.

    ```python
    except ScalewayError as error:
        failure = wait_failed(
            error, kind="volume", resource_id=v.id, state=v.status, described=describe(v)
        )
        if failure is None:
            raise
        raise failure from error
    ```
    """
    if waited_id(error) is not None:
        return None
    if isinstance(error, NotFoundError):
        return CLIError(
            f"created {described}, but waiting for it failed: {one_line(error)}", hint=hint(error)
        )
    return CLIError(
        f"created {described}, which exists, but a poll of it failed: {one_line(error)}",
        hint=_exists_despite(error, kind, resource_id, state),
        resource_id=resource_id,
    )


def waited_id(error: BaseException) -> str | None:
    """The id of the resource ``error`` says a wait watched, or None.

    A wait that ran out of time having seen the resource (``WaitTimeoutError``
    with a ``last_state``) or that ended in a failure state
    (``ResourceStateError``) watched a resource that exists (and is billed): a
    script needs its id to look at it or delete it. No other error qualifies: a
    wait whose every poll failed saw nothing, and an API error's
    ``resource_id`` may name what was not found.
    """
    if isinstance(error, ResourceStateError):
        return error.resource_id
    if isinstance(error, WaitTimeoutError) and error.last_state:
        return error.resource_id
    return None


def not_ready(error: BaseException) -> str | None:
    """How a resource ``error`` says was made failed to become usable, or None.

    ``it was not available within 300 s (still 'creating')``, ``it reached the
    state 'error'``: what follows "created <name> (<id>) but" in a bulk
    create's line for the item. A wait that a failed poll ended (or whose last
    poll failed) names that failure: ``it was not available after 0.5 s (still
    'creating'): a poll failed: ...``.
    """
    if isinstance(error, WaitTimeoutError):
        state = f"still {error.last_state!r}" if error.last_state else "not settled"
        cause = error.__cause__
        if isinstance(cause, ScalewayError):
            # Without it the line would blame the time alone, and the user
            # would wait longer for what a key or a proxy is stopping.
            return (
                f"it was not available after {error.timeout:g} s ({state}): "
                f"a poll failed: {one_line(cause)}"
            )
        return f"it was not available within {error.timeout:g} s ({state})"
    if isinstance(error, ResourceStateError):
        return f"it reached the state {error.state!r}"
    return None


class CLIError(Exception):
    """A failure to report as an ``Error: ...`` line on stderr, exiting with ``exit_code``.

    ``exit_code`` is 1 when an operation failed, 2 when the command line or the
    configuration must change (click's convention for usage errors). ``hint``,
    when given, is printed on the next line: what to do about it.
    ``resource_id``, when given, is the ``"id"`` of the ``--json`` failure: a
    resource the failed command made, which exists (``waited_id``).

    ```python
    raise CLIError("no secret key: pass --token or set SCW_SECRET_KEY", exit_code=EXIT_USAGE)
    ```
    """

    def __init__(
        self,
        message: str,
        exit_code: int = EXIT_FAILED,
        *,
        hint: str | None = None,
        resource_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.hint = hint
        self.resource_id = resource_id


@dataclass(frozen=True)
class Failure:
    """How a command ends: its one-line message, its exit status, what to do next,
    and the id of a resource it made that exists (``waited_id``), if any."""

    message: str
    exit_code: int
    hint: str | None = None
    resource_id: str | None = None

    def lines(self) -> list[str]:
        """``Error: <message>``, then ``hint: <advice>`` when there is advice."""
        lines = [f"Error: {self.message}"]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return lines

    def as_json(self) -> dict[str, Any]:
        """The failure as ``--json`` prints it on stderr (``"id"`` only when there is one)."""
        document: dict[str, Any] = {"error": self.message, "hint": self.hint}
        if self.resource_id is not None:
            document["id"] = self.resource_id
        document["exit_code"] = self.exit_code
        return document


def one_line(exc: BaseException) -> str:
    """``exc``'s message on one line (API errors can span several), or its type's name."""
    return " ".join(str(exc).split()) or type(exc).__name__


def failure_of(exc: BaseException) -> Failure | None:
    """How ``exc`` ends a command, or None if it is a bug.

    A ``CLIError`` says it all itself; an API error or a bad value the library
    refused (``ValueError``) is an operation that failed (1), with its ``hint``
    and, after a wait, the id of the resource waited for (``waited_id``).
    Anything else is not for this table: it propagates with its traceback.
    """
    if isinstance(exc, CLIError):
        return Failure(str(exc), exc.exit_code, exc.hint, exc.resource_id)
    if isinstance(exc, (ScalewayError, ValueError)):
        return Failure(one_line(exc), EXIT_FAILED, hint(exc), waited_id(exc))
    return None


def _kind(error: BaseException) -> tuple[str, bool]:
    # Whether the outcome is known matters more than the class: "it may exist" is
    # advice of its own, whatever failed.
    unknown = isinstance(error, ScalewayError) and error.outcome_unknown
    return type(error).__name__, unknown


def summary_hint(
    failed: Sequence[tuple[Any, BaseException]], describe: Callable[[Any], str]
) -> str | None:
    """The one piece of advice for the failed items of a bulk call, or None.

    It is the hint of the most common kind of failure (the first seen on a tie)
    among those that have one. It says how many failures it is about when it is
    not all of them, and names the item it was written for when the others'
    advice differs in its details (each outcome-unknown create has its own tag):
    ``(4 of the 6 failures; for db0; likewise for the other 3) It may have...``.

    ```python
    summary_hint([(spec, quota_error)] * 300, describe)
    # 'The quota volumes_l_ssd_total_size (100 of 100 used) is full: ...'
    ```
    """
    groups: dict[tuple[str, bool], list[tuple[Any, str]]] = {}
    for item, error in failed:
        advice = hint(error)
        if advice is not None:
            groups.setdefault(_kind(error), []).append((item, advice))
    if not groups:
        return None
    members = max(groups.values(), key=len)
    first_item, advice = members[0]
    scope = []
    if len(members) < len(failed):
        scope.append(f"{len(members)} of the {len(failed)} failures")
    if any(other != advice for _, other in members[1:]):
        scope.append(f"for {describe(first_item)}; likewise for the other {len(members) - 1}")
    return f"({'; '.join(scope)}) {advice}" if scope else advice


def missing_extra_line(module: str) -> str:
    """The line ``main()`` prints when ``module`` of the ``cli`` extra cannot be imported."""
    return (
        f"{PROG}: the command line needs the 'cli' extra ({module} is missing): "
        "pip install 'scaleway-volumes[cli]'"
    )


def show(failure: Failure, *, as_json: bool) -> None:
    """The failure on stderr: ``Error:`` and ``hint:`` lines, or one JSON object."""
    # Here, not at the top: this module must load without click, to say that the
    # [cli] extra is missing.
    import click

    lines = [json.dumps(failure.as_json())] if as_json else failure.lines()
    for line in lines:
        click.echo(line, err=True)


def interrupted(
    text: str, *, as_json: bool, hint: str | None = None, resource_id: str | None = None
) -> NoReturn:
    """End the command on Ctrl-C (exit 130): ``text`` says what was left done, as a
    line on stderr (then ``hint: ...`` when given), or with ``--json`` as the one
    JSON failure object (``"id"``: ``resource_id``, what the command made)."""
    import click  # as in show()

    if as_json:
        show(Failure(text, EXIT_INTERRUPTED, hint, resource_id), as_json=True)
    else:
        click.echo(text, err=True)
        if hint:
            click.echo(f"hint: {hint}", err=True)
    raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
