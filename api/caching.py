"""Conditional GET for public, cacheable resources (the catalog).

The ETag is a hash of the response body, so it changes exactly when the content does. Bodies are
kept in a small per-process cache keyed by a revision token that every admin change replaces (see
`domain.catalog.service.read_revision`): an unchanged catalog is answered, 200 or 304, after one
primary-key read, without loading or serializing anything.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

# Lists and details alike: a minute fresh, then served stale for ten while revalidating, which
# the app does with If-None-Match (a 304 costs almost nothing).
CATALOG_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=600"

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the ETag sent in If-None-Match is still current"}
}


@dataclass(frozen=True, slots=True)
class Cached:
    body: bytes
    etag: str


class BodyCache:
    """Serialized bodies of one revision; a new revision empties it. Bounded (LRU)."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self.revision: str | None = None
        self.entries: OrderedDict[Hashable, Cached] = OrderedDict()

    def get(self, revision: str, key: Hashable) -> Cached | None:
        if revision != self.revision:
            return None
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, revision: str, key: Hashable, entry: Cached) -> None:
        if revision != self.revision:
            self.revision = revision
            self.entries.clear()
        self.entries[key] = entry
        if len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def none_match(header: str | None, etag: str) -> bool:
    """True if If-None-Match names this ETag (weak comparison, RFC 9110 13.1.2) or is `*`."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def _cache(request: Request) -> BodyCache:
    state = request.app.state
    cache: BodyCache | None = getattr(state, "catalog_body_cache", None)
    if cache is None:
        cache = BodyCache()
        state.catalog_body_cache = cache
    return cache


async def conditional(
    request: Request,
    *,
    revision: str,
    key: Hashable,
    build: Callable[[], Awaitable[BaseModel]],
    cache_control: str = CATALOG_CACHE_CONTROL,
) -> Response:
    """200 with the body (built, or from the cache for this revision), or 304 if the client's
    If-None-Match names its ETag. Both carry ETag and Cache-Control."""
    cache = _cache(request)
    entry = cache.get(revision, key)
    if entry is None:
        body = (await build()).model_dump_json().encode()
        entry = Cached(body=body, etag=etag_of(body))
        cache.put(revision, key, entry)
    headers = {"ETag": entry.etag, "Cache-Control": cache_control}
    if none_match(request.headers.get("if-none-match"), entry.etag):
        return Response(status_code=304, headers=headers)
    return Response(content=entry.body, media_type="application/json", headers=headers)
