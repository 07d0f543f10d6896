"""An in-memory fake of the Scaleway Instance and Block Storage volume APIs.

Use it in-process (``fake.client()`` / ``fake.transport()``) or over TCP
(``fake.serve()``, or ``python -m scaleway_volumes.testing`` as a separate process), and
script misbehaviour with :class:`Fault`::

    fake = FakeScaleway(block_create_time=0.2)
    fake.add_fault(Fault("act_then_drop", method="POST"))
    async with fake.client() as http:
        ...
    fake.block.add_volume("db")        # Block Storage helpers live under fake.block

See ``docs/testing.md`` for the whole guide.
"""

from ._block import FakeBlockStorage
from ._core import Fault, ManualClock, RecordedRequest, Stats
from ._fake import FAKE_ORGANIZATION, FAKE_TOKEN, FakeScaleway
from ._server import FakeServer
from ._shapes import (
    expired_body,
    invalid_arguments_body,
    not_found_body,
    precondition_failed_body,
    quotas_exceeded_body,
    transient_state_body,
)

__all__ = [
    "FAKE_ORGANIZATION",
    "FAKE_TOKEN",
    "FakeBlockStorage",
    "FakeScaleway",
    "FakeServer",
    "Fault",
    "ManualClock",
    "RecordedRequest",
    "Stats",
    "expired_body",
    "invalid_arguments_body",
    "not_found_body",
    "precondition_failed_body",
    "quotas_exceeded_body",
    "transient_state_body",
]
