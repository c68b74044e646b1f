"""Staff: the dashboard's figures, once (`GET /admin/dashboard`) or live
(`GET /admin/dashboard/events`, server-sent events).

The stream, in order: `retry: 3000`; `event: dashboard` with the figures as they are now (the
same JSON as `GET /admin/dashboard`); then `event: dashboard` again whenever they change (a
purchase, a refund, a new subscription, a new user, a request's status or SLA flag), within about
a second of the change's commit; `: keep-alive` every 15 s meanwhile. It ends with
`event: reauth` when the access token expires or its session ends (refresh, then reconnect), and
when the process stops (reconnect). The token comes in the Authorization header (a fetch-based
SSE client), never in the URL. At most MAX_DASHBOARD_STREAMS_PER_USER at once per API process.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import SQLAlchemyError

from api.dashboard_hub import DashboardHub, Figures, Viewer
from api.deps import Principal, PrincipalDep, SessionDep, SettingsDep, StaffUser
from api.streams import EventStream, Reauth, event_stream_content
from core.db import utcnow
from domain.accounts import service as accounts
from domain.accounts.models import Role
from domain.reports import dashboard
from domain.reports.schemas import Dashboard

router = APIRouter(prefix="/admin/dashboard", tags=["admin: dashboard"])

RETRY_MS = 3000
HEARTBEAT_S = 15.0
KEEP_ALIVE = b": keep-alive\n\n"
STAFF = (Role.admin.value, Role.support.value)

STREAM_EXAMPLE = (
    "retry: 3000\n\n"
    'event: dashboard\ndata: {"as_of": "…", "time_zone": "Asia/Kolkata", "currency": "INR", '
    '"sales": {"today": {"count": 3, "amount": {"amount_minor": 449700, "currency": "INR", '
    '"minor_units": 2}, …}, …}, "active_subscriptions": 120, …}\n\n'
    ": keep-alive\n\n"
)


@router.get("", response_model=Dashboard)
async def read_dashboard(_staff: StaffUser, db: SessionDep, settings: SettingsDep) -> Dashboard:
    """Today's and this month's sales, active subscriptions, new users, open / escalated /
    overdue requests, and the last 30 days by day (business days in DEFAULT_TIME_ZONE)."""
    return await dashboard.compute(
        db,
        now=utcnow(),
        time_zone=settings.default_time_zone,
        currency=settings.reports_currency,
    )


@router.get(
    "/events",
    response_class=EventStream,
    status_code=200,
    responses={
        200: {
            "description": (
                "The live dashboard: `dashboard` (the figures of GET /admin/dashboard) first, "
                "then again at each change; `reauth` when the access token expires"
            ),
            "content": event_stream_content(
                {"dashboard": Dashboard, "reauth": Reauth}, STREAM_EXAMPLE
            ),
        },
        429: {
            "description": (
                "This user already has as many live dashboards open as allowed; `Retry-After` "
                "says when to try again (or close one)"
            )
        },
    },
)
async def follow_dashboard(
    _staff: StaffUser, principal: PrincipalDep, db: SessionDep, request: Request
) -> Response:
    """Follow the dashboard live (server-sent events). See the stream's format in the response."""
    await db.close()  # the stream reads in short sessions of its own
    hub: DashboardHub = request.app.state.dashboard
    viewer = hub.open(principal.user.id)
    try:
        first = Figures.of(await hub.compute())
    except BaseException:
        viewer.close()
        raise
    events = dashboard_events(hub, viewer, principal=principal, first=first)
    return EventStream(events, on_disconnect=viewer.hang_up, on_close=viewer.close)


def _event(name: str, data: str) -> bytes:
    return f"event: {name}\ndata: {data}\n\n".encode()


async def dashboard_events(
    hub: DashboardHub, viewer: Viewer, *, principal: Principal, first: Figures
) -> AsyncGenerator[bytes, None]:
    loop = asyncio.get_running_loop()
    user_id, session_id = principal.user.id, principal.session.id
    expires = loop.time() + (principal.expires_at - datetime.now(UTC)).total_seconds()
    yield f"retry: {RETRY_MS}\n\n".encode()
    yield _event("dashboard", first.json)
    sent = first.same_as
    heartbeat = loop.time() + HEARTBEAT_S
    try:
        while not viewer.gone:
            now = loop.time()
            if now >= expires:
                yield _event("reauth", json.dumps({"reason": "the access token expired"}))
                return
            if now >= heartbeat:
                if not await _still_staff(hub, user_id, session_id):
                    yield _event("reauth", json.dumps({"reason": "the session has ended"}))
                    return
                yield KEEP_ALIVE
                heartbeat = now + HEARTBEAT_S
            await viewer.wait(within=min(heartbeat, expires) - now)
            latest = hub.latest
            if viewer.gone or latest is None or latest.same_as == sent:
                continue
            yield _event("dashboard", latest.json)
            sent = latest.same_as
    except (SQLAlchemyError, OSError):
        return  # the client reconnects; nothing is lost by ending here


async def _still_staff(hub: DashboardHub, user_id: uuid.UUID, session_id: uuid.UUID) -> bool:
    """Whether the session is still open and its user still staff."""
    async with hub.sessions() as db:
        found = await accounts.load_principal(db, user_id=user_id, session_id=session_id)
    return found is not None and found[0].role in STAFF
