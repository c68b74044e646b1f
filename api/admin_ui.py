"""The admin panel's single-page app, served from its build (`admin_ui/dist`) at /admin.

- `/admin/assets/*` are Vite's content-hashed files: cached for good (`immutable`); a missing
  one is a 404 (never the page, which a browser would try to run as a script).
- Every other path under /admin that is not a file of the build is a route of the app: the
  answer is `index.html`, never cached (`no-cache`: revalidated, so a deploy reaches every
  browser at once).
- Each answer carries a strict Content-Security-Policy: scripts, connections, fonts and images
  from this origin only (`connect-src 'self'`: the app talks to this API and nothing else).
  Styles allow inline ones as well, since the component and chart libraries set style
  attributes and inject their CSS variables at run time; scripts stay 'self' only.
- No build (a fresh clone without npm): a 503 page that says how to build it.

Being same-origin with the API is what lets the app's refresh cookie be SameSite=Strict and the
API answer without CORS (see api.routes.web_auth).
"""

from __future__ import annotations

import html
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

ROOT = Path(__file__).resolve().parent.parent
MOUNT = "/admin"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def dist_dir(configured: str) -> Path:
    """ADMIN_UI_DIST as a path: absolute, or relative to the repository."""
    path = Path(configured)
    return path if path.is_absolute() else ROOT / path


def missing_page(dist: Path) -> str:
    where = html.escape(str(dist))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Admin panel not built</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The admin panel has not been built</h1>
<p>There is no build of the admin panel in <code>{where}</code>.</p>
<p>Build it (Node 20 and npm are needed): <code>cd admin_ui &amp;&amp; npm ci &amp;&amp;
npm run build</code>. <code>make run</code> does this by itself when <code>npm</code> is on the
PATH. Then reload this page.</p>
<p>The API works without it: its documentation is at <a href="/docs">/docs</a>.</p>
</body></html>
"""


class AdminUI(StaticFiles):
    """The build in `dist`, with the app's routes falling back to its index page."""

    def __init__(self, dist: Path) -> None:
        # check_dir=False: the API starts without a build, and serves one made after it started.
        super().__init__(directory=dist, html=False, check_dir=False)
        self.dist = dist

    async def check_config(self) -> None:
        """Nothing to check at the first request: each request looks for the build itself."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=405, headers={"Allow": "GET, HEAD"})
        if not (self.dist / "index.html").is_file():
            return HTMLResponse(
                missing_page(self.dist),
                status_code=503,
                headers={**SECURITY_HEADERS, "Cache-Control": "no-store"},
            )
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
        # Dotfiles (the build's stamp) are not part of the app.
        hidden = any(p.startswith(".") for p in parts)
        is_asset = bool(parts) and parts[0] == "assets"
        if parts and parts != ["index.html"] and not hidden:
            try:
                found = await super().get_response(path, scope)
            except HTTPException as exc:
                if exc.status_code != 404:
                    raise
            else:
                return _with_headers(found, IMMUTABLE if is_asset else REVALIDATE)
        if is_asset or hidden:
            return _with_headers(PlainTextResponse("Not Found", status_code=404), "no-store")
        index = self.dist / "index.html"
        page = self.file_response(str(index), index.stat(), scope)
        return _with_headers(page, REVALIDATE)


def _with_headers(response: Response, cache_control: str) -> Response:
    response.headers.update(SECURITY_HEADERS)
    response.headers["Cache-Control"] = cache_control
    return response
