"""Sign-up, sign-in (password, phone code, Firebase), token refresh, logout, verification."""

from __future__ import annotations

from fastapi import APIRouter, status

from api import sign_ins, verifications
from api.deps import (
    AuthDep,
    ClientDep,
    CurrentUser,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
)
from api.problems import problems
from core.errors import Conflict
from domain.accounts import service as accounts
from domain.accounts.schemas import (
    CodeIn,
    FirebaseIn,
    LoginIn,
    PhoneLoginIn,
    PhoneStartIn,
    RefreshIn,
    RegisteredOut,
    RegisterIn,
    TokenPair,
    UserOut,
    VerificationOut,
)
from domain.contracts import Channel, VerificationPurpose, VerificationState, VerificationStatus

router = APIRouter(prefix="/auth", tags=["auth"])


def _verification_out(state: VerificationState) -> VerificationOut:
    return VerificationOut.model_validate(state.model_dump())


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=RegisteredOut,
    responses=problems(409, 429),
)
async def register(
    body: RegisterIn,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> RegisteredOut:
    """Create a customer account; a verification code goes to the email (or phone) given."""
    user, tokens, state = await sign_ins.register(
        body, db=db, auth=auth, client=client, temporal=temporal, settings=settings
    )
    return RegisteredOut(
        user=UserOut.model_validate(user), tokens=tokens, verification=_verification_out(state)
    )


@router.post("/login", response_model=TokenPair, responses=problems(401, 429))
async def login(body: LoginIn, db: SessionDep, auth: AuthDep, client: ClientDep) -> TokenPair:
    """Sign in with email or phone and password."""
    tokens = await auth.login(db, identifier=body.identifier, password=body.password, client=client)
    await db.commit()
    return tokens


@router.post("/refresh", response_model=TokenPair, responses=problems(401))
async def refresh(body: RefreshIn, db: SessionDep, auth: AuthDep) -> TokenPair:
    """Exchange a refresh token for a new pair; the old refresh token stops working."""
    tokens = await auth.refresh(db, token=body.refresh_token)
    await db.commit()
    return tokens


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: PrincipalDep, db: SessionDep) -> None:
    """End this session: its refresh token and access tokens stop working at once."""
    await accounts.revoke_session(db, session=principal.session, reason="logout")
    await db.commit()


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT, responses=problems(401))
async def logout_all(user: CurrentUser, db: SessionDep) -> None:
    """Sign out everywhere: every session of this account ends at once (every phone, every
    browser, this one too)."""
    await accounts.revoke_all_sessions(db, user_id=user.id, reason="signed out everywhere")
    await db.commit()


@router.post(
    "/verification/{channel}",
    response_model=VerificationOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(409, 429),
)
async def start_verification(
    channel: Channel,
    user: CurrentUser,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> VerificationOut:
    """Send a code to the account's email or phone (or return the pending verification)."""
    destination = user.email if channel == Channel.email else user.phone
    if destination is None:
        raise Conflict(f"the account has no {channel.value} to verify")
    if user.email_verified if channel == Channel.email else user.phone_verified:
        raise Conflict(f"the {channel.value} is already verified")
    budgets = auth.code_budgets(client, destination=destination, account=str(user.id))
    async with auth.spending(db, budgets):
        state = await verifications.start(
            temporal,
            settings,
            user_id=user.id,
            channel=channel,
            destination=destination,
            purpose=VerificationPurpose.verify,
        )
    return _verification_out(state)


@router.post(
    "/verification/{channel}/resend",
    response_model=VerificationOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=problems(409, 429),
)
async def resend_verification(
    channel: Channel,
    user: CurrentUser,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    temporal: TemporalDep,
) -> VerificationOut:
    """Send a new code (after the cooldown); the previous code stops working."""
    destination = (user.email if channel == Channel.email else user.phone) or ""
    budgets = auth.code_budgets(client, destination=destination, account=str(user.id))
    async with auth.spending(db, budgets):  # a refused resend (cooldown) costs nothing
        state = await verifications.resend(
            temporal, user_id=user.id, channel=channel, purpose=VerificationPurpose.verify
        )
    return _verification_out(state)


@router.post(
    "/verification/{channel}/confirm", response_model=UserOut, responses=problems(400, 409, 429)
)
async def confirm_verification(
    channel: Channel,
    body: CodeIn,
    user: CurrentUser,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> UserOut:
    """Submit the code that was sent; the contact is marked verified."""
    keys = auth.failure_budgets(client, str(user.id))
    await auth.ensure_allowed(db, keys)
    check = await verifications.submit_code(
        temporal,
        settings,
        user_id=user.id,
        channel=channel,
        purpose=VerificationPurpose.verify,
        code=body.code,
    )
    if not check.verified:
        await auth.fail(db, keys, "wrong code")
        raise _wrong_code(check.status, check.attempts_left, channel)
    await db.refresh(user)
    return UserOut.model_validate(user)


@router.post("/phone/start", status_code=status.HTTP_202_ACCEPTED, responses=problems(429))
async def phone_start(
    body: PhoneStartIn,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> dict[str, str]:
    """Send a sign-in code by SMS. The answer is the same whether or not the number has an
    account (the limits count both alike), so this cannot find out who is registered."""
    async with auth.spending(db, auth.code_budgets(client, destination=body.phone, account=None)):
        user = await accounts.find_by_identifier(db, identifier=body.phone)
        if user is not None and user.is_active:
            await verifications.start(
                temporal,
                settings,
                user_id=user.id,
                channel=Channel.phone,
                destination=body.phone,
                purpose=VerificationPurpose.login,
            )
    return {"detail": "if this number has an account, a sign-in code is on its way"}


@router.post("/phone/verify", response_model=TokenPair, responses=problems(401, 429))
async def phone_verify(
    body: PhoneLoginIn,
    db: SessionDep,
    auth: AuthDep,
    client: ClientDep,
    temporal: TemporalDep,
    settings: SettingsDep,
) -> TokenPair:
    """Sign in with the phone number and the code sent to it."""
    _, tokens = await sign_ins.phone_code(
        body, db=db, auth=auth, client=client, temporal=temporal, settings=settings
    )
    return tokens


@router.post("/firebase", response_model=TokenPair, responses=problems(401, 403, 404, 409, 429))
async def firebase_exchange(
    body: FirebaseIn, db: SessionDep, auth: AuthDep, client: ClientDep
) -> TokenPair:
    """Exchange a Firebase ID token (Google, Apple, phone... sign-in in the app) for our tokens.
    The account is linked by the email or phone that Firebase verified."""
    _, tokens = await sign_ins.firebase(body, db=db, auth=auth, client=client)
    return tokens


def _wrong_code(state: VerificationStatus, attempts_left: int, channel: Channel) -> Exception:
    if state == VerificationStatus.locked:
        what = verifications.what_works(VerificationPurpose.verify, channel)
        return Conflict(f"too many wrong codes; this code no longer works: {what}")
    return _WrongCode(attempts_left)


class _WrongCode(Conflict):
    status = 400
    title = "Wrong code"

    def __init__(self, attempts_left: int) -> None:
        attempts = "1 attempt" if attempts_left == 1 else f"{attempts_left} attempts"
        super().__init__(f"wrong code; {attempts} left")
