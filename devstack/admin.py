"""Admin accounts made outside the API: the first-start seed and `manage.py create-admin`."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import domain.models  # noqa: F401  (registers every table the user model refers to)
from core.db import utcnow
from core.security import Passwords
from domain.accounts.models import Role, User
from domain.accounts.users import create_user, snapshot
from domain.audit import service as audit
from domain.types import Email

DEFAULT_ADMIN_EMAIL = "admin@example.com"
# The API's rule for passwords (domain.types.Password): NIST 800-63B length, no composition rules.
MIN_PASSWORD, MAX_PASSWORD = 8, 256
_EMAIL: TypeAdapter[str] = TypeAdapter(Email)


def admin_email(value: str) -> str:
    """The address normalised exactly as the API stores it; ValueError when the API would refuse
    it (so the admin can use every endpoint a user can, /me included)."""
    try:
        return _EMAIL.validate_python(value)
    except ValidationError as exc:
        raise ValueError(f"{value!r} is not a valid email address") from exc


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"the password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")


async def any_admin(db: AsyncSession) -> bool:
    stmt = select(User.id).where(User.role == Role.admin.value).limit(1)
    return (await db.execute(stmt)).first() is not None


async def find_user(db: AsyncSession, email: str) -> User | None:
    return (await db.execute(select(User).where(User.email == email))).scalar_one_or_none()


async def create_admin(
    db: AsyncSession, passwords: Passwords, *, email: str, password: str, name: str | None
) -> User:
    """A new admin with a verified email (whoever runs this controls the address); Conflict when
    the email belongs to an account already. The caller commits."""
    check_password(password)
    user = await create_user(
        db,
        email=email,
        phone=None,
        password_hash=passwords.hash(password),
        name=name,
        role=Role.admin,
        email_verified_at=utcnow(),
    )
    audit.record(
        db,
        actor_id=None,  # no signed-in actor: the console of the machine
        action="user.create_admin",
        entity_type="user",
        entity_id=user.id,
        after=snapshot(user),
    )
    return user


async def promote(db: AsyncSession, user: User) -> bool:
    """Make an existing account an admin; False when it already is one. The caller commits."""
    if user.role == Role.admin.value:
        return False
    before = snapshot(user)
    user.role = Role.admin.value
    audit.record(
        db,
        actor_id=None,
        action="user.promote_admin",
        entity_type="user",
        entity_id=user.id,
        before=before,
        after=snapshot(user),
    )
    await db.flush()
    return True
