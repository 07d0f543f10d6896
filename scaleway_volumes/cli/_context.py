"""What the running command's advice depends on: the listing that shows what it
creates, and where its secret key and API URL came from.

Each is set once per command (a group sets its listing, ``make_api`` the two
sources) and read by ``_errors.hint``, which names them in its advice: the
fix for a refused key in ``SCW_SECRET_KEY`` is not the fix for one in a
profile, and a stale ``SCW_API_URL`` is not found by checking ``--base-url``.
"""

from __future__ import annotations

from contextvars import ContextVar

from ._constants import PROG

__all__ = [
    "listing_command",
    "refused_key",
    "set_key_source",
    "set_listing_command",
    "set_url_source",
    "unreachable",
]

# The command that lists what the running command creates: where the advice
# after a create of unknown outcome sends the user to look for its marker tag.
_LISTING: ContextVar[str] = ContextVar("listing", default=f"{PROG} list")
# ``Config.sources`` of the secret key, and of the API URL when neither
# ``--base-url`` nor the default gave it.
_KEY_SOURCE: ContextVar[str | None] = ContextVar("key_source", default=None)
_URL_SOURCE: ContextVar[str | None] = ContextVar("url_source", default=None)


def set_listing_command(command: str) -> None:
    """Name the command that finds what the running command creates (``block list``...).

    Each group sets it when it runs (the root group ``list``, ``block`` its own
    ``block list``...), so that ``hint`` sends the user after a create of
    unknown outcome to the listing that can show it.
    """
    _LISTING.set(f"{PROG} {command}")


def listing_command() -> str:
    """The command that lists what the running command creates."""
    return _LISTING.get()


def set_key_source(source: str | None) -> None:
    """Record where the running command's secret key came from (``api.config.sources``)."""
    _KEY_SOURCE.set(source)


def set_url_source(source: str | None) -> None:
    """Record where the running command's API URL came from (``api.config.sources``);
    None when it came from ``--base-url`` or is the default."""
    _URL_SOURCE.set(source)


def _variable(source: str) -> str | None:
    """The environment variable a source names (``environment SCW_API_URL``), or None."""
    return source.removeprefix("environment ") if source.startswith("environment ") else None


def refused_key() -> str | None:
    """The advice after a 401, naming where the key came from (None: not known).

    A key in ``SCW_SECRET_KEY`` comes before every profile of the config file,
    so there "use --profile" alone would not help.
    """
    source = _KEY_SOURCE.get()
    if source is None:
        return None
    if source == "argument":
        where, fix = "given with --token", "check it"
    elif (variable := _variable(source)) is not None:
        where = f"in {variable}"
        fix = (
            f"check it, or unset {variable} (it comes before the config file's profiles, "
            "--profile included) and give the key with --token or --profile"
        )
    else:
        where = f"of {source}"
        fix = (
            "fix it there, pick the profile that holds the right key with --profile, "
            "or give it with --token"
        )
    return (
        f"The API refused the secret key {where}: {fix}; if the key expired or was revoked, "
        "create a new one in the Scaleway console."
    )


def unreachable() -> str | None:
    """The advice when no request reached the API, naming where its URL came from
    (None: from ``--base-url`` or the default, which the library's advice names)."""
    source = _URL_SOURCE.get()
    if source is None:
        return None
    if (variable := _variable(source)) is not None:
        where = f"the API URL in {variable} (it comes before the config file's profiles)"
    else:
        where = f"the api_url of {source}"
    return (
        f"The API could not be reached: check the network, a proxy or {where}; "
        "--base-url overrides it. Then retry."
    )
