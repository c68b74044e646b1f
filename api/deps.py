"""Typed dependencies. Who may call a route is visible in its signature:
`CurrentUser` (any signed-in user), `StaffUser` (support or admin), `AdminUser` (admin only),
`TechnicianUser` (a technician: their own jobs; not staff)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client as TemporalClient

from api.problems import answers
from core import request_context
from core.db import utcnow
from core.errors import Forbidden, Unauthorized
from core.security import InvalidToken
from core.settings import Settings
from domain.accounts import service as accounts
from domain.accounts.auth import Authenticator, Client
from domain.accounts.models import AuthSession, Role, User
from domain.storage import PhotoStore
from providers.payments.base import PaymentProvider

READ_METHODS = frozenset({"GET", "HEAD"})
READS_ONLY = "__reads_only__"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def reads_only(endpoint: Endpoint) -> Endpoint:
    """Mark a GET route whose statements only read: its session runs in autocommit. Under READ
    COMMITTED (PostgreSQL's default, and ours) every statement of a transaction already sees its
    own snapshot, so what such a route reads is the same; what it saves is the BEGIN and the
    ROLLBACK round trips around its reads (measured: GET /me went from 3 round trips to 1). Not
    for a route that writes (each statement would commit on its own), locks rows, or needs one
    snapshot for several statements (REPEATABLE READ: the catalog's routes)."""
    setattr(endpoint, READS_ONLY, True)
    return endpoint


# Every dependency is `async def`, even the ones that only read app.state: FastAPI runs a plain
# `def` dependency in its thread pool, a thread hop per dependency per request.


@answers(503)
async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session. A route marked `reads_only` (its GET and HEAD) gets one in
    autocommit: no BEGIN before its first statement and no ROLLBACK at its end, two round trips
    of the three a GET /me made (see `reads_only`)."""
    sessions = request.app.state.sessions
    route = request.scope.get("route")
    if request.method in READ_METHODS and getattr(
        getattr(route, "endpoint", None), READS_ONLY, False
    ):
        sessions = request.app.state.read_sessions
    async with sessions() as session:
        yield session


async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


@answers(503)
async def get_temporal(request: Request) -> TemporalClient:
    return request.app.state.temporal


async def get_payments(request: Request) -> PaymentProvider:
    return request.app.state.payments


async def get_photo_store(request: Request) -> PhotoStore:
    return request.app.state.photos


async def get_auth(request: Request) -> Authenticator:
    return request.app.state.auth


async def get_now() -> datetime:
    """The current time (UTC) for a route that decides by it. Tests override this dependency
    (`app.dependency_overrides[get_now]`) to ask about any moment without waiting for it."""
    return utcnow()


async def get_client(request: Request) -> Client:
    return Client(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


SessionDep = Annotated[AsyncSession, Depends(get_db)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
TemporalDep = Annotated[TemporalClient, Depends(get_temporal)]
AuthDep = Annotated[Authenticator, Depends(get_auth)]
PaymentsDep = Annotated[PaymentProvider, Depends(get_payments)]
PhotoStoreDep = Annotated[PhotoStore, Depends(get_photo_store)]
ClientDep = Annotated[Client, Depends(get_client)]
NowDep = Annotated[datetime, Depends(get_now)]


def _idempotency_key() -> Any:
    return Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=100,
        pattern=r"^[A-Za-z0-9_\-:.]+$",
        description="A key the client makes once per thing it asks for (an order, a visit, a "
        "refund; e.g. a UUID). The same key again, even concurrently, gets the same answer: the "
        "thing is made once.",
    )


# The same request again is the same purchase, visit or refund: the client sends one key per
# thing it asks for. Required where a duplicate would cost the customer (an order, a visit);
# optional where an admin acts (without it, every request is a new one).
IdempotencyKey = Annotated[str, _idempotency_key()]
OptionalIdempotencyKey = Annotated[str | None, _idempotency_key()]

_bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True)
class Principal:
    user: User
    session: AuthSession
    expires_at: datetime  # of the access token it was read from


@answers(401)
async def get_principal(
    db: SessionDep,
    auth: AuthDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token")
    try:
        claims = auth.tokens.decode(credentials.credentials)
    except InvalidToken as exc:
        raise Unauthorized("access token is not valid") from exc
    found = await accounts.load_principal(db, user_id=claims.user_id, session_id=claims.session_id)
    if found is None:
        raise Unauthorized("session has ended or account is disabled")
    request_context.set_user(claims.user_id)  # every later line of this request names the user
    return Principal(*found, expires_at=claims.expires_at)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: PrincipalDep) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: Role):
    allowed = {role.value for role in roles}

    @answers(403)
    async def dependency(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Forbidden("this needs the role: " + " or ".join(sorted(allowed)))
        return user

    return dependency


AdminUser = Annotated[User, Depends(require_roles(Role.admin))]
StaffUser = Annotated[User, Depends(require_roles(Role.admin, Role.support))]
TechnicianUser = Annotated[User, Depends(require_roles(Role.technician))]
