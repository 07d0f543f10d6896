"""How the command line fails: exit statuses and the one ``Error: ...`` line.

Every failure ends as one line on stderr, never a traceback, and a status:

=====  =====================================================================
0      success
1      an operation failed (an API error, a bulk call with failed items)
2      the command line or the configuration must change (click's usage errors)
130    interrupted by Ctrl-C
=====  =====================================================================

This module decides the line and the status; ``_app`` turns the decision into
click's exceptions. It needs neither click nor rich, so ``main()`` can still
say what is missing when the ``cli`` extra is not installed.
"""

from __future__ import annotations

from scaleway_volumes import ScalewayError

from ._constants import PROG

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_USAGE",
    "CLIError",
    "failure_of",
    "missing_extra_line",
    "one_line",
]

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CLIError(Exception):
    """A failure to report as one ``Error: ...`` line on stderr, exiting with ``exit_code``.

    ``exit_code`` is 1 when an operation failed, 2 when the command line or the
    configuration must change (click's convention for usage errors).

    ```python
    raise CLIError("no secret key: pass --token or set SCW_SECRET_KEY", exit_code=EXIT_USAGE)
    ```
    """

    def __init__(self, message: str, exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def one_line(exc: BaseException) -> str:
    """``exc``'s message on one line (API errors can span several), or its type's name."""
    return " ".join(str(exc).split()) or type(exc).__name__


def failure_of(exc: BaseException) -> tuple[str, int] | None:
    """The message and exit status ``exc`` ends a command with, or None if it is a bug.

    A ``CLIError`` says both itself; an API error or a bad value the library
    refused (``ValueError``) is an operation that failed (1). Anything else is
    not for this table: it propagates with its traceback.
    """
    if isinstance(exc, CLIError):
        return str(exc), exc.exit_code
    if isinstance(exc, (ScalewayError, ValueError)):
        return one_line(exc), EXIT_FAILED
    return None


def missing_extra_line(module: str) -> str:
    """The line ``main()`` prints when ``module`` of the ``cli`` extra cannot be imported."""
    return (
        f"{PROG}: the command line needs the 'cli' extra ({module} is missing): "
        "pip install 'scaleway-volumes[cli]'"
    )
