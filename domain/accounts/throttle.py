"""Rate limits on sign-in and on what costs money or reaches a person: failures, codes sent,
sign-ups. Counted in PostgreSQL (`rate_events`) so every API replica enforces the same limit.

A `Budget` is one limit applied to one key (this IP, this account, this phone number). A caller
names every budget an action spends; the action is refused (TooManyRequests with Retry-After,
until the oldest event leaves the window) when any of them is used up:

- failures (a wrong password, code or Firebase token) are counted only when they happen: the
  account's budget is tight (guessing one account's password or code), the IP's is wide,
  because many honest people share one address behind carrier-grade NAT or an office network;
- codes sent (sign-up, verification, resend, phone sign-in) are spent before the send, per
  destination (SMS pumping is billed per message), per account and per IP;
- sign-ups are spent per IP.

Spending takes a transaction-level advisory lock per key, so concurrent requests cannot both
take the last unit of a budget.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import TooManyRequests
from core.settings import Settings
from domain.accounts.models import RateEvent

# Rows older than this are never counted (the longest window is shorter); each spend removes a
# few of them, so the table stays the size of the windows in use.
KEEP = timedelta(days=1)
PRUNE_BATCH = 100


@dataclass(frozen=True)
class Limit:
    name: str  # part of every key: "fail:ip", "send:destination", ...
    max_events: int
    window: timedelta
    refusal: str  # what the 429 says

    def on(self, key: str) -> Budget:
        return Budget(self, f"{self.name}:{key}")


@dataclass(frozen=True)
class Budget:
    limit: Limit
    key: str


@dataclass(frozen=True)
class Limits:
    """Every limit, from the settings."""

    failures_per_account: Limit
    failures_per_ip: Limit
    codes_per_destination: Limit
    codes_per_account: Limit
    codes_per_ip: Limit
    signups_per_ip: Limit

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        failures = timedelta(seconds=settings.auth_failure_window_seconds)
        codes = timedelta(seconds=settings.code_window_seconds)
        signups = timedelta(seconds=settings.signup_window_seconds)
        too_many_failures = "too many failed attempts"
        return cls(
            failures_per_account=Limit(
                "fail:account", settings.auth_max_failures_per_account, failures, too_many_failures
            ),
            failures_per_ip=Limit(
                "fail:ip", settings.auth_max_failures_per_ip, failures, too_many_failures
            ),
            codes_per_destination=Limit(
                "send:destination",
                settings.codes_per_destination,
                codes,
                "too many codes were sent to this address",
            ),
            codes_per_account=Limit(
                "send:account",
                settings.codes_per_account,
                codes,
                "too many codes were sent for this account",
            ),
            codes_per_ip=Limit(
                "send:ip", settings.codes_per_ip, codes, "too many codes were asked for from here"
            ),
            signups_per_ip=Limit(
                "signup:ip", settings.signups_per_ip, signups, "too many sign-ups from here"
            ),
        )


async def ensure_allowed(db: AsyncSession, budgets: Sequence[Budget]) -> None:
    """TooManyRequests (with the refusal of the first budget used up) when any is used up."""
    now = utcnow()
    for budget in budgets:
        limit = budget.limit
        count, oldest = (
            await db.execute(
                select(func.count(), func.min(RateEvent.created_at)).where(
                    RateEvent.key == budget.key, RateEvent.created_at > now - limit.window
                )
            )
        ).one()
        if count >= limit.max_events:
            retry_after = math.ceil((oldest + limit.window - now).total_seconds())
            raise TooManyRequests(
                f"{limit.refusal}; try again in {_duration(retry_after)}", retry_after=retry_after
            )


async def record(db: AsyncSession, budgets: Sequence[Budget]) -> None:
    """Count one event against each budget (the caller commits)."""
    now = utcnow()
    for budget in budgets:
        await db.execute(
            delete(RateEvent).where(
                RateEvent.key == budget.key, RateEvent.created_at <= now - budget.limit.window
            )
        )
    stale = select(RateEvent.id).where(RateEvent.created_at < now - KEEP).limit(PRUNE_BATCH)
    await db.execute(delete(RateEvent).where(RateEvent.id.in_(stale.scalar_subquery())))
    db.add_all([RateEvent(key=budget.key, created_at=now) for budget in budgets])
    await db.flush()


async def spend(db: AsyncSession, budgets: Sequence[Budget]) -> None:
    """Check and count at once, under a lock per key held until the caller's commit: of two
    requests racing for a budget's last unit, one gets it and the other the 429."""
    for key in sorted({budget.key for budget in budgets}):
        await db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_id(key)})
    await ensure_allowed(db, budgets)
    await record(db, budgets)


def _lock_id(key: str) -> int:
    # A stable 63-bit id of the key (advisory locks take a bigint); collisions only serialise.
    return zlib.crc32(key.encode()) << 31 | zlib.adler32(key.encode()) >> 1


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} s"
    return f"{math.ceil(seconds / 60)} min"
