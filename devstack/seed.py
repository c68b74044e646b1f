"""First-start data, run by `make run` after the migrations: `python -m devstack seed`.

Every step is idempotent (it looks before it writes), so running the seed on every start is safe
and a second start changes nothing. New first-start data (e.g. a demo catalog) is a new step
appended to `STEPS`.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import make_engine, make_sessionmaker
from core.errors import Conflict
from core.security import Passwords
from core.settings import Settings, get_settings
from devstack.admin import (
    DEFAULT_ADMIN_EMAIL,
    admin_email,
    any_admin,
    check_password,
    create_admin,
)
from domain.catalog.demo import load_demo_catalog

SEED_LOCK_KEY = 0x686F6D65706C616E  # "homeplan"


class SeedError(Exception):
    """A step cannot run with the given settings; the message says what to change."""


@dataclass
class SeedContext:
    db: AsyncSession
    settings: Settings
    say: Callable[[str], None]


SeedStep = Callable[[SeedContext], Awaitable[None]]


async def first_admin(ctx: SeedContext) -> None:
    """The first admin account, when there is no admin at all."""
    if await any_admin(ctx.db):
        ctx.say("an admin account exists; no admin created")
        return
    try:
        email = admin_email(ctx.settings.admin_email or DEFAULT_ADMIN_EMAIL)
    except ValueError as exc:
        raise SeedError(f"ADMIN_EMAIL: {exc}") from exc
    # Empty counts as unset, so `ADMIN_PASSWORD=` can override a value from `.env`.
    given = (ctx.settings.admin_password or SecretStr("")).get_secret_value() or None
    password = given or secrets.token_urlsafe(18)
    try:
        check_password(password)
    except ValueError as exc:
        raise SeedError(f"ADMIN_PASSWORD: {exc}") from exc
    try:
        await create_admin(
            ctx.db,
            Passwords(ctx.settings),
            email=email,
            password=password,
            name="Administrator",
        )
    except Conflict:
        ctx.say(
            f"{email} belongs to an account that is not an admin, so no admin was created; "
            f"make it one with: python manage.py create-admin --email {email} --promote"
        )
        return
    # Committed before the password is shown: a password for an account that was rolled back
    # would be worse than none.
    await ctx.db.commit()
    if given is not None:
        ctx.say(f"admin account created: {email} (password from ADMIN_PASSWORD)")
        return
    for line in (
        "=" * 72,
        "First admin account created",
        f"  email:    {email}",
        f"  password: {password}",
        "Shown only this once and stored nowhere (only its argon2id hash is kept).",
        "Sign in and change it (POST /api/v1/me/password), or set ADMIN_PASSWORD before a",
        "first start to choose it yourself.",
        "=" * 72,
    ):
        ctx.say(line)


async def demo_catalog(ctx: SeedContext) -> None:
    """The demo catalog (categories and published plans), when the catalog is empty."""
    if await load_demo_catalog(ctx.db):
        await ctx.db.commit()
        ctx.say("demo catalog loaded: 5 categories, 6 plans")


STEPS: tuple[tuple[str, SeedStep], ...] = (
    ("first admin", first_admin),
    ("demo catalog", demo_catalog),
)


async def seed(settings: Settings, *, say: Callable[[str], None] = print) -> None:
    engine = make_engine(settings)
    try:
        async with make_sessionmaker(engine)() as db:
            for _name, step in STEPS:
                # Held until the step commits, so two starts on one database cannot both decide
                # that something is missing and both write it.
                await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEED_LOCK_KEY})
                await step(SeedContext(db, settings, say))
                await db.commit()
    finally:
        await engine.dispose()


def main() -> int:
    try:
        asyncio.run(seed(get_settings()))
    except SeedError as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 2
    return 0
