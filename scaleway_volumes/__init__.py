"""scaleway-volumes: a fast, safe asyncio client for Scaleway's volume APIs.

``AsyncBlockAPI`` serves Block Storage (persistent volumes and snapshots),
``AsyncVolumeAPI`` the Instance API's volumes (local disks).

```python
import anyio
from scaleway_volumes import AsyncBlockAPI

async def main() -> None:
    async with AsyncBlockAPI() as api:  # token from SCW_SECRET_KEY or the scw config
        for volume in await api.list_volumes():
            print(volume.id, volume.name, volume.size, volume.status)

anyio.run(main)
```
"""

from ._block import AsyncBlockAPI
from ._block_models import (
    BlockSnapshot,
    BlockVolume,
    BlockVolumeSpec,
    BlockVolumeSpecs,
    BlockVolumeType,
    Money,
    SnapshotParentVolume,
    VolumeReference,
)
from ._bulk import BulkResult
from ._convert import converter
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BulkOperationError,
    ConflictError,
    GoneError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    Quota,
    QuotaExceededError,
    RateLimitError,
    ResourceStateError,
    ResponseDecodeError,
    ScalewayError,
    ServerError,
    ServiceUnavailableError,
    TransientStateError,
    WaitTimeoutError,
)
from ._instance import AsyncVolumeAPI
from ._models import Volume, VolumeServer, VolumeSpec
from ._pacing import (
    AdaptiveRateLimiter,
    AdaptiveTuning,
    NoRateLimiter,
    RateLimiter,
    TokenBucketRateLimiter,
)
from ._retry import RetryPolicy, set_testing
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AdaptiveRateLimiter",
    "AdaptiveTuning",
    "AsyncBlockAPI",
    "AsyncVolumeAPI",
    "AuthenticationError",
    "BlockSnapshot",
    "BlockVolume",
    "BlockVolumeSpec",
    "BlockVolumeSpecs",
    "BlockVolumeType",
    "BulkOperationError",
    "BulkResult",
    "ConflictError",
    "GoneError",
    "InvalidRequestError",
    "Money",
    "NoRateLimiter",
    "NotFoundError",
    "PermissionDeniedError",
    "PreconditionFailedError",
    "Quota",
    "QuotaExceededError",
    "RateLimitError",
    "RateLimiter",
    "ResourceStateError",
    "ResponseDecodeError",
    "RetryPolicy",
    "ScalewayError",
    "ServerError",
    "ServiceUnavailableError",
    "SnapshotParentVolume",
    "TokenBucketRateLimiter",
    "TransientStateError",
    "Volume",
    "VolumeReference",
    "VolumeServer",
    "VolumeSpec",
    "WaitTimeoutError",
    "__version__",
    "converter",
    "set_testing",
]
