"""The command line's own names and defaults.

The library's defaults (zone, concurrency, page size, environment variable
names) are imported from ``scaleway_volumes._constants`` where they are used,
never repeated here.
"""

from __future__ import annotations

PROG = "scaleway-volumes"
USER_AGENT = f"{PROG}-cli"
# The modules of the ``cli`` extra: without them main() prints an install hint.
EXTRA_MODULES = ("click", "rich")

# The library's VolumeSpec and create_volume default to this type too.
DEFAULT_VOLUME_TYPE = "l_ssd"

# How long `--wait` waits for each volume or snapshot, in seconds, unless
# --wait-timeout says otherwise (the library's waiters default to the same).

# `demo`: the API (and the fake) refuse volumes under 1 GB; the demo stays well above.
DEMO_SIZE = 10 * 10**9
DEMO_PREFIX = "demo-"
DEMO_COUNT = 300
DEMO_LATENCY = 0.02
DEMO_RATE_LIMIT = 400.0
DEMO_CONCURRENCY = 32
# Seconds a Block volume takes to become available (and a snapshot, a resize, a
# delete to land) in the demo's fake: small, yet long enough that waiting shows.
DEMO_SETTLE_TIME = 0.2
