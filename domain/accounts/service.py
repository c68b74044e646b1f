"""Accounts: users, sessions and refresh-token rotation, profile, addresses, payment methods.

Keyword-only functions, the session first. They raise `core.errors` exceptions, never HTTP ones.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import LIKE_ESCAPE, contains, utcnow
from core.errors import Conflict, NotFound, Unauthorized
from core.security import hash_token, new_refresh_token
from domain.accounts.models import (
    Address,
    AuthSession,
    Identity,
    PaymentMethod,
    ProviderCustomer,
    RefreshToken,
    Role,
    User,
)
from domain.accounts.schemas import AddressIn, AddressUpdate, PaymentMethodIn, UserUpdateMe
from domain.contracts import Channel
from domain.payments import SavedMethod
from domain.reports import rollups

# --- users --------------------------------------------------------------------------------------

log = logging.getLogger(__name__)


async def create_user(
    db: AsyncSession,
    *,
    email: str | None,
    phone: str | None,
    password_hash: str | None,
    name: str | None = None,
    role: Role = Role.customer,
    email_verified_at: datetime | None = None,
    phone_verified_at: datetime | None = None,
) -> User:
    """Create a user; Conflict when the email or phone already belongs to an account."""
    await _ensure_contact_free(db, email=email, phone=phone)
    user = User(
        email=email,
        phone=phone,
        password_hash=password_hash,
        name=name,
        role=role.value,
        email_verified_at=email_verified_at,
        phone_verified_at=phone_verified_at,
    )
    db.add(user)
    try:
        await db.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict("an account with that email or phone already exists") from exc
    if role != Role.technician:  # technicians are added by staff, not sign-ups
        await rollups.count_new_user(db, at=utcnow())
    return user


async def _ensure_contact_free(
    db: AsyncSession, *, email: str | None, phone: str | None, except_user: uuid.UUID | None = None
) -> None:
    for column, value, label in ((User.email, email, "email"), (User.phone, phone, "phone")):
        if value is None:
            continue
        stmt = select(User.id).where(column == value)
        if except_user is not None:
            stmt = stmt.where(User.id != except_user)
        if (await db.execute(stmt)).first() is not None:
            raise Conflict(f"an account with that {label} already exists")


async def get_user(db: AsyncSession, *, user_id: uuid.UUID) -> User:
    user = await db.get(User, user_id)
    if user is None:
        raise NotFound("user not found")
    return user


async def find_by_identifier(db: AsyncSession, *, identifier: str) -> User | None:
    """The user whose email or phone is `identifier` (already normalised by the caller)."""
    column = User.email if "@" in identifier else User.phone
    return (await db.execute(select(User).where(column == identifier))).scalar_one_or_none()


async def update_me(db: AsyncSession, *, user: User, changes: UserUpdateMe) -> list[Channel]:
    """Apply a self-service profile change; returns the contacts that now need verifying."""
    data = changes.model_dump(exclude_unset=True)
    if user.role == Role.technician.value:
        # Both are on their technician row too, and the phone is how they sign in (they have
        # no password): admins change them, under /admin/technicians, keeping both in step.
        for key in ("name", "phone"):
            if key in data and data[key] != getattr(user, key):
                raise Conflict(f"a technician's {key} is changed by an admin")
    await _ensure_contact_free(
        db, email=data.get("email"), phone=data.get("phone"), except_user=user.id
    )
    to_verify: list[Channel] = []
    if "name" in data:
        user.name = data["name"]
    if "email" in data and data["email"] != user.email:
        if data["email"] is None and user.phone is None:
            raise Conflict("an account needs an email or a phone number")
        user.email, user.email_verified_at = data["email"], None
        if user.email:
            to_verify.append(Channel.email)
    if "phone" in data and data["phone"] != user.phone:
        if data["phone"] is None and user.email is None:
            raise Conflict("an account needs an email or a phone number")
        user.phone, user.phone_verified_at = data["phone"], None
        if user.phone:
            to_verify.append(Channel.phone)
    try:
        await db.flush()
    except IntegrityError as exc:
        raise Conflict("an account with that email or phone already exists") from exc
    return to_verify


async def mark_contact_verified(
    db: AsyncSession, *, user_id: uuid.UUID, channel: Channel, destination: str, at: datetime
) -> bool:
    """Mark the contact verified if it is still the account's; idempotent."""
    if channel == Channel.email:
        stmt = (
            update(User)
            .where(User.id == user_id, User.email == destination)
            .values(email_verified_at=func.coalesce(User.email_verified_at, at))
        )
    else:
        stmt = (
            update(User)
            .where(User.id == user_id, User.phone == destination)
            .values(phone_verified_at=func.coalesce(User.phone_verified_at, at))
        )
    result = await db.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def link_identity(db: AsyncSession, *, user: User, provider: str, subject: str) -> None:
    """Link an external identity to the user; a concurrent first sign-in is a no-op."""
    await db.execute(
        pg_insert(Identity)
        .values(id=uuid.uuid4(), user_id=user.id, provider=provider, subject=subject)
        .on_conflict_do_nothing(index_elements=["provider", "subject"])
    )


async def find_by_identity(db: AsyncSession, *, provider: str, subject: str) -> User | None:
    stmt = (
        select(User)
        .join(Identity, Identity.user_id == User.id)
        .where(Identity.provider == provider, Identity.subject == subject)
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def list_users(
    db: AsyncSession, *, role: Role | None, query: str | None, limit: int, offset: int
) -> tuple[list[User], int]:
    stmt = select(User)
    if role is not None:
        stmt = stmt.where(User.role == role.value)
    if query:
        like = contains(query.lower())
        stmt = stmt.where(
            func.lower(User.name).like(like, escape=LIKE_ESCAPE)
            | User.email.like(like, escape=LIKE_ESCAPE)
            | User.phone.like(like, escape=LIKE_ESCAPE)
        )
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (
            await db.execute(
                stmt.order_by(User.created_at.desc(), User.id).limit(limit).offset(offset)
            )
        )
        .scalars()
        .all()
    )
    return list(rows), total


def snapshot(user: User) -> dict[str, Any]:
    """The fields of a user that an audit entry records."""
    return {"role": user.role, "is_active": user.is_active, "name": user.name}


# --- sessions and refresh tokens --------------------------------------------------------------


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


# --- provider customers -------------------------------------------------------------------------


async def provider_customer_id(
    db: AsyncSession, *, user_id: uuid.UUID, provider: str
) -> str | None:
    stmt = select(ProviderCustomer.customer_id).where(
        ProviderCustomer.user_id == user_id, ProviderCustomer.provider == provider
    )
    return (await db.execute(stmt)).scalar_one_or_none()


async def remember_provider_customer(
    db: AsyncSession, *, user_id: uuid.UUID, provider: str, customer_id: str
) -> str:
    """Keep the user's customer id at the provider; the first one recorded wins (a concurrent
    checkout that made the same customer with the same key records the same id)."""
    await db.execute(
        pg_insert(ProviderCustomer)
        .values(id=uuid.uuid4(), user_id=user_id, provider=provider, customer_id=customer_id)
        .on_conflict_do_nothing(index_elements=["user_id", "provider"])
    )
    kept = await provider_customer_id(db, user_id=user_id, provider=provider)
    assert kept is not None
    return kept


# --- addresses ----------------------------------------------------------------------------------


async def list_addresses(db: AsyncSession, *, user_id: uuid.UUID) -> list[Address]:
    stmt = (
        select(Address)
        .where(Address.user_id == user_id)
        .order_by(Address.is_default.desc(), Address.created_at)
    )
    return list((await db.execute(stmt)).scalars().all())


async def get_address(db: AsyncSession, *, user_id: uuid.UUID, address_id: uuid.UUID) -> Address:
    """The user's address; another user's address is NotFound, exactly like a missing one."""
    address = (
        await db.execute(
            select(Address).where(Address.id == address_id, Address.user_id == user_id)
        )
    ).scalar_one_or_none()
    if address is None:
        raise NotFound("address not found")
    return address


async def add_address(db: AsyncSession, *, user_id: uuid.UUID, data: AddressIn) -> Address:
    has_any = (
        await db.execute(select(Address.id).where(Address.user_id == user_id).limit(1))
    ).first() is not None
    make_default = data.is_default or not has_any  # the first address is the default
    if make_default:
        await _clear_default_address(db, user_id=user_id)
    address = Address(
        user_id=user_id, **data.model_dump(exclude={"is_default"}), is_default=make_default
    )
    db.add(address)
    await db.flush()
    return address


async def update_address(
    db: AsyncSession, *, user_id: uuid.UUID, address_id: uuid.UUID, data: AddressUpdate
) -> Address:
    address = await get_address(db, user_id=user_id, address_id=address_id)
    changes = data.model_dump(exclude_unset=True)
    for required in ("line1", "city", "postal_code", "country"):
        if required in changes and changes[required] is None:
            raise Conflict(f"{required} cannot be removed from an address")
    if changes.pop("is_default", None):
        await _clear_default_address(db, user_id=user_id)
        address.is_default = True
    for key, value in changes.items():
        setattr(address, key, value)
    await db.flush()
    return address


async def delete_address(db: AsyncSession, *, user_id: uuid.UUID, address_id: uuid.UUID) -> None:
    address = await get_address(db, user_id=user_id, address_id=address_id)
    was_default = address.is_default
    await db.delete(address)
    await db.flush()
    if was_default:  # the oldest remaining address becomes the default
        nxt = (
            await db.execute(
                select(Address)
                .where(Address.user_id == user_id)
                .order_by(Address.created_at)
                .limit(1)
            )
        ).scalar_one_or_none()
        if nxt is not None:
            nxt.is_default = True
            await db.flush()


async def _clear_default_address(db: AsyncSession, *, user_id: uuid.UUID) -> None:
    await db.execute(
        update(Address)
        .where(Address.user_id == user_id, Address.is_default)
        .values(is_default=False)
    )


# --- payment methods ----------------------------------------------------------------------------


async def list_payment_methods(db: AsyncSession, *, user_id: uuid.UUID) -> list[PaymentMethod]:
    stmt = (
        select(PaymentMethod)
        .where(PaymentMethod.user_id == user_id)
        .order_by(PaymentMethod.is_default.desc(), PaymentMethod.created_at)
    )
    return list((await db.execute(stmt)).scalars().all())


async def add_payment_method(
    db: AsyncSession, *, user_id: uuid.UUID, data: PaymentMethodIn
) -> PaymentMethod:
    taken = (
        await db.execute(
            select(PaymentMethod).where(
                PaymentMethod.provider == data.provider,
                PaymentMethod.provider_method_id == data.provider_method_id,
            )
        )
    ).scalar_one_or_none()
    if taken is not None:
        if taken.user_id != user_id:
            raise Conflict("that payment method is saved on another account")
        return taken
    has_any = (
        await db.execute(select(PaymentMethod.id).where(PaymentMethod.user_id == user_id).limit(1))
    ).first() is not None
    make_default = data.is_default or not has_any
    if make_default:
        await db.execute(
            update(PaymentMethod)
            .where(PaymentMethod.user_id == user_id, PaymentMethod.is_default)
            .values(is_default=False)
        )
    method = PaymentMethod(
        user_id=user_id, **data.model_dump(exclude={"is_default"}), is_default=make_default
    )
    db.add(method)
    await db.flush()
    return method


async def keep_provider_method(
    db: AsyncSession, *, user_id: uuid.UUID, provider: str, saved: SavedMethod
) -> PaymentMethod | None:
    """Save the reusable method a provider returned with a payment, for renewals: its tokens and
    display hints only, through the same rules as a method the customer saves. Never fails its
    caller (a settlement): a method those rules refuse, or one saved on another account, is
    skipped and logged; a concurrent save of the same method finds the one saved."""
    try:
        data = PaymentMethodIn(
            provider=provider,
            provider_method_id=saved.provider_method_id,
            provider_customer_id=saved.provider_customer_id,
            kind=saved.kind,
            brand=saved.brand,
            last4=saved.last4,
            exp_month=saved.exp_month,
            exp_year=saved.exp_year,
        )
    except ValidationError as exc:
        log.warning("user %s: saved payment method not kept: %s", user_id, exc)
        return None
    try:
        async with db.begin_nested():
            return await add_payment_method(db, user_id=user_id, data=data)
    except Conflict as exc:
        log.warning("user %s: saved payment method not kept: %s", user_id, exc.detail)
        return None
    except IntegrityError:  # saved by a concurrent settlement meanwhile
        return (
            await db.execute(
                select(PaymentMethod).where(
                    PaymentMethod.user_id == user_id,
                    PaymentMethod.provider == provider,
                    PaymentMethod.provider_method_id == saved.provider_method_id,
                )
            )
        ).scalar_one_or_none()


async def delete_payment_method(
    db: AsyncSession, *, user_id: uuid.UUID, method_id: uuid.UUID
) -> None:
    method = (
        await db.execute(
            select(PaymentMethod).where(
                PaymentMethod.id == method_id, PaymentMethod.user_id == user_id
            )
        )
    ).scalar_one_or_none()
    if method is None:
        raise NotFound("payment method not found")
    await db.delete(method)
    await db.flush()
