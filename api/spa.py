"""The web apps' builds, served by the API: the admin panel at /admin (`admin_ui/dist`) and the
customer app at /app (`customer_app/dist`).

- `<mount>/assets/*` are Vite's content-hashed files: cached for good (`immutable`); a missing
  one is a 404 (never the page, which a browser would try to run as a script).
- A file the build precompressed (`x.js.br`, `x.js.gz` beside `x.js`) is sent in that encoding
  to a browser that accepts it (`Content-Encoding`, `Vary: Accept-Encoding`), so a page costs its
  compressed bytes without compressing on every request.
- Every other path under the mount that is not a file of the build is a route of the app: the
  answer is `index.html`, never cached (`no-cache`: revalidated, so a deploy reaches every
  browser at once); so are the service worker and the web app manifest.
- Each answer carries a strict Content-Security-Policy: scripts, connections, fonts and images
  from this origin only (`connect-src 'self'`: the app talks to this API and nothing else), plus
  the payment and sign-in providers an app is configured with. Styles allow inline ones as well,
  since component libraries set style attributes; scripts stay 'self' only.
- No build (a fresh clone without npm): a 503 page that says how to build it.

Being same-origin with the API is what lets an app's refresh cookie be SameSite=Strict and the API
answer without CORS (see api.cookie_sessions).
"""

from __future__ import annotations

import html
import mimetypes
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

ROOT = Path(__file__).resolve().parent.parent

# The manifest's own type (the default table does not know .webmanifest).
mimetypes.add_type("application/manifest+json", ".webmanifest")

BASE_POLICY: Mapping[str, Sequence[str]] = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'", "'unsafe-inline'"),
    "img-src": ("'self'", "data:", "blob:"),
    "font-src": ("'self'", "data:"),
    "connect-src": ("'self'",),
    "frame-src": ("'none'",),
    "worker-src": ("'self'",),
    "manifest-src": ("'self'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Encodings the builds precompress, the best first.
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))


def content_security_policy(extra: Mapping[str, Sequence[str]] | None = None) -> str:
    """The policy: this origin only, plus `extra` sources per directive (a provider's script,
    frame or API), which replace a directive's 'none'."""
    merged: dict[str, list[str]] = {k: list(v) for k, v in BASE_POLICY.items()}
    for directive, sources in (extra or {}).items():
        current = [s for s in merged.get(directive, ["'self'"]) if s != "'none'"]
        merged[directive] = current + [s for s in sources if s not in current]
    return "; ".join(f"{k} {' '.join(v)}" for k, v in merged.items())


def dist_dir(configured: str) -> Path:
    """A build folder setting as a path: absolute, or relative to the repository."""
    path = Path(configured)
    return path if path.is_absolute() else ROOT / path


@dataclass(frozen=True)
class Build:
    """Which app a mount serves, to say how to build it when it is missing."""

    title: str  # "admin panel", "customer app"
    folder: str  # "admin_ui", "customer_app"
    policy: Mapping[str, Sequence[str]] = field(default_factory=dict)


def missing_page(build: Build, dist: Path) -> str:
    where = html.escape(str(dist))
    title = html.escape(build.title)
    folder = html.escape(build.folder)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>The {title} is not built</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The {title} has not been built</h1>
<p>There is no build of the {title} in <code>{where}</code>.</p>
<p>Build it (Node 20 and npm are needed): <code>cd {folder} &amp;&amp; npm ci &amp;&amp;
npm run build</code>. <code>make run</code> does this by itself when <code>npm</code> is on the
PATH. Then reload this page.</p>
<p>The API works without it: its documentation is at <a href="/docs">/docs</a>.</p>
</body></html>
"""


class SinglePageApp(StaticFiles):
    """The build in `dist`, with the app's routes falling back to its index page."""

    def __init__(self, dist: Path, build: Build) -> None:
        # check_dir=False: the API starts without a build, and serves one made after it started.
        super().__init__(directory=dist, html=False, check_dir=False)
        self.dist = dist
        self.build = build
        self.headers = {
            "Content-Security-Policy": content_security_policy(build.policy),
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin",
        }

    async def check_config(self) -> None:
        """Nothing to check at the first request: each request looks for the build itself."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=405, headers={"Allow": "GET, HEAD"})
        if not (self.dist / "index.html").is_file():
            return HTMLResponse(
                missing_page(self.build, self.dist),
                status_code=503,
                headers={**self.headers, "Cache-Control": "no-store"},
            )
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
        # Dotfiles (the build's stamp) are not part of the app.
        hidden = any(p.startswith(".") for p in parts)
        is_asset = bool(parts) and parts[0] == "assets"
        if parts and parts != ["index.html"] and not hidden:
            compressed = self._compressed(path, scope)
            if compressed is not None:
                return self._with_headers(compressed, IMMUTABLE if is_asset else REVALIDATE)
            try:
                found = await super().get_response(path, scope)
            except HTTPException as exc:
                if exc.status_code != 404:
                    raise
            else:
                return self._with_headers(found, IMMUTABLE if is_asset else REVALIDATE)
        if is_asset or hidden:
            return self._with_headers(PlainTextResponse("Not Found", status_code=404), "no-store")
        index = self.dist / "index.html"
        page = self.file_response(str(index), index.stat(), scope)
        return self._with_headers(page, REVALIDATE)

    def _compressed(self, path: str, scope: Scope) -> Response | None:
        """The precompressed file of `path` in an encoding the browser accepts, if the build
        made one."""
        accepted = Headers(scope=scope).get("accept-encoding", "")
        tokens = {t.split(";")[0].strip().lower() for t in accepted.split(",")}
        for encoding, suffix in ENCODINGS:
            if encoding not in tokens:
                continue
            full, stat = self.lookup_path(path + suffix)
            original, original_stat = self.lookup_path(path)
            if stat is None or original_stat is None or not os.path.isfile(full):
                continue
            media_type = mimetypes.guess_type(original)[0] or "application/octet-stream"
            response = FileResponse(full, stat_result=stat, media_type=media_type)
            response.headers["Content-Encoding"] = encoding
            return response
        return None

    def _with_headers(self, response: Response, cache_control: str) -> Response:
        response.headers.update(self.headers)
        response.headers["Cache-Control"] = cache_control
        # A file may be sent compressed or not, by what the browser accepts: caches keep both.
        response.headers["Vary"] = "Accept-Encoding"
        return response
