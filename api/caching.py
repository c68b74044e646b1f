"""Conditional GET for public, cacheable resources (the catalog).

The ETag is a hash of the response body, so it changes exactly when the content does. Bodies are
kept in a small per-process cache keyed by a revision token that every admin change replaces (see
`domain.catalog.service.read_revision`): an unchanged catalog is answered, 200 or 304, after one
primary-key read, without loading or serializing anything.

That read is shared by the requests that arrive together (`RevisionReads`): a request waits for
the next read that starts after it arrived, so its answer is as fresh as a read of its own, while
under load one read serves every request that came in during the previous one. A hit needs no
database session of its own; only a miss opens one, to build the body in one snapshot.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.catalog.service import read_revision

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


class RevisionReads:
    """The current revision for concurrent requests, one read at a time.

    A caller never joins a read that is already running (it may have read the revision before a
    change the caller must see): it waits for the next read, which starts once the running one
    ends, together with everyone else who arrived meanwhile. So each answer is at least as fresh
    as the moment its request arrived, and N concurrent requests cost about one read per read
    time instead of N reads.
    """

    def __init__(self, read: Callable[[], Awaitable[str]]) -> None:
        self._read = read
        self._next: asyncio.Future[str] | None = None  # the result of the next read
        self._runner: asyncio.Task[None] | None = None

    async def current(self) -> str:
        loop = asyncio.get_running_loop()
        if self._next is None or self._next.get_loop() is not loop:
            self._next = loop.create_future()
            # A batch whose waiters all went away must not log "exception never retrieved".
            self._next.add_done_callback(_consume)
        waiting = self._next
        if self._runner is None or self._runner.done() or self._runner.get_loop() is not loop:
            self._runner = loop.create_task(self._run())
        # Shielded: a caller that gives up (client gone) must not cancel the others' read.
        return await asyncio.shield(waiting)

    async def _run(self) -> None:
        while self._next is not None:
            batch, self._next = self._next, None
            try:
                revision = await self._read()
            except BaseException as exc:
                if not batch.done():
                    batch.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            if not batch.done():
                batch.set_result(revision)


def _consume(future: asyncio.Future[str]) -> None:
    if not future.cancelled():
        future.exception()


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


def _revisions(request: Request) -> RevisionReads:
    state = request.app.state
    reads: RevisionReads | None = getattr(state, "catalog_revision_reads", None)
    if reads is None:
        sessions: async_sessionmaker[AsyncSession] = state.sessions

        async def read() -> str:
            async with sessions() as db:
                return await read_revision(db)

        reads = RevisionReads(read)
        state.catalog_revision_reads = reads
    return reads


async def conditional(
    request: Request,
    *,
    key: Hashable,
    build: Callable[[AsyncSession], Awaitable[BaseModel]],
    cache_control: str = CATALOG_CACHE_CONTROL,
) -> Response:
    """200 with the body (from the cache for the current revision, or built by `build` in a new
    session that reads the revision first, so body and revision are one snapshot), or 304 if the
    client's If-None-Match names its ETag. Both carry ETag and Cache-Control."""
    cache = _cache(request)
    entry = cache.get(await _revisions(request).current(), key)
    if entry is None:
        sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
        async with sessions() as db:
            revision = await read_revision(db)
            body = (await build(db)).model_dump_json().encode()
        entry = Cached(body=body, etag=etag_of(body))
        cache.put(revision, key, entry)
    headers = {"ETag": entry.etag, "Cache-Control": cache_control}
    if none_match(request.headers.get("if-none-match"), entry.etag):
        return Response(status_code=304, headers=headers)
    return Response(content=entry.body, media_type="application/json", headers=headers)
