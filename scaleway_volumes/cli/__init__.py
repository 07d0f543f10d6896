"""The ``scaleway-volumes`` command line: the volume commands, ``block``, ``demo``, ``config``.

Needs the ``cli`` extra (click and rich): ``pip install 'scaleway-volumes[cli]'``.
Nothing in the library imports this package, so the library never needs them.

Where things are:

- ``_app``: the click group, its global options and the registry of commands;
- ``_volumes``: the Instance volume commands (``list``, ``get``, ``create``, ``delete``);
- ``_block``: the ``block`` group (Block Storage) and ``block types``; its volume
  commands in ``_block_volumes`` and ``_block_create``, ``block snapshot`` in
  ``_block_snapshots``, their tables and JSON in ``_block_output``;
- ``_demo``: the offline tour of Block Storage on the fake (its summary: ``_demo_report``);
- ``_config``: ``config``, the settings in effect and where each came from;
- ``_options``: the options commands share (``--concurrency``, ``--yes``, ``--size``...);
- ``_connect``: how a command reaches the API (or ``--fake``) and runs its calls;
- ``_runners``: bulk call with progress and Ctrl-C report; confirm then delete;
- ``_progress``: the progress bar on a terminal, plain lines otherwise;
- ``_output``: tables and ``--json`` on stdout;
- ``_errors``: exit statuses (1, 2, 130), the ``Error:`` line and the ``hint:`` line;
- ``_sizes``: ``10GB``/``10GiB`` parsing and display;
- ``_constants``: the command line's own names and defaults.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ._constants import EXTRA_MODULES
from ._errors import EXIT_USAGE, CLIError, missing_extra_line
from ._sizes import human_size, parse_size

__all__ = ["CLIError", "build_cli", "human_size", "main", "parse_size"]

try:
    from ._app import build_cli, run_cli
except ImportError as exc:
    # Only a missing extra is for main() to explain; a broken import is a bug.
    _MISSING_EXTRA: str | None = (exc.name or "").partition(".")[0]
    if _MISSING_EXTRA not in EXTRA_MODULES:
        raise
else:
    _MISSING_EXTRA = None


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and exit with its status.

    0 success, 1 an operation failed, 2 a usage or configuration error (or the
    ``cli`` extra is missing), 130 interrupted.
    """
    if _MISSING_EXTRA is not None:
        print(missing_extra_line(_MISSING_EXTRA), file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    run_cli(argv)
