"""The unsubscribe link of every promotional email: works without signing in, once.

`GET` shows what the link will turn off and a button (mail scanners and link previews open links;
they must not unsubscribe anyone); `POST` turns it off. Mail clients' one-click unsubscribe
(RFC 8058: `List-Unsubscribe-Post: List-Unsubscribe=One-Click`) posts to the same URL, as a form
the route does not read (it declares no body, so no type is refused).

The answers are pages for a person, every error included (a malformed token is a 400 page, like
one we did not sign): a browser, or a mail client that names no preference, gets them. A client
that asks for JSON (`Accept: application/json`) gets its errors as problem+json, as everywhere
else in the API (see `api.errors`).
"""

from __future__ import annotations

from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from api.deps import SessionDep, SettingsDep
from api.problems import error_pages
from domain.notifications import unsubscribe
from domain.notifications.kinds import TOPICS

router = APIRouter(prefix="/unsubscribe", tags=["notifications"])

Token = Annotated[
    str,
    Query(
        min_length=20, max_length=1000, pattern=r"^[A-Za-z0-9_\-\.]+$", description="From the email"
    ),
]
ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}},
    # The pages as well as problem+json: `api.problems` declares both for every error status.
    400: {"description": "Not a link we sent (to a person, a malformed one too)"},
    410: {"description": "Used already, or expired"},
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


def _refused(status: int, detail: str | None) -> HTMLResponse:
    """The page for an error; `detail` None for a token that is not even well formed."""
    title = "Please try again shortly" if status >= 500 else "This link does not work"
    said = detail or "this is not a link we sent; copy the whole link from the email"
    return _page(title, f"<p>{escape(said[:1].upper() + said[1:])}.</p>", status=status)


@router.get("", response_class=HTMLResponse, responses=ANSWERS)
@error_pages(_refused)
async def confirm(token: Token, settings: SettingsDep) -> HTMLResponse:
    """What the link turns off, with the button that does it."""
    _, what = unsubscribe.read(settings, token)
    label = TOPICS[what.topic].label.lower() if what.topic in TOPICS else what.topic.value
    return _page(
        "Unsubscribe",
        f"<p>Stop getting {escape(label)} by {escape(what.channel.value)}?</p>"
        f'<form method=post action="?token={escape(token)}">'
        '<button type=submit name="List-Unsubscribe" value="One-Click">Unsubscribe</button>'
        "</form>",
    )


@router.post("", response_class=HTMLResponse, responses=ANSWERS)
@error_pages(_refused)
async def confirmed(token: Token, db: SessionDep, settings: SettingsDep) -> HTMLResponse:
    """Turn off what the link names (once)."""
    what = await unsubscribe.use(db, settings, token)  # refused: the session rolls back on close
    await db.commit()
    label = TOPICS[what.topic].label.lower() if what.topic in TOPICS else what.topic.value
    return _page(
        "You are unsubscribed",
        f"<p>You will not get {escape(label)} by {escape(what.channel.value)} any more. "
        "You can turn them on again in the app's settings.</p>",
    )
