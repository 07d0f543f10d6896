"""An in-memory fake of the Scaleway Instance Volumes API, for tests and benchmarks.

Use it in-process (``fake.client()`` / ``fake.transport()``) or over TCP
(``fake.serve()``, or ``python -m scaleway_volumes.testing`` as a separate process), and
script misbehaviour with :class:`Fault`::

    fake = FakeScaleway()
    fake.add_fault(Fault("act_then_drop", method="POST"))
    async with fake.client() as http:
        ...
"""

from ._core import Fault, RecordedRequest, Stats
from ._fake import FAKE_ORGANIZATION, FakeScaleway
from ._server import FakeServer

__all__ = ["FAKE_ORGANIZATION", "FakeScaleway", "FakeServer", "Fault", "RecordedRequest", "Stats"]
