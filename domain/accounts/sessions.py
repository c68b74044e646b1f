"""Signed-in sessions and their refresh tokens: open, rotate (a reused token revokes the whole
session), revoke, and the principal behind an access token.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import Unauthorized
from core.security import hash_token, new_refresh_token
from domain.accounts.models import (
    AuthSession,
    RefreshToken,
    User,
)


async def open_session(
    db: AsyncSession, *, user: User, ttl: timedelta, user_agent: str | None, ip: str | None
) -> tuple[AuthSession, str]:
    """Start a signed-in session; returns it with its first refresh token."""
    session = AuthSession(user_id=user.id, user_agent=(user_agent or "")[:300] or None, ip=ip)
    db.add(session)
    await db.flush()
    token = await _issue_refresh(db, session=session, ttl=ttl)
    return session, token


async def _issue_refresh(db: AsyncSession, *, session: AuthSession, ttl: timedelta) -> str:
    token = new_refresh_token()
    db.add(
        RefreshToken(session_id=session.id, token_hash=hash_token(token), expires_at=utcnow() + ttl)
    )
    await db.flush()
    return token


async def rotate_refresh(
    db: AsyncSession, *, token: str, ttl: timedelta
) -> tuple[User, AuthSession, str]:
    """Exchange a refresh token for a new one (rotation).

    Presenting a token that was already exchanged means it was copied: the whole session (the token
    family) is revoked, so both the thief and the user must sign in again.
    """
    stmt = (
        select(RefreshToken).where(RefreshToken.token_hash == hash_token(token)).with_for_update()
    )
    row = (await db.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise Unauthorized("refresh token is not valid")
    session = await db.get(AuthSession, row.session_id, with_for_update=True)
    assert session is not None
    if session.revoked_at is not None:
        raise Unauthorized("this session has ended; sign in again")
    if row.replaced_at is not None:
        await revoke_session(db, session=session, reason="refresh_token_reuse")
        await db.commit()  # the revocation must stand even though the request fails
        raise Unauthorized("refresh token was already used; the session is revoked")
    if row.expires_at <= utcnow():
        raise Unauthorized("refresh token has expired; sign in again")
    user = await db.get(User, session.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("account is disabled")
    row.replaced_at = utcnow()
    session.last_used_at = utcnow()
    new_token = await _issue_refresh(db, session=session, ttl=ttl)
    return user, session, new_token


async def revoke_session(db: AsyncSession, *, session: AuthSession, reason: str) -> None:
    if session.revoked_at is None:
        session.revoked_at = utcnow()
        session.revoked_reason = reason
        await db.flush()


async def revoke_by_refresh_token(db: AsyncSession, *, token: str, reason: str) -> bool:
    """End the session a refresh token belongs to (used or not: signing out ends it either way);
    False when the token is unknown."""
    session_id = (
        await db.execute(
            select(RefreshToken.session_id).where(RefreshToken.token_hash == hash_token(token))
        )
    ).scalar_one_or_none()
    if session_id is None:
        return False
    session = await db.get(AuthSession, session_id, with_for_update=True)
    assert session is not None
    await revoke_session(db, session=session, reason=reason)
    return True


async def revoke_all_sessions(db: AsyncSession, *, user_id: uuid.UUID, reason: str) -> None:
    await db.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )


async def load_principal(
    db: AsyncSession, *, user_id: uuid.UUID, session_id: uuid.UUID
) -> tuple[User, AuthSession] | None:
    """The active user behind an access token and its session, if still open (one query)."""
    stmt = (
        select(User, AuthSession)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(
            User.id == user_id,
            User.is_active.is_(True),
            AuthSession.id == session_id,
            AuthSession.revoked_at.is_(None),
        )
    )
    row = (await db.execute(stmt)).first()
    return None if row is None else (row[0], row[1])
