"""Conditional GET for public, cacheable resources (the catalog).

The ETag is a hash of the response body, so it changes exactly when the content does. Bodies are
kept in a small per-process cache (`CatalogCache`) for one catalog revision, the token that every
admin change replaces (see `domain.catalog.revision.read_revision`); a new revision empties it.

Knowing the current revision is what a hit costs, and it is usually free:
- While the process holds a `LISTEN catalog_changed` (a trigger on `catalog_state` notifies at
  every commit that replaces the token, whoever commits it), the revision read once is trusted
  until a notification says it changed: an unchanged catalog is answered, 200 or 304, without any
  database round trip. A change made through this process is seen at once (`invalidate()` after
  the admin's commit); one made through another API process, as soon as its notification arrives
  (milliseconds).
- Until the listener is connected, or after it lost its connection, every request confirms the
  revision with a primary-key read, shared by the requests that arrive together
  (`RevisionReads`): a request waits for the next read that starts after it arrived, so its answer
  is as fresh as a read of its own, while under load one read serves every request that came in
  during the previous one.

A hit needs no database session of its own; only a miss opens one, to build the body in one
snapshot with the revision it belongs to.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from api import listener
from domain.catalog.revision import read_revision

# Lists and details alike: a minute fresh, then served stale for ten while revalidating, which
# the app does with If-None-Match (a 304 costs almost nothing).
CATALOG_CACHE_CONTROL = "public, max-age=60, stale-while-revalidate=600"

log = logging.getLogger("homeplans.api.caching")

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the ETag sent in If-None-Match is still current"}
}


@dataclass(frozen=True, slots=True)
class Cached:
    """One response body, with the raw headers of its 200 and of its 304."""

    body: bytes
    etag: str
    headers_200: list[tuple[bytes, bytes]]
    headers_304: list[tuple[bytes, bytes]]

    @classmethod
    def of(cls, body: bytes, *, cache_control: str) -> Cached:
        etag = etag_of(body)
        common = [(b"etag", etag.encode()), (b"cache-control", cache_control.encode())]
        return cls(
            body=body,
            etag=etag,
            headers_200=[
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *common,
            ],
            headers_304=common,
        )


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


CATALOG_CHANNEL = "catalog_changed"  # notified by the trigger on catalog_state (migration)
LISTENER_NAME = "homeplans-api catalog listener"  # in pg_stat_activity


class CatalogCache:
    """Catalog bodies and the revision they belong to, for one API process (`app.state.catalog`).

    `listen(conninfo)` runs for the life of the process (started by the app's lifespan); without
    it, or while it is reconnecting, every request confirms the revision with a shared read.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.bodies = BodyCache()  # by what the route asks for (its validated parameters)
        # By exact request target, for `CatalogFastPath`: kept apart, so that many spellings of one
        # query (or unknown parameters, which the routes ignore) cannot push bodies out.
        self.targets = BodyCache(max_entries=1024)
        self.listening = False
        self._known: str | None = None  # trusted revision; only ever set while listening
        self._generation = 0  # bumped by every invalidation

        async def read() -> str:
            async with sessions() as db:
                return await read_revision(db)

        self._reads = RevisionReads(read)
        self._listener: asyncio.Task[None] | None = None

    def start(self, conninfo: str) -> None:
        """Start `listen(conninfo)` in the background (the app's lifespan does, at startup)."""
        self._listener = asyncio.create_task(self.listen(conninfo), name="catalog-listener")

    async def stop(self) -> None:
        """Stop listening; from then on every request checks the revision."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    def invalidate(self) -> None:
        """The catalog may have changed: the next request reads the revision again."""
        self._known = None
        self._generation += 1

    async def revision(self) -> str:
        if self._known is not None:
            return self._known
        generation = self._generation
        revision = await self._reads.current()
        # Trusted from now on only if no change was announced while it was being read (that read
        # may have run before the change committed) and a listener will announce the next one.
        if self.listening and generation == self._generation:
            self._known = revision
        return revision

    async def listen(self, conninfo: str) -> None:
        """LISTEN for catalog changes until cancelled, reconnecting with backoff. Each notification
        invalidates; so does every (re)connection, since changes may have been missed meanwhile."""
        await listener.listen(
            conninfo,
            channel=CATALOG_CHANNEL,
            application_name=LISTENER_NAME,
            on_notify=lambda _payload: self.invalidate(),
            on_state=self._listening,
            meanwhile="checking the revision on every request",
        )

    def _listening(self, up: bool) -> None:
        self.listening = up
        self.invalidate()

    async def answer(
        self,
        request: Request,
        *,
        key: Hashable,
        build: Callable[[AsyncSession], Awaitable[BaseModel]],
        cache_control: str = CATALOG_CACHE_CONTROL,
    ) -> Response:
        """200 with the body (from the cache for the current revision, or built by `build` in a
        new session that reads the revision first, so body and revision are one snapshot), or 304
        if the client's If-None-Match names its ETag. Both carry ETag and Cache-Control."""
        revision = await self.revision()
        entry = self.bodies.get(revision, key)
        if entry is None:
            async with self.sessions() as db:
                revision = await read_revision(db)
                body = (await build(db)).model_dump_json().encode()
            entry = Cached.of(body, cache_control=cache_control)
            self.bodies.put(revision, key, entry)
        # The same answer for the same request target, next time straight from `CatalogFastPath`.
        self.targets.put(revision, _target(request.scope), entry)
        if none_match(request.headers.get("if-none-match"), entry.etag):
            return Response(
                status_code=304, headers={"ETag": entry.etag, "Cache-Control": cache_control}
            )
        return Response(
            content=entry.body,
            media_type="application/json",
            headers={"ETag": entry.etag, "Cache-Control": cache_control},
        )

    def hit(self, scope: Scope) -> Cached | None:
        """The cached answer to this request target, if the revision is known (listening) and the
        route has answered the same target since it became current."""
        known = self._known
        if known is None:
            return None
        return self.targets.get(known, _target(scope))


def _target(scope: Scope) -> tuple[str, str, bytes]:
    """A cache key for a request target: the exact path and query string."""
    return ("target", scope["path"], scope["query_string"])


class CatalogFastPath:
    """ASGI middleware: a GET of a public catalog URL the app has already answered for the current
    revision is answered from `CatalogCache` right here, byte for byte what the route would send
    (200, or 304 for a matching If-None-Match), without routing, parameter parsing or the rest of
    the middleware stack. Anything else, including every first request of a URL (which the route
    validates), goes on to the app. Like a reverse-proxy cache in front of the route, but one that
    learns of catalog changes the moment they commit."""

    def __init__(self, app: ASGIApp, *, prefix: str) -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"].startswith(self.prefix)
        ):
            cache: CatalogCache = scope["app"].state.catalog  # set by Starlette, then lifespan
            entry = cache.hit(scope)
            if entry is not None:
                await _send_cached(entry, scope, send)
                return
        await self.app(scope, receive, send)


async def _send_cached(entry: Cached, scope: Scope, send: Send) -> None:
    if_none_match: str | None = None
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            if_none_match = value.decode("latin-1")
            break
    if none_match(if_none_match, entry.etag):
        await send({"type": "http.response.start", "status": 304, "headers": entry.headers_304})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200, "headers": entry.headers_200})
    await send({"type": "http.response.body", "body": entry.body})


def catalog_cache(request: Request) -> CatalogCache:
    cache: CatalogCache = request.app.state.catalog
    return cache


def catalog_changed(request: Request) -> None:
    """Call after committing a catalog change: this process answers with it from now on (other
    processes learn it from the notification the commit sent)."""
    catalog_cache(request).invalidate()


async def conditional(
    request: Request,
    *,
    key: Hashable,
    build: Callable[[AsyncSession], Awaitable[BaseModel]],
    cache_control: str = CATALOG_CACHE_CONTROL,
) -> Response:
    """`CatalogCache.answer` of this app's cache."""
    return await catalog_cache(request).answer(
        request, key=key, build=build, cache_control=cache_control
    )
