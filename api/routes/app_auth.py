"""Sign-in for the customer app (the installable web app at /app): any account (customers, and
technicians for their day), the refresh token in the cookie `hp_app_refresh`
(Path=/api/v1/auth/app), the routes that use the cookie guarded by
`X-Requested-With: homeplans-app`. How and why: `api.cookie_sessions`.

Every way in that the token routes offer (`/auth/register`, `/auth/login`, `/auth/phone/verify`,
`/auth/firebase`) is here too, answering with the access token only: the refresh token never
reaches the page's JavaScript. A phone sign-in code is still asked for at `/auth/phone/start`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, Response, status
from pydantic import Field

from api import sign_ins
from api.cookie_sessions import CookieSessions
from api.deps import AuthDep, ClientDep, SessionDep, SettingsDep, TemporalDep
from api.problems import problems
from domain.accounts.schemas import (
    FirebaseIn,
    LoginIn,
    PhoneLoginIn,
    RegisterIn,
    VerificationOut,
    WebSessionOut,
)

router = APIRouter(prefix="/auth/app", tags=["auth: customer app"])

APP = CookieSessions(
    app="app",
    cookie="hp_app_refresh",
    path="/api/v1/auth/app",
    csrf_value="homeplans-app",
    roles=None,
)
SameSite = Annotated[None, Depends(APP.same_site())]
CsrfGuarded = Annotated[None, Depends(APP.csrf_guarded())]
RefreshCookie = Annotated[
    str | None,
    Cookie(
        alias=APP.cookie,
        max_length=200,
        description="The refresh token the sign-in set (HttpOnly; the browser sends it)",
    ),
]


class AppRegisteredOut(WebSessionOut):
    verification: VerificationOut | None = Field(
        description="The code sent to verify the contact given (its cooldown and attempts)"
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=AppRegisteredOut,
    responses=problems(409, 429),
)
async def app_register(
    body: RegisterIn,
    response: Response,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    _same_site: SameSite,
) -> AppRegisteredOut:
    """Create a customer account and sign in to the app; a code goes to the contact given."""
    user, tokens, state = await sign_ins.register(
        body, db=db, auth=auth, client=client, temporal=temporal, settings=settings
    )
    session = APP.session_out(response, settings, user, tokens)
    return AppRegisteredOut(
        **session.model_dump(), verification=VerificationOut.model_validate(state.model_dump())
    )


@router.post("/login", response_model=WebSessionOut, responses=problems(401, 429))
async def app_login(
    body: LoginIn,
    response: Response,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    settings: SettingsDep,
    _same_site: SameSite,
) -> WebSessionOut:
    """Sign in to the app with email or phone and password (throttled like /auth/login)."""
    user, tokens = await auth.sign_in(
        db, identifier=body.identifier, password=body.password, client=client
    )
    await db.commit()
    return APP.session_out(response, settings, user, tokens)


@router.post("/phone/verify", response_model=WebSessionOut, responses=problems(401, 429))
async def app_phone_verify(
    body: PhoneLoginIn,
    response: Response,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    temporal: TemporalDep,
    settings: SettingsDep,
    _same_site: SameSite,
) -> WebSessionOut:
    """Sign in to the app with the phone number and the code sent to it."""
    user, tokens = await sign_ins.phone_code(
        body, db=db, auth=auth, client=client, temporal=temporal, settings=settings
    )
    return APP.session_out(response, settings, user, tokens)


@router.post("/firebase", response_model=WebSessionOut, responses=problems(401, 403, 404, 409, 429))
async def app_firebase(
    body: FirebaseIn,
    response: Response,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    settings: SettingsDep,
    _same_site: SameSite,
) -> WebSessionOut:
    """Sign in to the app with a Firebase ID token (Google), when Firebase is configured."""
    user, tokens = await sign_ins.firebase(body, db=db, auth=auth, client=client)
    return APP.session_out(response, settings, user, tokens)


@router.post(
    "/refresh",
    response_model=WebSessionOut,
    responses={**problems(401), 204: {"description": "No session cookie: signed out"}},
)
async def app_refresh(
    response: Response,
    db: SessionDep,
    auth: AuthDep,
    settings: SettingsDep,
    _csrf: CsrfGuarded,
    hp_app_refresh: RefreshCookie = None,
) -> WebSessionOut | Response:
    """A new access token for the signed-in app, from its cookie; the cookie rotates."""
    return await APP.refresh(response, db=db, auth=auth, settings=settings, token=hp_app_refresh)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def app_logout(
    db: SessionDep,
    settings: SettingsDep,
    _csrf: CsrfGuarded,
    hp_app_refresh: RefreshCookie = None,
) -> Response:
    """Sign out of the app on this device: its session ends and the cookie is removed."""
    return await APP.logout(db=db, settings=settings, token=hp_app_refresh)
