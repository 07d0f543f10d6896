"""Resource ids given as a UUID string or as the model that carries one."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["UUID_PATTERN", "check_id"]

# The canonical 8-4-4-4-12 form only: anything else ("../servers", "a/b", "")
# would change the request path.
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def check_id(value: object, argument: str, *models: type[Any]) -> str:
    """The id in ``value``: a UUID string, or an instance of one of ``models`` (its ``.id``).

    Raises ``ValueError`` naming ``argument`` for anything else, before any
    request is made.

    ```python
    check_id(volume, "volume_id", BlockVolume)        # volume.id
    check_id("not-a-uuid", "snapshot_id", BlockSnapshot)  # ValueError
    ```
    """
    if models and isinstance(value, models):
        value = value.id
    if isinstance(value, str) and UUID_PATTERN.fullmatch(value):
        return value
    accepted = " or ".join(["a UUID string", *(f"a {m.__name__}" for m in models)])
    raise ValueError(f"{argument} must be {accepted}, got {value!r}")
