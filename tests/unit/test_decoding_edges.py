"""Decoding at the edges: non-object ``specs``, leap seconds, RFC 3339 only, listing paths.

The timestamp rules are checked against a reference written here from RFC 3339's
grammar, in-process and on Python 3.10 (when one is installed), since
``datetime.fromisoformat`` reads different things on 3.10 and 3.11+.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import re
import shutil
import subprocess
import sysconfig
import textwrap
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scaleway_volumes
from scaleway_volumes import BlockVolumeSpecs, GoneError, ResponseDecodeError, converter
from scaleway_volumes._convert import decode_volumes, find_marked_page
from scaleway_volumes._decode_block import (
    decode_block_volume,
    decode_block_volume_page,
    decode_volume_type_page,
)
from scaleway_volumes._decoding import parse_datetime
from scaleway_volumes._error_body import parse_timestamp

from .block_json import block_volume_json, volume_type_json
from .helpers import volume_json


def body(data: object) -> bytes:
    return json.dumps(data).encode()


# -- specs that is not an object ------------------------------------------------------------

NOT_OBJECTS = [[], [5000, "sbs"], "", "sbs"]


@pytest.mark.parametrize("bad", NOT_OBJECTS, ids=repr)
def test_specs_that_is_not_an_object_is_refused(bad: Any) -> None:
    """``"specs": []`` or ``"sbs"`` is a decode error at its path, not empty specs."""
    with pytest.raises(ResponseDecodeError) as caught:
        decode_block_volume(body(block_volume_json(specs=bad)), 200)
    assert caught.value.path == "$.specs"
    with pytest.raises(ResponseDecodeError) as caught:
        decode_block_volume_page(body({"volumes": [block_volume_json(specs=bad)]}), 200)
    assert caught.value.path == "$.volumes[0].specs"
    with pytest.raises(ResponseDecodeError) as caught:
        decode_volume_type_page(body({"volume_types": [volume_type_json(specs=bad)]}), 200)
    assert caught.value.path == "$.volume_types[0].specs"


@pytest.mark.parametrize("bad", NOT_OBJECTS, ids=repr)
def test_public_converter_refuses_specs_that_is_not_an_object(bad: Any) -> None:
    """The public converter refuses it too, where it used to give ``BlockVolumeSpecs()``."""
    with pytest.raises(TypeError, match="expected an object"):
        converter.structure(bad, BlockVolumeSpecs)
    assert converter.structure({}, BlockVolumeSpecs) == BlockVolumeSpecs()


# -- the reference: RFC 3339 section 5.6, plus what the library documents -------------------

# "T", "t" or a space; a fraction of any length; "Z", "z", "+HH:MM" or "+HHMM"; or no
# offset at all (taken as UTC). Anything else is refused.
RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([Zz])|([+-])(\d\d):?(\d\d))?",
    re.ASCII,
)


def reference(value: str) -> datetime | None:
    """What ``parse_datetime`` must answer for ``value``: None where it must refuse.

    A leap second is the last microsecond of its minute; a fraction is truncated
    to microseconds; an offset has 00-59 minutes and is less than a day.
    """
    match = RFC3339.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, _zulu, sign, off_h, off_m = match.groups()
    micro = int((fraction or "")[:6].ljust(6, "0"))
    if second == "60":
        second, micro = "59", 999_999
    zone = timezone.utc
    if sign is not None:
        if int(off_m) > 59:
            return None
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        try:
            zone = timezone(-offset if sign == "-" else offset)
        except ValueError:  # a day or more
            return None
    try:
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), micro, zone
        )
    except ValueError:
        return None


def outcome(value: str) -> str:
    """``parse_datetime``'s answer as text: the ISO form, or "refused"."""
    try:
        return parse_datetime(value).isoformat()
    except ValueError:
        return "refused"


# Pieces of RFC 3339 stamps and of the ISO 8601 (or odd) forms around them, all of
# which some Python's fromisoformat reads: 3.11 takes "35x+01:00" and "35.Z".
DATES = ["2026-11-27", "2024-02-29", "2026-02-29", "20261127", "2026-W48-5", "2026-331"]
SEPARATORS = ["T", "t", " ", "X", ""]
TIMES = ["10:38:35", "23:59:60", "23:59:61", "24:00:00", "10:38", "10", "103835", "10:38:"]
FRACTIONS = ["", ".5", ".123", ".123456789", ".1234567891", ",5", ".", "x", ":", " ", ".5x"]
OFFSETS = [
    *["", "Z", "z", "+01:00", "+0100", "-05:30", "-0530", "-00:00", "+23:59"],
    *["+01", "+01:00:30", "+010030", "+01:60", "+0160", "+24:00", "+01:00:00.5", "+1:00"],
    *["+01:0", "ZZ", "Z+01:00", "+01:00Z", "Zz"],
]
ENDS = ["", "\n", " "]
NEAR_RFC3339 = [
    "".join(parts)
    for parts in itertools.product(DATES, SEPARATORS, TIMES, FRACTIONS, OFFSETS, ENDS)
]


def test_parse_datetime_reads_rfc3339_and_nothing_else() -> None:
    """RFC 3339 stamps parse to the reference's instant and offset; the rest is refused.

    Tried on every mix of the pieces above (174 240 stamps): a leading
    space, another ISO 8601 form, an odd character that 3.11's ``fromisoformat``
    skips, a trailing newline. The library reads none of them, on any Python.
    """
    wrong = {}
    for value in [*NEAR_RFC3339, *(" " + v for v in NEAR_RFC3339[::97])]:
        expected = reference(value)
        try:
            parsed = parse_datetime(value)
        except ValueError:
            if expected is not None:
                wrong[value] = "refused"
            continue
        if expected is None or (parsed, parsed.utcoffset()) != (expected, expected.utcoffset()):
            wrong[value] = parsed.isoformat()
    assert wrong == {}


# Near-RFC 3339 text with random digits: out-of-range fields, offsets and odd forms.
ISO_LIKE = (
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt X][0-9]{2}:[0-9]{2}(:[0-9]{2})?"
    r"([.,][0-9]{0,10})?[ x]?([Zz]|[+-][0-9]{2}(:?[0-9]{2}(:?[0-9]{2})?)?)?\n?\Z"
)


@settings(max_examples=300)
@given(st.one_of(st.from_regex(ISO_LIKE), st.text(max_size=40)))
def test_parse_datetime_agrees_with_the_reference(value: str) -> None:
    """Random digits and any text too: the reference's answer, or a ValueError where it
    refuses (never another exception)."""
    expected = reference(value)
    if expected is None:
        with pytest.raises(ValueError):
            parse_datetime(value)
    else:
        parsed = parse_datetime(value)
        assert (parsed, parsed.utcoffset()) == (expected, expected.utcoffset())


@given(
    st.datetimes(
        min_value=datetime(1972, 1, 1),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-5, minutes=-30))]),
    ),
    st.sampled_from(["", ".0", ".5", ".999999999"]),
)
def test_leap_second_is_the_last_instant_of_its_minute(moment: datetime, fraction: str) -> None:
    """``hh:mm:60`` (RFC 3339 5.7) reads as ``hh:mm:59.999999``, in its own minute."""
    offset = moment.strftime("%z")
    stamp = f"{moment:%Y-%m-%dT%H:%M}:60{fraction}{offset[:3]}:{offset[3:]}"
    assert parse_datetime(stamp) == moment.replace(second=59, microsecond=999_999)


def test_a_leap_second_in_an_answer_decodes() -> None:
    """One leap-second stamp no longer fails a whole Block or Instance answer."""
    stamp = "2016-12-31T23:59:60Z"
    last = datetime(2016, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone.utc)
    volume = decode_block_volume(body(block_volume_json(created_at=stamp, updated_at=stamp)), 200)
    assert volume.created_at == last and volume.updated_at == last
    listed = decode_volumes(body({"volumes": [volume_json(creation_date=stamp)]}), 200)
    assert listed[0].creation_date == last


# -- the same answers on Python 3.10 --------------------------------------------------------

PROBE = "import sys; print(sys.version_info[:2] == (3, 10)); print(sys.executable)"


@cache
def python310() -> str | None:
    """A Python 3.10 interpreter: ``python3.10`` on PATH, else one pyenv installed."""
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates = [shutil.which("python3.10")]
    candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.10*", "bin", "python")))
    for candidate in filter(None, candidates):
        try:
            done = subprocess.run(
                [candidate, "-c", PROBE], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        answer = done.stdout.split("\n")
        if done.returncode == 0 and answer[0] == "True":
            return answer[1]
    return None


def run_on_310(code: str, values: list[str]) -> list[Any]:
    """Run ``code`` on Python 3.10 against this checkout; it prints JSON for ``VALUES``.

    The package is imported without its ``__init__`` (whose dependencies may be
    built for this interpreter only); the pure-Python ones (attrs, cattrs) are
    taken from this environment.
    """
    interpreter = python310()
    if interpreter is None:
        pytest.skip("no Python 3.10 interpreter: none on PATH as python3.10, none under pyenv")
    paths = sysconfig.get_paths()
    setup = textwrap.dedent(
        f"""
        import json, sys, types
        sys.path.extend({[paths["purelib"], paths["platlib"]]!r})
        try:
            import attrs, cattrs
        except ImportError as err:
            print(json.dumps({{"skip": str(err)}}))
            raise SystemExit
        package = types.ModuleType("scaleway_volumes")
        package.__path__ = [{str(Path(scaleway_volumes.__file__).parent)!r}]
        sys.modules["scaleway_volumes"] = package
        VALUES = json.loads(sys.stdin.read())
        """
    )
    done = subprocess.run(
        [interpreter, "-I", "-B", "-c", setup + textwrap.dedent(code)],
        input=json.dumps(values),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    if isinstance(result, dict):
        pytest.skip(f"Python 3.10 cannot import attrs and cattrs from here: {result['skip']}")
    assert isinstance(result, list)
    return result


def test_parse_datetime_agrees_on_python_310() -> None:
    """Stamps near RFC 3339 parse (or are refused) the same on 3.10 as here.

    3.10's ``fromisoformat`` reads any separator, 3.11's reads ``+01`` and a
    decimal comma, and a trailing newline once passed the 3.10 rewrite's ``$``.
    """
    values = NEAR_RFC3339[::11]  # about 16 000 of them
    on_310 = run_on_310(
        """
        from scaleway_volumes._decoding import parse_datetime
        out = []
        for value in VALUES:
            try:
                out.append(parse_datetime(value).isoformat())
            except ValueError:
                out.append("refused")
        print(json.dumps(out))
        """,
        values,
    )
    assert dict(zip(values, on_310, strict=True)) == {value: outcome(value) for value in values}


def test_gone_error_expired_since_is_a_datetime_on_python_310() -> None:
    """``expired_since`` (docs/errors.md) is read as every timestamp, also on 3.10.

    3.10's ``fromisoformat`` reads 3 or 6 fraction digits and ``+HH:MM`` only: the
    stamps a Go protobuf Timestamp writes (up to 9 digits) used to stay strings there.
    """
    values = [
        "2024-01-01T00:00:00.123456789Z",
        "2024-01-01T00:00:00.12Z",
        "2024-01-01T00:00:00.5z",
        "2024-01-01T00:00:00+0100",
        " 2024-01-01T00:00:00Z\n",
        "soon",
    ]
    on_310 = run_on_310(
        """
        from datetime import datetime
        from scaleway_volumes._api_errors import GoneError
        out = []
        for value in VALUES:
            read = GoneError("gone", status_code=410, expired_since=value).expired_since
            out.append(read.isoformat() if isinstance(read, datetime) else ["text", read])
        print(json.dumps(out))
        """,
        values,
    )
    here = [GoneError("gone", status_code=410, expired_since=v).expired_since for v in values]
    assert [type(read) for read in here] == [datetime] * 5 + [str]
    assert on_310 == [
        read.isoformat() if isinstance(read, datetime) else ["text", read] for read in here
    ]


# -- the marker lookup's error paths ---------------------------------------------------------


def test_instance_marker_lookup_names_the_listing_path() -> None:
    """A marked item that cannot decode is named by its place in the ``volumes`` list."""
    marker = "scaleway-volumes:create=" + "3" * 32
    page = {"volumes": [volume_json(name="n"), volume_json(name="n", size="x", tags=[marker])]}
    with pytest.raises(ResponseDecodeError) as caught:
        find_marked_page(body(page), 200, marker, "n")
    assert caught.value.path == "$.volumes[1].size"
    assert caught.value.status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-27T10:38:35+01.00",  # a dot where the offset's colon belongs
        "2026-11-27T10:38:35.123+01,00",  # a comma there
        "2026-11-27 10:38:35-05.30",  # 3.11's fromisoformat reads -05:00:00.3
        "2026-11-27T10:38:35.1234567x9Z",  # junk after the 6th fraction digit
        "2026-11-27T10:38:35.123456789WZ",
        "2026-11-27T10:38:35.12345678\n9Z",
    ],
)
def test_odd_stamps_fromisoformat_reads_are_refused(value: str) -> None:
    """Stamps near RFC 3339 that 3.11's ``fromisoformat`` reads (one of them with a
    wrong offset) are refused, as on 3.10; an error's ``expired_since`` keeps the text."""
    with pytest.raises(ValueError):
        parse_datetime(value)
    assert parse_timestamp(value) == value
