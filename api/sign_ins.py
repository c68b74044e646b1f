"""The ways in to an account, shared by the token routes (`/auth/*`, for native apps and scripts)
and the customer app's cookie routes (`/auth/app/*`): sign-up, a code sent to a phone, Firebase.
Each opens a session and commits; the route decides how the tokens travel."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client as Temporal

from api import verifications
from core.errors import Conflict, NotFound
from core.settings import Settings
from domain.accounts import service as accounts
from domain.accounts.auth import Authenticator, Client
from domain.accounts.models import User
from domain.accounts.schemas import FirebaseIn, PhoneLoginIn, RegisterIn, TokenPair
from domain.contracts import Channel, VerificationPurpose, VerificationState, VerificationStatus
from domain.identity import FirebaseTokenError


async def register(
    body: RegisterIn,
    *,
    db: AsyncSession,
    auth: Authenticator,
    client: Client,
    temporal: Temporal,
    settings: Settings,
) -> tuple[User, TokenPair, VerificationState]:
    """A new customer account, signed in; a verification code goes to the email (or phone)."""
    destination = body.email or body.phone
    assert destination is not None  # RegisterIn requires one
    # Spent whether or not the account can be made: sign-up attempts are what is limited.
    await auth.spend(
        db,
        [
            *auth.signup_budgets(client),
            *auth.code_budgets(client, destination=destination, account=None),
        ],
    )
    user = await accounts.create_user(
        db,
        email=body.email,
        phone=body.phone,
        name=body.name,
        password_hash=await auth.hash_password(body.password),
    )
    tokens = await auth.start_session(db, user, client)
    await db.commit()
    channel = Channel.email if user.email else Channel.phone
    state = await verifications.start(
        temporal,
        settings,
        user_id=user.id,
        channel=channel,
        destination=user.email if channel == Channel.email else user.phone,  # type: ignore[arg-type]
        purpose=VerificationPurpose.verify,
    )
    return user, tokens, state


async def phone_code(
    body: PhoneLoginIn,
    *,
    db: AsyncSession,
    auth: Authenticator,
    client: Client,
    temporal: Temporal,
    settings: Settings,
) -> tuple[User, TokenPair]:
    """Signed in by the phone number and the code sent to it (`/auth/phone/start`)."""
    keys = auth.failure_budgets(client, body.phone)
    await auth.ensure_allowed(db, keys)
    user = await accounts.find_by_identifier(db, identifier=body.phone)
    if user is None or not user.is_active:
        raise await auth.fail(db, keys, "wrong phone number or code")
    try:
        check = await verifications.submit_code(
            temporal,
            settings,
            user_id=user.id,
            channel=Channel.phone,
            purpose=VerificationPurpose.login,
            code=body.code,
        )
    except Conflict as exc:
        raise await auth.fail(db, keys, f"wrong phone number or code ({exc.detail})") from exc
    if not check.verified:
        detail = "wrong phone number or code"
        if check.status == VerificationStatus.locked:
            what = verifications.what_works(VerificationPurpose.login, Channel.phone)
            detail += f"; too many wrong codes for this one: {what}"
        raise await auth.fail(db, keys, detail)
    await db.refresh(user)
    tokens = await auth.start_session(db, user, client)
    await db.commit()
    return user, tokens


async def firebase(
    body: FirebaseIn, *, db: AsyncSession, auth: Authenticator, client: Client
) -> tuple[User, TokenPair]:
    """Signed in by a Firebase ID token (Google, Apple, phone... in the app), the account linked
    by the email or phone that Firebase verified."""
    verifier = auth.firebase
    if verifier is None:
        # Off on this server for good, not for a while: not found, like a webhook of a payment
        # provider that is not in use (a 503 would have clients retry).
        raise NotFound("Firebase sign-in is not enabled on this server")
    keys = auth.failure_budgets(client, "firebase")[1:]  # the IP's: no account is named yet
    await auth.ensure_allowed(db, keys)
    try:
        identity = await verifier.verify(body.id_token)
    except FirebaseTokenError as exc:
        raise await auth.fail(db, keys, f"Firebase ID token is not valid: {exc}") from exc
    user = await auth.firebase_user(db, identity)
    tokens = await auth.start_session(db, user, client)
    await db.commit()
    return user, tokens
