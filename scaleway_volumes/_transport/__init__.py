"""HTTP for the pipeline: the seam, the owned client and the transports under it."""

from ._aiohttp import AiohttpTransport, map_aiohttp_error
from ._owned import OwnedClient
from ._seam import ClientSender, Reply, Sender, TransportFailure, http_module_of
from ._trio import CancelSafeHTTPTransport

__all__ = [
    "AiohttpTransport",
    "CancelSafeHTTPTransport",
    "ClientSender",
    "OwnedClient",
    "Reply",
    "Sender",
    "TransportFailure",
    "http_module_of",
    "map_aiohttp_error",
]
