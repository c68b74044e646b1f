"""`GET /service-requests/{id}/events`: the app follows one service request live, as server-sent
events (`text/event-stream`).

The stream, in order:

- `retry: 3000`: how long a client waits before it reconnects;
- `event: state` with `id:` the newest timeline id of the request (0 if none) and `data:` the
  request as it is now (`LiveState`: status, technician, window, escalated, overdue, updated_at);
- `event: change` for every new timeline entry, in id order, `id:` its id and `data:` the entry
  (`LiveChange`: at, kind, from_status, to_status, note, and who acted, named for the viewer);
- `: keep-alive` comments every 15 s while nothing happens (proxies close quiet connections);
- the end: the server closes the stream after the change into completed or cancelled (a request
  already ended: after its state), or after `event: reauth` when the access token expires or its
  session ended (sign in or refresh, then reconnect with `Last-Event-ID`), or when the viewer may
  no longer follow it (a technician reassigned: reconnecting is then a 404).

`Last-Event-ID` (the header EventSource sends when it reconnects) resumes: every change after that
id from the database, then live, with no `state` first (the client has one; the changes bring it
up to date). Ids are global and increasing, so any id is a position, whichever request it was of.
Resuming a request whose end the client has already seen is `204 No Content`, which tells an
EventSource to stop reconnecting.

Who may follow: the request's customer, staff (support or admin), the technician assigned to it;
for anyone else it is a 404, exactly like a missing request, before anything is streamed.

The access token comes in the Authorization header only, never as a query parameter: a URL ends up
in access logs (ours, a proxy's, the load balancer's), in browser history and in Referer headers,
where a token would outlive the stream. The mobile app sends the header; a browser does too with a
fetch-based SSE client (the admin UI), only the built-in EventSource cannot. Should a browser page
ever need EventSource itself, the way is a short-lived, single-use stream ticket made by an
authenticated POST, not the access token in the URL.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.deps import Principal, PrincipalDep, SessionDep
from api.problems import problems
from api.streams import (
    POLL_S,
    EventStream,
    Reauth,
    RequestEventHub,
    Subscription,
    event_stream_content,
)
from core.errors import NotFound
from domain.accounts import service as accounts
from domain.service_requests import live

router = APIRouter(prefix="/service-requests", tags=["service requests"])
log = logging.getLogger("homeplans.api.request_events")

RETRY_MS = 3000
HEARTBEAT_S = 15.0
MAX_EVENT_ID = 2**63 - 1  # the column is a bigint
KEEP_ALIVE = b": keep-alive\n\n"
READ_BATCH = 200  # timeline entries read at once (a stream resumed from long ago reads in steps)

LastEventId = Annotated[
    int | None,
    Header(
        alias="Last-Event-ID",
        ge=0,
        le=MAX_EVENT_ID,
        description="The `id:` of the last event received: resume after it",
    ),
]

STREAM_EXAMPLE = (
    "retry: 3000\n\n"
    "event: state\nid: 41\n"
    'data: {"request_id": "…", "status": "assigned", "technician": {"id": "…", "name": "Ravi"}, '
    '"window": {"start": "…", "end": "…"}, "escalated": false, "overdue": false, '
    '"updated_at": "…"}\n\n'
    ": keep-alive\n\n"
    "event: change\nid: 57\n"
    'data: {"id": 57, "at": "…", "kind": "started", "from_status": "assigned", '
    '"to_status": "in_progress", "note": null, '
    '"actor": {"role": "technician", "name": "Ravi Kumar"}}\n\n'
)


@router.get(
    "/{request_id}/events",
    response_class=EventStream,
    status_code=200,
    responses={
        200: {
            "description": (
                "The live stream: `state` first (resuming after `Last-Event-ID`: the changes "
                "missed instead), then one `change` per timeline entry; it ends after the change "
                "to completed or cancelled, or with `reauth` when the access token expires"
            ),
            "content": event_stream_content(
                {"state": live.LiveState, "change": live.LiveChange, "reauth": Reauth},
                STREAM_EXAMPLE,
            ),
        },
        204: {
            "description": (
                "Resuming after the end: the request is completed or cancelled and the client "
                "has had that change (an EventSource stops reconnecting)"
            )
        },
        **problems(404),
        429: {
            "description": (
                "This user already has as many live streams open as allowed; `Retry-After` says "
                "when to try again (or close one)"
            )
        },
    },
)
async def follow_request(
    request_id: uuid.UUID,
    principal: PrincipalDep,
    db: SessionDep,
    request: Request,
    last_event_id: LastEventId = None,
) -> Response:
    """Follow one service request live (server-sent events), as its customer, staff, or the
    technician assigned to it. See the stream's format in the response."""
    followed = await live.follow(db, request_id=request_id, user=principal.user)
    if followed is None:
        raise NotFound("service request not found")
    # A position the timeline never reached (a client's invention, a database restored from an
    # older backup) could only skip what comes before it: start afresh instead.
    resume = last_event_id if (last_event_id or 0) <= followed.newest_event_id else None
    if (
        resume is not None
        and followed.ended
        and not await live.ends_after(db, request_id=request_id, after=resume)
    ):
        return Response(status_code=204)
    # The stream reads in short sessions of its own: this one's connection goes back to the pool
    # now, not when the stream ends.
    await db.close()
    hub: RequestEventHub = request.app.state.streams
    subscription = hub.open(request_id, principal.user.id)
    events = stream_events(
        sessions=request.app.state.sessions,
        hub=hub,
        subscription=subscription,
        principal=principal,
        followed=followed,
        resume=resume,
    )
    return EventStream(events, on_disconnect=subscription.hang_up, on_close=subscription.close)


def _event(name: str, data: str, *, id: int | None = None) -> bytes:
    lines = [f"event: {name}"]
    if id is not None:
        lines.append(f"id: {id}")
    # JSON from pydantic or json.dumps is a single line: one `data:` line is the whole payload.
    lines.append(f"data: {data}")
    return ("\n".join(lines) + "\n\n").encode()


def _reauth(reason: str) -> bytes:
    return _event("reauth", json.dumps({"reason": reason}))


async def stream_events(
    *,
    sessions: async_sessionmaker[AsyncSession],
    hub: RequestEventHub,
    subscription: Subscription,
    principal: Principal,
    followed: live.Followed,
    resume: int | None,
) -> AsyncGenerator[bytes, None]:
    loop = asyncio.get_running_loop()
    request_id = followed.state.request_id
    user_id, session_id, role = principal.user.id, principal.session.id, principal.user.role
    # Only a technician's access changes while they watch (a reassignment): theirs is checked
    # again with every change, before it is sent.
    recheck = role not in live.STAFF_ROLES and user_id != followed.customer_id
    viewer = live.audience(role, user_id, followed.customer_id)
    expires = loop.time() + (principal.expires_at - datetime.now(UTC)).total_seconds()

    yield f"retry: {RETRY_MS}\n\n".encode()
    if resume is None:
        position = followed.last_event_id
        yield _event("state", followed.state.model_dump_json(), id=position)
        if followed.ended:
            return
    else:
        position = resume
    heartbeat = loop.time() + HEARTBEAT_S
    # Read once before waiting: what committed before this stream joined the hub was announced to
    # nobody.
    news = True
    try:
        while not subscription.gone:
            if news:
                async with sessions() as db:
                    changes = await live.changes_after(
                        db,
                        request_id=request_id,
                        after=position,
                        viewer=viewer,
                        customer_id=followed.customer_id,
                        limit=READ_BATCH,
                    )
                    allowed = not (changes and recheck) or await live.may_follow(
                        db, request_id=request_id, user_id=user_id, role=role
                    )
                if not allowed:
                    return
                for change in changes:
                    yield _event("change", change.model_dump_json(), id=change.id)
                    position = change.id
                    if change.ends:
                        return
                if changes:
                    heartbeat = loop.time() + HEARTBEAT_S
                news = len(changes) == READ_BATCH  # a full read: there may be more
                if news:
                    continue
            now = loop.time()
            if now >= expires:
                yield _reauth("the access token expired")
                return
            if now >= heartbeat:
                follows = await still_follows(sessions, request_id, user_id, session_id)
                if follows is None:
                    yield _reauth("the session has ended")
                    return
                if not follows:
                    return
                yield KEEP_ALIVE
                heartbeat = now + HEARTBEAT_S
            timeout = min(heartbeat, expires) - now
            if not hub.listening:
                timeout = min(timeout, POLL_S)
            if await subscription.wait(within=timeout):
                news = subscription.news_after(position)
            else:
                news = not hub.listening
    except (SQLAlchemyError, OSError) as exc:
        # The client reconnects with the last id it had; nothing is lost by ending here.
        log.warning("live stream of service request %s ended: %s", request_id, exc)


async def still_follows(
    sessions: async_sessionmaker[AsyncSession],
    request_id: uuid.UUID,
    user_id: uuid.UUID,
    session_id: uuid.UUID,
) -> bool | None:
    """None when the session has ended (signed out, revoked, account disabled); otherwise whether
    the user, with their role as it is now, may still follow the request."""
    async with sessions() as db:
        found = await accounts.load_principal(db, user_id=user_id, session_id=session_id)
        if found is None:
            return None
        return await live.may_follow(db, request_id=request_id, user_id=user_id, role=found[0].role)
