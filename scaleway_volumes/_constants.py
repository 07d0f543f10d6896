"""Every default in one place."""

from __future__ import annotations

import httpx

DEFAULT_API_URL = "https://api.scaleway.com"
DEFAULT_ZONE = "fr-par-1"
# The seed API's zones, served from their own hosts without the /instance prefix.
LEGACY_ZONE_URLS = {
    "par1": "https://cp-par1.scaleway.com",
    "ams1": "https://cp-ams1.scaleway.com",
}

ENV_SECRET_KEY = "SCW_SECRET_KEY"
ENV_ZONE = "SCW_DEFAULT_ZONE"
ENV_ORGANIZATION = "SCW_DEFAULT_ORGANIZATION_ID"
ENV_PROJECT = "SCW_DEFAULT_PROJECT_ID"
ENV_API_URL = "SCW_API_URL"

# A listing's warning (it stopped short) has a logger of its own, a child of
# the library's: the command line shows it while it keeps the others quiet.
PAGINATION_LOGGER = "scaleway_volumes.pagination"

# Connect fast or fail; reads are generous because a create can take a while;
# the pool wait is bounded so a saturated pool surfaces as an error, not a hang.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0, pool=30.0)
# An upper bound on one whole call, retries and backoff included: a server that
# drips its body one byte at a time never trips the read timeout.
DEFAULT_DEADLINE = 120.0
DEFAULT_MAX_CONNECTIONS = 100
# Below the 60 s idle timeout common to load balancers, so we rarely reuse a
# connection the other side is about to close.
DEFAULT_KEEPALIVE_EXPIRY = 30.0

# The API's own page-size ceiling.
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 100

DEFAULT_CONCURRENCY = 16

# The tag that makes a create findable after an ambiguous failure; see
# AsyncVolumeAPI.create_volume.
MARKER_TAG_PREFIX = "scaleway-volumes:create="

# Configuration like the Scaleway tools (scw CLI, Go and Python SDKs); the rules are
# in docs/configuration.md.
ENV_ACCESS_KEY = "SCW_ACCESS_KEY"
ENV_REGION = "SCW_DEFAULT_REGION"
ENV_PROFILE = "SCW_PROFILE"
ENV_CONFIG_PATH = "SCW_CONFIG_PATH"
# The reserved profile name that means the config file's top-level keys.
DEFAULT_PROFILE = "default"
# Under $XDG_CONFIG_HOME, else under ~/.config: where `scw init` writes.
CONFIG_FILE_SUBPATH = ("scw", "config.yaml")
# Old region names the Scaleway tools still accept and translate.
LEGACY_REGIONS = {"par1": "fr-par", "ams1": "nl-ams"}
DEFAULT_REGION = "fr-par"

# How long `create_volumes(..., wait=True)` waits for each volume to become available.
WAIT_TIMEOUT = 300.0
