"""What every answer tells a browser, which other origins may call the API, and who the client is.

- Security headers on every answer, unless the answer set its own (the web apps' pages keep their
  stricter Content-Security-Policy and their Referrer-Policy, `api.spa`):
  `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY` and CSP `frame-ancestors 'none'`
  (no page may frame an answer), `Referrer-Policy: no-referrer`; and
  `Strict-Transport-Security: max-age=HSTS_MAX_AGE_SECONDS` when TLS is on: the request came
  over https (to this server, or to a trusted proxy that says so in `X-Forwarded-Proto`) or
  `PUBLIC_BASE_URL` is https. Never over plain http otherwise, where it would mean nothing.
- CORS from an allow-list (`CORS_ALLOW_ORIGINS`; empty by default: same-origin only, as the web
  apps are served). A page of an allowed origin gets `Access-Control-Allow-Origin` (its own
  origin, never `*`) on every /api/ answer, and its preflights are answered here (204); any
  other origin gets no CORS header at all, and its preflight goes on to the app like any
  OPTIONS request. Credentials are not allowed: a cross-origin page sends a bearer token, never
  the web apps' cookies (whose routes refuse other origins anyway, `api.cookie_sessions`).
- The client's address: the address that connected, unless that address is a trusted proxy
  (`TRUSTED_PROXIES`, none by default), whose `X-Forwarded-For` then names the client (the
  nearest address in it that is not a trusted proxy itself) and `X-Forwarded-Proto` the
  scheme. Resolved here once, for everything that reads `request.client` (the per-IP limits of
  sign-up, sign-in and codes; the address kept with a session); uvicorn runs with
  `--no-proxy-headers`, so a deployment's server flags cannot change who the client is.
"""

from __future__ import annotations

from typing import Any, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from core.http_settings import parse_origins, parse_proxies
from core.settings import Settings

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
)
CORS_PATHS = "/api/"
CORS_METHODS = b"GET, HEAD, POST, PUT, PATCH, DELETE"
# What a cross-origin client sends beyond the CORS-safelisted headers ...
CORS_REQUEST_HEADERS = (
    b"Authorization, Content-Type, Idempotency-Key, If-None-Match, Last-Event-ID, X-Request-Id"
)
# ... and what it may read of an answer beyond the safelisted ones.
CORS_EXPOSED_HEADERS = (
    b"Location, ETag, Retry-After, WWW-Authenticate, Accept-Post, Accept-Patch, "
    b"Content-Disposition, X-Request-Id"
)
CORS_MAX_AGE_S = b"600"


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _with_vary_origin(headers: list[tuple[bytes, bytes]]) -> None:
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"origin" not in value.lower() and value.strip() != b"*":
                headers[index] = (name, value + b", Origin")
            return
    headers.append((b"vary", b"Origin"))


class BrowserPolicy:
    """ASGI middleware: the security headers and CORS (see the module's doc)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.origins = parse_origins(settings.cors_allow_origins)
        max_age = settings.hsts_max_age_seconds
        self.hsts = f"max-age={max_age}".encode() if max_age else None
        self.always_https = settings.public_base_url.lower().startswith("https://")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = list(SECURITY_HEADERS)
        if self.hsts is not None and (self.always_https or scope.get("scheme") == "https"):
            added.append((b"strict-transport-security", self.hsts))
        cors: list[tuple[bytes, bytes]] = []
        vary = bool(self.origins) and scope["path"].startswith(CORS_PATHS)
        if vary:
            origin = _header(scope, b"origin")
            if origin is not None and origin.decode("latin-1").lower() in self.origins:
                if (
                    scope["method"] == "OPTIONS"
                    and _header(scope, b"access-control-request-method") is not None
                ):
                    await self._preflight(origin, added, send)
                    return
                cors = [
                    (b"access-control-allow-origin", origin),
                    (b"access-control-expose-headers", CORS_EXPOSED_HEADERS),
                ]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in added if name not in present]
                headers += cors
                if vary:
                    _with_vary_origin(headers)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _preflight(self, origin: bytes, added: list[tuple[bytes, bytes]], send: Send) -> None:
        headers = [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-methods", CORS_METHODS),
            (b"access-control-allow-headers", CORS_REQUEST_HEADERS),
            (b"access-control-max-age", CORS_MAX_AGE_S),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
            *added,
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})


def client_address(app: ASGIApp, settings: Settings) -> ASGIApp:
    """`app`, with the client's address and scheme taken from the forwarding headers when the
    hop that connected is a trusted proxy; `app` itself when no proxy is trusted."""
    proxies = parse_proxies(settings.trusted_proxies)
    if not proxies:
        return app
    return cast(ASGIApp, ProxyHeadersMiddleware(cast(Any, app), trusted_hosts=proxies))
