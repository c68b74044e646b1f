"""Sign-in for the admin panel (the SPA at /admin): staff only, the refresh token in the cookie
`hp_refresh` (Path=/api/v1/auth/web), the routes that act on it guarded by
`X-Requested-With: homeplans-admin`. How and why: `api.cookie_sessions`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Response, status

from api.cookie_sessions import CookieSessions
from api.deps import AuthDep, ClientDep, SessionDep, SettingsDep
from api.problems import problems
from domain.accounts.models import Role
from domain.accounts.schemas import LoginIn, WebSessionOut

router = APIRouter(prefix="/auth/web", tags=["auth: admin panel"])

ADMIN = CookieSessions(
    app="admin panel",
    cookie="hp_refresh",
    path="/api/v1/auth/web",
    csrf_value="homeplans-admin",
    roles=(Role.admin, Role.support),
)
same_site = ADMIN.same_site()
csrf_guarded = ADMIN.csrf_guarded()

RefreshCookie = Annotated[
    str | None,
    Cookie(
        alias=ADMIN.cookie,
        max_length=200,
        description="The refresh token the sign-in set (HttpOnly; the browser sends it)",
    ),
]


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
        db, identifier=body.identifier, password=body.password, client=client, roles=ADMIN.roles
    )
    await db.commit()
    return ADMIN.session_out(response, settings, user, tokens)


@router.post(
    "/refresh",
    response_model=WebSessionOut,
    responses={**problems(401), 204: {"description": "No session cookie: signed out"}},
)
async def web_refresh(
    response: Response,
    db: SessionDep,
    auth: AuthDep,
    settings: SettingsDep,
    _csrf: Annotated[None, Depends(csrf_guarded)],
    hp_refresh: RefreshCookie = None,
) -> WebSessionOut | Response:
    """A new access token for the signed-in admin panel, from its cookie; the cookie rotates
    (the old one stops working; presented again, it ends the session)."""
    return await ADMIN.refresh(response, db=db, auth=auth, settings=settings, token=hp_refresh)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def web_logout(
    db: SessionDep,
    settings: SettingsDep,
    _csrf: Annotated[None, Depends(csrf_guarded)],
    hp_refresh: RefreshCookie = None,
) -> Response:
    """Sign out of the admin panel: the session ends (its access tokens stop working at once)
    and the cookie is removed. Signed out already, it is the same answer."""
    return await ADMIN.logout(db=db, settings=settings, token=hp_refresh)
