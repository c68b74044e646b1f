"""Storing photos as the domain sees it: the store's interface, the keys it accepts and the errors
it raises. The providers (`providers/storage/`: a folder on this machine, the embedded default, or
an S3-compatible bucket) implement it, and settings choose one (`providers.storage.photo_store`,
called by the composition roots); the domain depends on this module and never on a provider.

Rules every implementation keeps:
- Keys are made by our code (`domain.service_requests.photos`), never taken from a client; a store
  still refuses a key that could leave its folder or bucket prefix (`check_key`).
- `put` is whole or nothing: a reader never sees half a photo.
- Calls never block the event loop: file and SDK I/O runs in a worker thread.
"""

from __future__ import annotations

import re
from typing import Protocol

# Lower-case letters, digits, `-`, `_` and `.` in `/`-separated segments; no segment is `.` or
# `..`, none is empty, no leading `/`. What our keys look like, and nothing that could climb.
_SEGMENT = re.compile(r"[a-z0-9_-][a-z0-9_.-]*")
MAX_KEY_LENGTH = 300  # service_request_photos.storage_key


class ObjectMissing(LookupError):
    """No object under that key (deleted, or never stored)."""


class InvalidKey(ValueError):
    pass


def check_key(key: str) -> str:
    segments = key.split("/")
    if (
        not key
        or len(key) > MAX_KEY_LENGTH
        or any(not _SEGMENT.fullmatch(part) or part in (".", "..") for part in segments)
    ):
        raise InvalidKey(f"not a storage key: {key!r}")
    return key


class PhotoStore(Protocol):
    name: str

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing what was there."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes under `key`; `ObjectMissing` if there are none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove `key`; nothing happens if it is not there."""
        ...
