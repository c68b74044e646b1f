"""The unsubscribe link of every promotional email: works without signing in, once.

`GET` shows what the link will turn off and a button (mail scanners and link previews open links;
they must not unsubscribe anyone); `POST` turns it off. Mail clients' one-click unsubscribe
(RFC 8058: `List-Unsubscribe-Post: List-Unsubscribe=One-Click`) posts to the same URL. The
answers are pages for a person, errors included.
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, SettingsDep
from core.errors import DomainError
from domain.notifications import unsubscribe
from domain.notifications.kinds import TOPICS

router = APIRouter(prefix="/unsubscribe", tags=["notifications"])

Token = Annotated[
    str,
    Query(
        min_length=20, max_length=1000, pattern=r"^[A-Za-z0-9_\-\.]+$", description="From the email"
    ),
]
HTML_ONLY: dict[str, Any] = {"content": {"text/html": {"schema": {"type": "string"}}}}
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: HTML_ONLY,
    400: {**HTML_ONLY, "description": "Not a link we sent"},
    410: {**HTML_ONLY, "description": "Used already, or expired"},
}


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">'
        f"<h1>{escape(title)}</h1>{body}</body></html>",
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _refused(error: DomainError) -> HTMLResponse:
    return _page("This link does not work", f"<p>{escape(error.detail)}.</p>", status=error.status)


@router.get("", response_class=HTMLResponse, responses=ANSWERS)
async def confirm(token: Token, settings: SettingsDep) -> HTMLResponse:
    """What the link turns off, with the button that does it."""
    try:
        _, what = unsubscribe.read(settings, token)
    except DomainError as e:
        return _refused(e)
    label = TOPICS[what.topic].label.lower() if what.topic in TOPICS else what.topic.value
    return _page(
        "Unsubscribe",
        f"<p>Stop getting {escape(label)} by {escape(what.channel.value)}?</p>"
        f'<form method=post action="?token={escape(token)}">'
        '<button type=submit name="List-Unsubscribe" value="One-Click">Unsubscribe</button>'
        "</form>",
    )


@router.post("", response_class=HTMLResponse, responses=ANSWERS)
async def confirmed(token: Token, db: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """Turn off what the link names (once)."""
    try:
        what = await unsubscribe.use(db, settings, token)
    except DomainError as e:
        await db.rollback()
        return _refused(e)
    await db.commit()
    label = TOPICS[what.topic].label.lower() if what.topic in TOPICS else what.topic.value
    return _page(
        "You are unsubscribed",
        f"<p>You will not get {escape(label)} by {escape(what.channel.value)} any more. "
        "You can turn them on again in the app's settings.</p>",
    )
