"""Sign-in for the admin panel (the SPA at /admin): staff only, the refresh token in a cookie.

The page keeps the access token in memory only (never localStorage), so a script injected into
it cannot carry a token away; it gets a new one from `POST /auth/web/refresh` when it loads and
when an answer is 401. The refresh token is the cookie `hp_refresh`: HttpOnly (scripts cannot
read it), SameSite=Strict (no other site's page sends it), Path=/api/v1/auth/web (no other
request carries it), Secure when the API is served over https.

A cookie is sent by the browser on its own, so the two routes that act on it are guarded against
cross-site requests: they need the header `X-Requested-With: homeplans-admin` (a page of another
origin cannot set a custom header without a CORS preflight, which this API never grants) and
refuse a request whose `Origin` is another site's. Rotation and reuse detection are the ones of
every refresh token (`domain.accounts.service.rotate_refresh`): a refresh cookie presented twice
ends its session.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Cookie, Depends, Header, Request, Response, status

from api.deps import AuthDep, ClientDep, SessionDep, SettingsDep
from api.problems import answers, problems
from core.errors import DomainError, Forbidden, Unauthorized
from core.settings import Settings
from domain.accounts import service as accounts
from domain.accounts.models import Role, User
from domain.accounts.schemas import LoginIn, TokenPair, WebSessionOut, WebUser

router = APIRouter(prefix="/auth/web", tags=["auth: admin panel"])

COOKIE = "hp_refresh"
COOKIE_PATH = "/api/v1/auth/web"
CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "homeplans-admin"
STAFF = (Role.admin, Role.support)

RefreshCookie = Annotated[
    str | None,
    Cookie(
        alias=COOKIE,
        max_length=200,
        description="The refresh token the sign-in set (HttpOnly; the browser sends it)",
    ),
]


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _hostname(netloc: str) -> str:
    return (urlsplit(f"//{netloc}").hostname or "").lower()


def _check_origin(request: Request, settings: Settings) -> None:
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
    raise Forbidden(f"requests from {origin} are refused; use the admin panel of this server")


@answers(403)
async def same_site(request: Request, settings: SettingsDep) -> None:
    _check_origin(request, settings)


@answers(403)
async def csrf_guarded(
    request: Request,
    settings: SettingsDep,
    x_requested_with: Annotated[
        str | None,
        Header(
            alias=CSRF_HEADER,
            max_length=100,
            description=f"Must be `{CSRF_VALUE}`: proves the admin panel's own page sent this",
        ),
    ] = None,
) -> None:
    if x_requested_with != CSRF_VALUE:
        raise Forbidden(f"missing CSRF header: send {CSRF_HEADER}: {CSRF_VALUE}")
    _check_origin(request, settings)


def _set_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=settings.refresh_token_ttl_days * 86_400,
        path=COOKIE_PATH,
        secure=settings.public_base_url.lower().startswith("https://"),
        httponly=True,
        samesite="strict",
    )


def _clearing(settings: Settings) -> str:
    """The Set-Cookie header value that removes the cookie."""
    response = Response()
    response.delete_cookie(
        COOKIE,
        path=COOKIE_PATH,
        secure=settings.public_base_url.lower().startswith("https://"),
        httponly=True,
        samesite="strict",
    )
    return response.headers["set-cookie"]


def _session_out(
    response: Response, settings: Settings, user: User, tokens: TokenPair
) -> WebSessionOut:
    _set_cookie(response, settings, tokens.refresh_token)
    response.headers["Cache-Control"] = "no-store"
    return WebSessionOut(
        access_token=tokens.access_token, expires_in=tokens.expires_in, user=WebUser.of(user)
    )


@router.post(
    "/login",
    response_model=WebSessionOut,
    responses={
        **problems(401, 429),
        403: {"description": "Not a staff account (or another site's page sent this)"},
    },
)
async def web_login(
    body: LoginIn,
    response: Response,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    settings: SettingsDep,
    _same_site: Annotated[None, Depends(same_site)],
) -> WebSessionOut:
    """Sign in to the admin panel (admin and support only; throttled like /auth/login). Sets
    the refresh cookie; the access token in the answer is kept in memory only."""
    user, tokens = await auth.sign_in(
        db, identifier=body.identifier, password=body.password, client=client, roles=STAFF
    )
    await db.commit()
    return _session_out(response, settings, user, tokens)


@router.post("/refresh", response_model=WebSessionOut, responses=problems(401))
async def web_refresh(
    response: Response,
    db: SessionDep,
    auth: AuthDep,
    settings: SettingsDep,
    _csrf: Annotated[None, Depends(csrf_guarded)],
    hp_refresh: RefreshCookie = None,
) -> WebSessionOut:
    """A new access token for the signed-in admin panel, from its cookie; the cookie rotates
    (the old one stops working; presented again, it ends the session)."""
    if not hp_refresh:
        raise _clears(Unauthorized("not signed in to the admin panel; sign in"), settings)
    try:
        user, tokens = await auth.rotate(db, token=hp_refresh, roles=STAFF)
    except (Unauthorized, Forbidden) as exc:
        _clears(exc, settings)  # the cookie no longer works: the browser drops it
        raise
    await db.commit()
    return _session_out(response, settings, user, tokens)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def web_logout(
    db: SessionDep,
    settings: SettingsDep,
    _csrf: Annotated[None, Depends(csrf_guarded)],
    hp_refresh: RefreshCookie = None,
) -> Response:
    """Sign out of the admin panel: the session ends (its access tokens stop working at once)
    and the cookie is removed. Signed out already, it is the same answer."""
    if hp_refresh:
        await accounts.revoke_by_refresh_token(db, token=hp_refresh, reason="logout")
        await db.commit()
    return Response(
        status_code=status.HTTP_204_NO_CONTENT, headers={"set-cookie": _clearing(settings)}
    )


def _clears(exc: DomainError, settings: Settings) -> DomainError:
    """The error, with the header that removes a cookie that no longer works."""
    exc.headers = {**exc.headers, "set-cookie": _clearing(settings)}
    return exc
