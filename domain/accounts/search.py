"""Finding customers from what staff type in one search box: part of a name or an email, or a
phone number written any way (`+91 98123 45678`, `9812345678`, `098123 45678` all find
`+919812345678`: phones are stored in E.164, so the typed digits are matched without their
country code or trunk zero)."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import LIKE_ESCAPE, contains
from domain.accounts.models import Role, User

PHONE_LIKE = re.compile(r"^[\d\s+\-().]+$")
MIN_PHONE_DIGITS = 4
# India's country code and trunk prefix: the business's numbers are typed with or without them.
COUNTRY_CODE = "91"


def phone_digits(text: str) -> str | None:
    """The digits to look for in stored phones, when `text` is written like a phone number."""
    if not PHONE_LIKE.match(text.strip()):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    if len(digits) == 12 and digits.startswith(COUNTRY_CODE):
        return digits[len(COUNTRY_CODE) :]
    if len(digits) == 11 and digits.startswith("0"):
        return digits[1:]
    return digits


async def find_customers(db: AsyncSession, *, text: str, limit: int) -> tuple[list[User], int]:
    """Customers whose name or email contains `text`, or whose phone has its digits; by name."""
    digits = phone_digits(text)
    match: ColumnElement[bool]
    if digits is not None:
        match = User.phone.like(contains(digits), escape=LIKE_ESCAPE)
    else:
        like = contains(text.strip().lower())
        match = or_(
            func.lower(User.name).like(like, escape=LIKE_ESCAPE),
            User.email.like(like, escape=LIKE_ESCAPE),
        )
    stmt = select(User).where(User.role == Role.customer.value, match)
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await db.execute(stmt.order_by(User.name, User.created_at, User.id).limit(limit))
    return list(rows.scalars().all()), int(total)
