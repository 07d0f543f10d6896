"""A user's ``mypy --strict`` over documented calls: precise types where the docs
promise them (``assert_type``), and a wrong callback refused (an ignore that must be
used: ``--strict`` warns about an unused one)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

USER_CODE = Path(__file__).parent / "typing_user" / "user_code.py"


@pytest.mark.slow
def test_a_users_code_type_checks_as_documented(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            f"--cache-dir={tmp_path / 'cache'}",
            "--python-version=3.10",
            str(USER_CODE),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
