"""Signing in: passwords, token pairs, refresh rotation, password change, Firebase exchange.

The `Authenticator` holds what sign-in needs (hasher, token signer, limits, the Firebase verifier
the composition root hands it) and is built once per process; every method takes the request's DB
session first.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import Conflict, Forbidden, Unauthorized
from core.security import AccessTokens, Passwords
from core.settings import Settings
from domain.accounts import service as accounts
from domain.accounts import throttle
from domain.accounts.models import Identity, Role, User
from domain.accounts.schemas import TokenPair
from domain.accounts.throttle import Budget
from domain.identity import FirebaseIdentity, IdentityVerifier
from domain.types import normalize_email, normalize_phone


@dataclass(frozen=True)
class Client:
    ip: str | None
    user_agent: str | None


class Authenticator:
    def __init__(self, settings: Settings, *, firebase: IdentityVerifier | None = None) -> None:
        self.passwords = Passwords(settings)
        self.tokens = AccessTokens(settings)
        self._refresh_ttl = timedelta(days=settings.refresh_token_ttl_days)
        self.limits = throttle.Limits.from_settings(settings)
        # Firebase sign-in: the verifier the composition root built (None: off on this server).
        self.firebase = firebase

    # --- throttling (see domain.accounts.throttle) ---------------------------------------------

    def failure_budgets(self, client: Client, account: str) -> list[Budget]:
        """What a failed sign-in or code attempt on `account` from `client` counts against."""
        return [
            self.limits.failures_per_account.on(account),
            self.limits.failures_per_ip.on(client.ip or "unknown"),
        ]

    def code_budgets(
        self, client: Client, *, destination: str, account: str | None
    ) -> list[Budget]:
        """What sending a code to `destination` (for `account`, if known) costs."""
        budgets = [
            self.limits.codes_per_destination.on(destination),
            self.limits.codes_per_ip.on(client.ip or "unknown"),
        ]
        if account is not None:
            budgets.append(self.limits.codes_per_account.on(account))
        return budgets

    def signup_budgets(self, client: Client) -> list[Budget]:
        return [self.limits.signups_per_ip.on(client.ip or "unknown")]

    async def ensure_allowed(self, db: AsyncSession, budgets: list[Budget]) -> None:
        await throttle.ensure_allowed(db, budgets)

    async def fail(self, db: AsyncSession, budgets: list[Budget], detail: str) -> Unauthorized:
        """Count a failure (committed, whatever happens to the request) and return the error."""
        await throttle.record(db, budgets)
        await db.commit()
        return Unauthorized(detail)

    async def spend(self, db: AsyncSession, budgets: list[Budget]) -> None:
        """Take one unit of each budget, or TooManyRequests; committed at once: what is spent
        stays spent, whatever happens next (sign-ups)."""
        await throttle.spend(db, budgets)
        await db.commit()

    @asynccontextmanager
    async def spending(self, db: AsyncSession, budgets: list[Budget]) -> AsyncIterator[None]:
        """Take one unit of each budget for what the block does (send a code), or
        TooManyRequests before it runs. Committed when the block succeeds; a block that is
        refused (a resend during its cooldown) costs nothing. The budgets' keys stay locked
        while it runs, so concurrent requests take their units one after the other."""
        await throttle.spend(db, budgets)
        try:
            yield
        except BaseException:
            await db.rollback()
            raise
        await db.commit()

    # --- tokens -------------------------------------------------------------------------------

    async def hash_password(self, password: str) -> str:
        return await self.passwords.hash_async(password)

    async def start_session(self, db: AsyncSession, user: User, client: Client) -> TokenPair:
        session, refresh = await accounts.open_session(
            db, user=user, ttl=self._refresh_ttl, user_agent=client.user_agent, ip=client.ip
        )
        return self._pair(user, session.id, refresh)

    def _pair(self, user: User, session_id: uuid.UUID, refresh: str) -> TokenPair:
        access = self.tokens.issue(user_id=user.id, session_id=session_id, role=user.role)
        return TokenPair(
            access_token=access,
            refresh_token=refresh,
            expires_in=int(self.tokens.ttl.total_seconds()),
        )

    async def login(
        self, db: AsyncSession, *, identifier: str, password: str, client: Client
    ) -> TokenPair:
        _user, tokens = await self.sign_in(
            db, identifier=identifier, password=password, client=client
        )
        return tokens

    async def sign_in(
        self,
        db: AsyncSession,
        *,
        identifier: str,
        password: str,
        client: Client,
        roles: Collection[Role] | None = None,
    ) -> tuple[User, TokenPair]:
        """Check the password (throttled) and open a session: the user and their tokens. With
        `roles`, an account of another role is refused (Forbidden) before any session opens."""
        account = normalize_email(identifier) if "@" in identifier else _phone_or_raw(identifier)
        keys = self.failure_budgets(client, account)
        await self.ensure_allowed(db, keys)
        user = await accounts.find_by_identifier(db, identifier=account)
        # Always run one argon2 verification, so unknown accounts cost the same time.
        ok = await self.passwords.verify_async(user.password_hash if user else None, password)
        if not ok or user is None or not user.is_active:
            raise await self.fail(db, keys, "wrong email, phone or password")
        assert user.password_hash is not None
        if roles is not None and user.role not in roles:
            raise Forbidden(_refusal(roles))
        if self.passwords.needs_rehash(user.password_hash):
            user.password_hash = await self.hash_password(password)
        return user, await self.start_session(db, user, client)

    async def refresh(self, db: AsyncSession, *, token: str) -> TokenPair:
        _user, tokens = await self.rotate(db, token=token)
        return tokens

    async def rotate(
        self, db: AsyncSession, *, token: str, roles: Collection[Role] | None = None
    ) -> tuple[User, TokenPair]:
        """Exchange a refresh token for a new pair (see `accounts.rotate_refresh`: a reused one
        revokes its session). With `roles`, a user no longer of one of them (demoted since they
        signed in) is refused, and the session ends."""
        user, session, new_token = await accounts.rotate_refresh(
            db, token=token, ttl=self._refresh_ttl
        )
        if roles is not None and user.role not in roles:
            await accounts.revoke_session(db, session=session, reason="role_changed")
            await db.commit()  # the session ends even though the request fails
            raise Forbidden(_refusal(roles))
        return user, self._pair(user, session.id, new_token)

    async def change_password(
        self, db: AsyncSession, *, user: User, current: str, new: str, client: Client
    ) -> TokenPair:
        keys = self.failure_budgets(client, str(user.id))
        await self.ensure_allowed(db, keys)
        ok = await self.passwords.verify_async(user.password_hash, current)
        if not ok:
            raise await self.fail(db, keys, "current password is wrong")
        user.password_hash = await self.hash_password(new)
        # Every session ends (a stolen token included); this device gets a fresh one.
        await accounts.revoke_all_sessions(db, user_id=user.id, reason="password_changed")
        return await self.start_session(db, user, client)

    # --- Firebase -----------------------------------------------------------------------------

    async def firebase_user(self, db: AsyncSession, identity: FirebaseIdentity) -> User:
        """The user this Firebase identity signs in as: linked before, or linked now by a contact
        that Firebase verified, or created. Only verified contacts ever link or create."""
        user = await accounts.find_by_identity(db, provider="firebase", subject=identity.uid)
        now = utcnow()
        if user is None and identity.email and identity.email_verified:
            user = await accounts.find_by_identifier(db, identifier=identity.email)
            if user is not None and user.email_verified_at is None:
                await self._claim(db, user, other_proof=user.phone_verified_at is not None)
                user.email_verified_at = now
        if user is None and identity.phone:  # Firebase phone numbers are verified by SMS
            user = await accounts.find_by_identifier(db, identifier=identity.phone)
            if user is not None and user.phone_verified_at is None:
                await self._claim(db, user, other_proof=user.email_verified_at is not None)
                user.phone_verified_at = now
        if user is None:
            email = identity.email if identity.email_verified else None
            if email is None and identity.phone is None:
                if (
                    identity.email
                    and await accounts.find_by_identifier(db, identifier=identity.email) is not None
                ):
                    raise Conflict(
                        "an account with this email exists; sign in with your password "
                        "to link it, or verify the email with your sign-in provider"
                    )
                # Anonymous or unverified sign-ins would make accounts nobody can reach or
                # recover, and an unverified email would squat its owner's address.
                raise Forbidden("sign in with a provider that verifies your email or phone")
            user = await accounts.create_user(
                db,
                email=email,
                phone=identity.phone,
                password_hash=None,
                name=identity.name,
                email_verified_at=now if email else None,
                phone_verified_at=now if identity.phone else None,
            )
        if not user.is_active:
            raise Forbidden("account is disabled")
        await accounts.link_identity(db, user=user, provider="firebase", subject=identity.uid)
        return user

    async def _claim(self, db: AsyncSession, user: User, *, other_proof: bool) -> None:
        """The owner of a contact, just proven by Firebase, takes over an account that nobody
        had proven: whoever created it (password, sessions, other Firebase sign-ins) is out.
        An account proven by its other contact belongs to someone else: refuse to link."""
        if other_proof:
            raise Conflict(
                "an account with this email or phone exists but it is not verified; sign in "
                "to that account and verify it to link your sign-in provider"
            )
        user.password_hash = None
        await accounts.revoke_all_sessions(db, user_id=user.id, reason="contact_claimed")
        await db.execute(delete(Identity).where(Identity.user_id == user.id))


def _refusal(roles: Collection[Role]) -> str:
    allowed = " or ".join(sorted(Role(r).value for r in roles))
    return f"this sign-in is for {allowed} accounts only; other accounts sign in to the app"


def _phone_or_raw(identifier: str) -> str:
    try:
        return normalize_phone(identifier)
    except ValueError:
        return identifier.strip()
