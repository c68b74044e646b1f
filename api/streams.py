"""Live streams of service requests (server-sent events): one PostgreSQL listener per API process,
fanned out to the streams that follow each request.

A trigger announces every new timeline entry (`NOTIFY service_request_events, '<request> <id>'`,
delivered at commit). `RequestEventHub` holds one `LISTEN` on its own connection (not one of the
pool's) for the life of the process, like the catalog cache's listener (`api.caching`), and hands
each announced id to the streams of that request, each through a bounded queue of its own:

- A stream reads the entries themselves from the database, by position (everything after the last
  id it sent), so a queue only has to say "something new": a stream whose client is slow fills its
  own queue and loses only announcements, which its next read by position covers; nobody else
  waits for it.
- While the listener is not connected (starting, or reconnecting with backoff after losing its
  connection), streams read the table every second instead; each connection and each loss wakes
  every stream to read once, since announcements may have been missed meanwhile.

`EventStream` is the response that carries one stream: it notices a client that goes away at once,
ends the stream without interrupting a database read, and frees the stream's place
(`max_streams_per_user`) however it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncGenerator, Callable
from types import FrameType
from typing import Any

import anyio
from pydantic import BaseModel
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from api import listener
from core.errors import TooManyRequests, Unavailable

log = logging.getLogger("homeplans.api.streams")

CHANNEL = "service_request_events"  # notified by the trigger on service_request_events
QUEUE_SIZE = 32  # announcements a stream may have pending; beyond, it reads by position anyway
POLL_S = 1.0  # how often streams read the table while the listener is down
LISTENER_NAME = "homeplans-api request events listener"  # in pg_stat_activity
# Retry-After for a user at their limit: streams last long, so none is likely to end much sooner.
LIMIT_RETRY_AFTER_S = 30
RESYNC = -1  # an announcement that may stand for any number of missed ones
HANG_UP_GRACE_S = 5.0  # a stream whose client left ends by itself within this, or is cancelled


class Subscription:
    """One stream's place in the hub: the announcements for its request, until `close()`."""

    def __init__(self, hub: RequestEventHub, request_id: uuid.UUID, user_id: uuid.UUID) -> None:
        self.hub = hub
        self.request_id = request_id
        self.user_id = user_id
        self._queue: asyncio.Queue[int] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._held: int | None = None  # taken from the queue by `wait`, not yet by `news_after`
        self._missed = False
        self._closed = False
        self.gone = False  # its client went away: the stream ends at its next step

    def announce(self, event_id: int) -> None:
        """Never blocks: a full queue only means this stream will read by position."""
        try:
            self._queue.put_nowait(event_id)
        except asyncio.QueueFull:
            self._missed = True

    def hang_up(self) -> None:
        self.gone = True
        self.announce(RESYNC)

    async def wait(self, *, within: float) -> bool:
        """True once something was announced (or the client went away); False after `within`
        seconds of nothing."""
        if self._held is None and self._queue.empty() and not self._missed:
            try:
                async with asyncio.timeout(max(within, 0.0)):
                    self._held = await self._queue.get()
            except TimeoutError:
                return False
        return True

    def news_after(self, position: int) -> bool:
        """Take every pending announcement: whether any may be after `position` (the entries an
        earlier read by position already sent are announced too, later)."""
        news = self._missed
        self._missed = False
        pending = [] if self._held is None else [self._held]
        self._held = None
        while not self._queue.empty():
            pending.append(self._queue.get_nowait())
        return news or any(event_id == RESYNC or event_id > position for event_id in pending)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.hub._remove(self)


class RequestEventHub:
    """Every live stream of this API process (`app.state.streams`) and the listener that wakes
    them. `start(conninfo)` runs the listener in the background (the app's lifespan does)."""

    def __init__(self, *, max_per_user: int) -> None:
        self.max_per_user = max_per_user
        self.listening = False
        self.draining = False  # the process is stopping: no new streams, the open ones ended
        self._by_request: defaultdict[uuid.UUID, set[Subscription]] = defaultdict(set)
        self._per_user: Counter[uuid.UUID] = Counter()
        self._listener: asyncio.Task[None] | None = None

    @property
    def open_streams(self) -> int:
        return self._per_user.total()

    def open(self, request_id: uuid.UUID, user_id: uuid.UUID) -> Subscription:
        """A place for one more stream of this user, or TooManyRequests at their limit. Counted
        per process: behind a load balancer a user may hold this many on each replica."""
        if self.draining:
            raise Unavailable(
                "this API process is stopping; reconnect (to another one)",
                headers={"Retry-After": "1"},
            )
        if self._per_user[user_id] >= self.max_per_user:
            raise TooManyRequests(
                f"at most {self.max_per_user} live streams at once; close one first",
                retry_after=LIMIT_RETRY_AFTER_S,
            )
        subscription = Subscription(self, request_id, user_id)
        self._per_user[user_id] += 1
        self._by_request[request_id].add(subscription)
        return subscription

    def _remove(self, subscription: Subscription) -> None:
        followers = self._by_request.get(subscription.request_id)
        if followers is not None:
            followers.discard(subscription)
            if not followers:
                del self._by_request[subscription.request_id]
        self._per_user[subscription.user_id] -= 1
        if self._per_user[subscription.user_id] <= 0:
            del self._per_user[subscription.user_id]

    def publish(self, request_id: uuid.UUID, event_id: int) -> None:
        for subscription in self._by_request.get(request_id, ()):
            subscription.announce(event_id)

    def _wake_all(self) -> None:
        for followers in self._by_request.values():
            for subscription in followers:
                subscription.announce(RESYNC)

    def drain(self) -> None:
        """End every open stream (at its next step) and open no more: the process is stopping."""
        self.draining = True
        for followers in self._by_request.values():
            for subscription in followers:
                subscription.hang_up()

    def drain_on_stop_signals(self) -> Callable[[], None]:
        """Drain as soon as the process is told to stop (SIGINT, SIGTERM); returns what undoes it.

        A server stopping gracefully waits for the responses still running, and a live stream
        never ends by itself: uvicorn would wait out `--timeout-graceful-shutdown`, then cancel
        each stream (logging each one as an error). Ended at the signal instead, the streams close
        at once and their clients reconnect (with Last-Event-ID) to a process that is running.
        The server's own handler still runs after ours. Only in the main thread (where signal
        handlers live) and over a handler written in Python (uvicorn's), never over a default."""
        return drain_on_stop_signals(self.drain)

    def start(self, conninfo: str) -> None:
        self._listener = asyncio.create_task(self.listen(conninfo), name="request-events-listener")

    async def stop(self) -> None:
        """Stop listening; streams still open read the table every second from then on."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None

    async def listen(self, conninfo: str) -> None:
        """LISTEN until cancelled, reconnecting with backoff."""
        await listener.listen(
            conninfo,
            channel=CHANNEL,
            application_name=LISTENER_NAME,
            on_notify=self._dispatch,
            on_state=self._listening,
            meanwhile=f"live streams read the table every {POLL_S:.0f} s",
        )

    def _listening(self, up: bool) -> None:
        self.listening = up
        self._wake_all()

    def _dispatch(self, payload: str) -> None:
        try:
            request, event = payload.split(" ")
            request_id, event_id = uuid.UUID(request), int(event)
        except ValueError:
            log.warning("request event listener: ignored a payload it cannot read: %r", payload)
            return
        self.publish(request_id, event_id)


def drain_on_stop_signals(drain: Callable[[], None]) -> Callable[[], None]:
    """Call `drain` as soon as the process is told to stop (SIGINT, SIGTERM), in the running
    loop; returns what undoes it. See `RequestEventHub.drain_on_stop_signals`; the dashboard's
    streams drain the same way."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    ours: dict[int, Any] = {}
    previous: dict[int, Any] = {}

    def stopping() -> None:
        with contextlib.suppress(RuntimeError):  # the loop has already closed
            loop.call_soon_threadsafe(drain)

    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(sig)
        if not callable(handler):
            continue

        def chained(signum: int, frame: FrameType | None, handler: Any = handler) -> None:
            stopping()
            handler(signum, frame)

        previous[sig], ours[sig] = handler, chained
        signal.signal(sig, chained)

    def restore() -> None:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is ours[sig]:  # unless someone replaced ours since
                signal.signal(sig, handler)

    return restore


class Reauth(BaseModel):
    """The `data` of a stream's `reauth` event: sign in again (refresh), then reconnect."""

    reason: str


def event_stream_content(events: dict[str, type[BaseModel]], example: str) -> dict[str, Any]:
    """The `text/event-stream` content of a stream's 200. Its schema is one event (what an
    OpenAPI 3.1 document's stream schema describes, and schemathesis checks each event
    against): its name, its `id:` when it has one, and its `data`, JSON of the model the event's
    name says. The models are written out in full, so the document needs no component for them."""
    return {
        "text/event-stream": {
            "schema": {
                "oneOf": [
                    {
                        "type": "object",
                        "required": ["event", "data"],
                        "properties": {
                            "event": {"const": name},
                            "id": {"type": "string", "pattern": "^[0-9]+$"},
                            "retry": {"type": "integer", "minimum": 0},
                            "data": {
                                "type": "string",
                                "contentMediaType": "application/json",
                                "contentSchema": _inlined(model.model_json_schema()),
                            },
                        },
                    }
                    for name, model in events.items()
                ]
            },
            "example": example,
        }
    }


def _inlined(schema: Any, defs: dict[str, Any] | None = None) -> Any:
    """`schema` with its `#/$defs/...` references replaced by what they name."""
    if isinstance(schema, dict):
        defs = {**(defs or {}), **schema.get("$defs", {})}
        reference = schema.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            return _inlined(defs[reference.removeprefix("#/$defs/")], defs)
        return {k: _inlined(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inlined(item, defs) for item in schema]
    return schema


class EventStream(Response):
    """A `text/event-stream` answer of the chunks `events` yields, for as long as the client stays.

    A gone client is only ever told by the disconnect message (uvicorn drops writes to it
    silently; ASGI 2.4 servers raise on the next write, which may be a heartbeat away), so this
    response watches for it, like Starlette's `StreamingResponse`, but hangs up instead of
    cancelling at once: `on_disconnect` wakes the stream, which ends at its next step. A cancelled
    database read would make psycopg close that pooled connection; only a stream that does not end
    within `HANG_UP_GRACE_S` (a read stuck on an unreachable database) is cancelled. `on_close`
    runs however the stream ends, so its place is always given back."""

    media_type = "text/event-stream"

    def __init__(
        self,
        events: AsyncGenerator[bytes, None],
        *,
        on_disconnect: Callable[[], None],
        on_close: Callable[[], None],
    ) -> None:
        self.events = events
        self.on_disconnect = on_disconnect
        self.on_close = on_close
        self.status_code = 200
        self.background = None
        # no-store: a live answer is never reused; X-Accel-Buffering: nginx (the compose proxy,
        # which turns buffering off for the streams too) would otherwise hold events back.
        self.init_headers({"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def until_disconnected() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    self.on_disconnect()
                    await anyio.sleep(HANG_UP_GRACE_S)
                    group.cancel_scope.cancel()

                group.start_soon(until_disconnected)
                await send(
                    {"type": "http.response.start", "status": 200, "headers": self.raw_headers}
                )
                async for chunk in self.events:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                group.cancel_scope.cancel()
        except OSError:
            pass  # an ASGI 2.4 server: the client went away mid-write
        finally:
            try:
                await self.events.aclose()
            finally:
                self.on_close()
