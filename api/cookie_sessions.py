"""Sessions of the web apps served by this API (the admin panel at /admin, the customer app at
/app): the refresh token in a cookie, the access token in the page's memory only.

A page keeps its access token in memory (never localStorage), so a script injected into it
cannot carry a token away; it gets a new one from its `refresh` route when it loads and when an
answer is 401. The refresh token is an HttpOnly cookie (scripts cannot read it), SameSite=Strict
(no other site's page sends it), scoped to the app's own auth routes by its Path (no other request
carries it), Secure when the API is served over https. Each app has its own cookie, so signing in
to one does not sign anyone in to the other.

A cookie is sent by the browser on its own, so the routes that act on it are guarded against
cross-site requests: they need the app's `X-Requested-With` header (a page of another origin
cannot set a custom header without a CORS preflight, which this API never grants) and refuse a
request whose `Origin` is another site's. Rotation and reuse detection are those of every refresh
token (`domain.accounts.service.rotate_refresh`): a refresh cookie presented twice ends its
session.
"""

# No `from __future__ import annotations`: the guards' header annotation names the app's own
# value, which FastAPI can only read from an annotation evaluated when the guard is made.

from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Header, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import SettingsDep
from api.problems import answers
from core.errors import DomainError, Forbidden, Unauthorized
from core.settings import Settings
from domain.accounts import service as accounts
from domain.accounts.auth import Authenticator
from domain.accounts.models import Role, User
from domain.accounts.schemas import TokenPair, WebSessionOut, WebUser

CSRF_HEADER = "X-Requested-With"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _hostname(netloc: str) -> str:
    return (urlsplit(f"//{netloc}").hostname or "").lower()


def check_origin(request: Request, settings: Settings, app: str) -> None:
    """Forbidden when the browser says the request comes from another site's page. This site:
    the public address of the API (PUBLIC_BASE_URL), or the host this request was sent to, on
    any port (nginx in front passes the host without its port; the Vite dev server's proxy
    passes its own)."""
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser's cross-origin request (curl, a same-origin GET)
    if origin.lower() == _origin_of(settings.public_base_url):
        return
    host = request.headers.get("host", "")
    if host and _hostname(urlsplit(origin).netloc) == _hostname(host):
        return
    raise Forbidden(f"requests from {origin} are refused; use the {app} of this server")


Guard = Callable[..., Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class CookieSessions:
    """The cookie and guards of one web app's sessions."""

    app: str  # how a person calls it: "admin panel", "app"
    cookie: str
    path: str
    csrf_value: str
    roles: Collection[Role] | None  # who may sign in to it; None: anyone with an account

    def _secure(self, settings: Settings) -> bool:
        return settings.public_base_url.lower().startswith("https://")

    def session_out(
        self, response: Response, settings: Settings, user: User, tokens: TokenPair
    ) -> WebSessionOut:
        """The answer of a sign-in or refresh: the cookie set, the access token in the body."""
        response.set_cookie(
            self.cookie,
            tokens.refresh_token,
            max_age=settings.refresh_token_ttl_days * 86_400,
            path=self.path,
            secure=self._secure(settings),
            httponly=True,
            samesite="strict",
        )
        response.headers["Cache-Control"] = "no-store"
        return WebSessionOut(
            access_token=tokens.access_token, expires_in=tokens.expires_in, user=WebUser.of(user)
        )

    def clearing(self, settings: Settings) -> str:
        """The Set-Cookie header value that removes the cookie."""
        response = Response()
        response.delete_cookie(
            self.cookie,
            path=self.path,
            secure=self._secure(settings),
            httponly=True,
            samesite="strict",
        )
        return response.headers["set-cookie"]

    def clears(self, exc: DomainError, settings: Settings) -> DomainError:
        """The error, with the header that removes a cookie that no longer works."""
        exc.headers = {**exc.headers, "set-cookie": self.clearing(settings)}
        return exc

    async def refresh(
        self,
        response: Response,
        *,
        db: AsyncSession,
        auth: Authenticator,
        settings: Settings,
        token: str | None,
    ) -> WebSessionOut | Response:
        """A new access token from the cookie, which rotates; a cookie that no longer works is
        removed from the browser with the refusal. No cookie at all is no session to refresh, as
        every signed-out page load asks: 204, not an error in the browser's console."""
        if not token:
            return Response(status_code=204, headers={"Cache-Control": "no-store"})
        try:
            user, tokens = await auth.rotate(db, token=token, roles=self.roles)
        except (Unauthorized, Forbidden) as exc:
            self.clears(exc, settings)
            raise
        await db.commit()
        return self.session_out(response, settings, user, tokens)

    async def logout(self, *, db: AsyncSession, settings: Settings, token: str | None) -> Response:
        """The cookie's session ends (its access tokens stop at once) and the cookie is removed;
        signed out already, the same answer."""
        if token:
            await accounts.revoke_by_refresh_token(db, token=token, reason="logout")
            await db.commit()
        return Response(status_code=204, headers={"set-cookie": self.clearing(settings)})

    def same_site(self) -> Guard:
        """A dependency: the request is not from another site's page."""

        @answers(403)
        async def same_site(request: Request, settings: SettingsDep) -> None:
            check_origin(request, settings, self.app)

        return same_site

    def csrf_guarded(self) -> Guard:
        """A dependency: the app's own page sent this (its header), from this site."""
        value = self.csrf_value

        @answers(403)
        async def csrf_guarded(
            request: Request,
            settings: SettingsDep,
            x_requested_with: Annotated[
                str | None,
                Header(
                    alias=CSRF_HEADER,
                    max_length=100,
                    description=f"Must be `{value}`: proves the {self.app}'s own page sent this",
                ),
            ] = None,
        ) -> None:
            if x_requested_with != value:
                raise Forbidden(f"missing CSRF header: send {CSRF_HEADER}: {value}")
            check_origin(request, settings, self.app)

        return csrf_guarded
