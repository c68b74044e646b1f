"""The sandbox payment provider: the embedded default, no account and no network needed.

A session is a `sandbox_payments` row. The customer (or a developer) opens its `approve_url`, the
API's sandbox page, and approves or declines it; that page calls `approve` / `decline` below with
the session's client secret, which, as with Stripe's `client_secret`, only the payer was given.
No money moves and nothing leaves the machine. The rules mirror a real provider where it matters to
the checkout: creating is idempotent by key, a decided payment never flips, cancelling a payment
that was approved just before reports `succeeded`, and refunds never exceed what was paid.

Saved methods and renewals. An approved session reports a saved card (brand `sandbox`, last4
`4242`) whose token, `sbx_pm_` + random hex, is made with the session. `charge_saved_method`
charges such a token off-session as a new row, decided at once: succeeded, unless the token says
otherwise, so tests and developers can drive failures (a customer can save any of these through
`POST /me/payment-methods`): `sbx_pm_decline...` is declined, `sbx_pm_auth...` fails as a bank
asking the customer to authenticate would.

The sandbox sends no webhooks: after approving or declining, the page tells the checkout workflow
(as a webhook would), and the workflow asks `fetch_payment` as it does with any provider.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict, NotFound
from domain.payments import (
    AUTHENTICATION_REQUIRED_REASON,
    InvalidSignature,
    PaymentRequest,
    PaymentSession,
    PaymentState,
    PaymentStatus,
    ProviderDeclined,
    ProviderName,
    RecurringCharge,
    RefundResult,
    SavedMethod,
    WebhookEvent,
)
from providers.payments.sandbox_models import SandboxPayment, SandboxRefund

SESSION_ID = re.compile(r"^sbx_[A-Za-z0-9_-]{24}$")
DEFAULT_DECLINE_REASON = "Declined in the payment sandbox"
NO_SUCH_PAYMENT = "No such sandbox payment"
METHOD_PREFIX = "sbx_pm_"
# Saved-method tokens that make an off-session charge fail, for tests and developers.
DECLINE_METHOD_PREFIX = METHOD_PREFIX + "decline"
AUTH_METHOD_PREFIX = METHOD_PREFIX + "auth"
BANK_DECLINE_REASON = "Declined by the sandbox bank"
CURRENCY = re.compile(r"^[A-Z]{3}$")


def new_id(prefix: str) -> str:
    """`prefix` + 24 URL-safe random characters (144 bits)."""
    return prefix + secrets.token_urlsafe(18)


def new_method_token() -> str:
    """A saved sandbox method: `sbx_pm_` + 24 hex digits (96 bits). Hex, so a token made here can
    never start like the magic `sbx_pm_decline` / `sbx_pm_auth` ones (`i`, `l`, `n`, `t`, `u`, `h`
    are no hex digits) and fail a customer's renewals by chance."""
    return METHOD_PREFIX + secrets.token_hex(12)


def _decide(token: str) -> tuple[PaymentState, str | None]:
    """What the sandbox bank answers to an off-session charge of this saved method."""
    if token.startswith(DECLINE_METHOD_PREFIX):
        return PaymentState.failed, BANK_DECLINE_REASON
    if token.startswith(AUTH_METHOD_PREFIX):
        return PaymentState.failed, AUTHENTICATION_REQUIRED_REASON
    return PaymentState.succeeded, None


def payment_status(row: SandboxPayment) -> PaymentStatus:
    succeeded = row.status == PaymentState.succeeded
    saved = None
    if succeeded and row.saved_method_id is not None:
        saved = SavedMethod(
            provider_customer_id=None,  # the sandbox keeps no customers
            provider_method_id=row.saved_method_id,
            kind="card",
            brand="sandbox",
            last4="4242",
        )
    return PaymentStatus(
        provider_ref=row.id,
        state=PaymentState(row.status),
        amount_minor=row.amount_minor,
        currency=row.currency,
        payment_id=row.id if succeeded else None,
        method="sandbox" if succeeded else None,
        failure_reason=row.failure_reason,
        saved_method=saved,
    )


async def get_payment(db: AsyncSession, session_id: str) -> SandboxPayment | None:
    """The session, for the sandbox page to show what is being paid (None if unknown)."""
    if not SESSION_ID.match(session_id):
        return None
    return await db.get(SandboxPayment, session_id)


async def _locked(db: AsyncSession, session_id: str) -> SandboxPayment:
    row = None
    if SESSION_ID.match(session_id):
        row = (
            await db.execute(
                select(SandboxPayment)
                .where(SandboxPayment.id == session_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()
    if row is None:
        raise NotFound(NO_SUCH_PAYMENT)
    return row


async def _locked_for_payer(
    db: AsyncSession, session_id: str, client_secret: str
) -> SandboxPayment:
    row = await _locked(db, session_id)
    # Before the state is looked at, so a wrong secret is never told the payment was decided.
    # 404 rather than 403, word for word the answer to an unknown id: the refusal tells whoever
    # tries nothing (the API answers for another customer's order the same way). Bytes, since
    # compare_digest refuses a str that is not ASCII.
    if not hmac.compare_digest(row.client_secret.encode(), client_secret.encode()):
        raise NotFound(NO_SUCH_PAYMENT)
    return row


async def approve(db: AsyncSession, session_id: str, *, client_secret: str) -> PaymentStatus:
    """Approve a pending session (the customer "pays") for the holder of its client secret.
    Approving it again changes nothing; a declined or cancelled session is refused with Conflict.
    A wrong secret is NotFound, as an unknown session is. The caller commits."""
    row = await _locked_for_payer(db, session_id, client_secret)
    if row.status == PaymentState.pending:
        row.status = PaymentState.succeeded
        row.failure_reason = None
        await db.flush()
    elif row.status == PaymentState.failed:
        raise Conflict("This payment was declined; it cannot be approved any more")
    elif row.status == PaymentState.cancelled:
        raise Conflict("This payment was cancelled (the order expired); it cannot be paid")
    return payment_status(row)


async def decline(
    db: AsyncSession, session_id: str, reason: str | None = None, *, client_secret: str
) -> PaymentStatus:
    """Decline a pending session with a reason the customer will see, for the holder of its client
    secret. Declining it again changes nothing; an approved or cancelled session is refused with
    Conflict. A wrong secret is NotFound, as an unknown session is. The caller commits."""
    row = await _locked_for_payer(db, session_id, client_secret)
    if row.status == PaymentState.pending:
        row.status = PaymentState.failed
        row.failure_reason = (reason or "").strip()[:500] or DEFAULT_DECLINE_REASON
        await db.flush()
    elif row.status == PaymentState.succeeded:
        raise Conflict("This payment was approved; it cannot be declined any more")
    elif row.status == PaymentState.cancelled:
        raise Conflict("This payment was cancelled (the order expired)")
    return payment_status(row)


class SandboxProvider:
    name: ProviderName = "sandbox"

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, public_base_url: str) -> None:
        self._sessions = sessions
        self._base_url = public_base_url.rstrip("/")

    def _session(self, row: SandboxPayment) -> PaymentSession:
        # The secret rides in the fragment, which a browser keeps to itself: it never reaches an
        # access log or a Referer, and the page's script hands it to the form it posts.
        fragment = urlencode({"client_secret": row.client_secret})
        return PaymentSession(
            provider=self.name,
            provider_ref=row.id,
            amount_minor=row.amount_minor,
            currency=row.currency,
            client_secret=row.client_secret,
            approve_url=f"{self._base_url}/api/v1/sandbox/payments/{row.id}#{fragment}",
        )

    async def create_session(
        self, request: PaymentRequest, *, idempotency_key: str
    ) -> PaymentSession:
        currency = request.currency.upper()
        session_id = new_id("sbx_")
        async with self._sessions() as db:
            await db.execute(
                insert(SandboxPayment)
                .values(
                    id=session_id,
                    reference=request.reference,
                    description=request.description,
                    amount_minor=request.amount_minor,
                    currency=currency,
                    status=PaymentState.pending.value,
                    idempotency_key=idempotency_key,
                    # Stripe's shape, `{id}_secret_{random}`; a retry reads back the first one.
                    client_secret=f"{session_id}_secret_{secrets.token_urlsafe(24)}",
                    saved_method_id=new_method_token() if request.save_method else None,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            row = (
                await db.execute(
                    select(SandboxPayment).where(SandboxPayment.idempotency_key == idempotency_key)
                )
            ).scalar_one()
            await db.commit()
        if (row.reference, row.amount_minor, row.currency) != (
            request.reference,
            request.amount_minor,
            currency,
        ):
            # What Stripe answers to a reused key with other parameters: a bug, never retried.
            raise ProviderDeclined(
                "idempotency key already used for a different payment "
                f"({row.reference}, {row.amount_minor} {row.currency})"
            )
        return self._session(row)

    async def fetch_payment(self, provider_ref: str) -> PaymentStatus:
        async with self._sessions() as db:
            row = await get_payment(db, provider_ref)
        if row is None:
            raise ProviderDeclined(f"no sandbox payment {provider_ref!r}")
        return payment_status(row)

    async def cancel_session(self, provider_ref: str, *, idempotency_key: str) -> PaymentStatus:
        """Pending -> cancelled. Anything decided stays as it is: `succeeded` if the customer
        approved just before (the caller treats it as paid), `failed` if it was declined."""
        async with self._sessions() as db:
            try:
                row = await _locked(db, provider_ref)
            except NotFound as exc:
                raise ProviderDeclined(f"no sandbox payment {provider_ref!r}") from exc
            if row.status == PaymentState.pending:
                row.status = PaymentState.cancelled
            status = payment_status(row)
            await db.commit()
        return status

    async def charge_saved_method(
        self, charge: RecurringCharge, *, idempotency_key: str
    ) -> PaymentStatus:
        """A new row, decided at once by the method's token (see the module's note); the same key
        again answers with that row. Only `sbx_pm_` tokens are sandbox methods."""
        token = charge.provider_method_id
        currency = charge.currency.upper()
        if not token.startswith(METHOD_PREFIX):
            raise ProviderDeclined(f"no sandbox payment method {token!r}")
        if not CURRENCY.match(currency):
            raise ProviderDeclined(f"{charge.currency!r} is not a currency code")
        state, reason = _decide(token)
        payment_id = new_id("sbx_")
        async with self._sessions() as db:
            await db.execute(
                insert(SandboxPayment)
                .values(
                    id=payment_id,
                    reference=charge.reference,
                    description=charge.description,
                    amount_minor=charge.amount_minor,
                    currency=currency,
                    status=state.value,
                    failure_reason=reason,
                    idempotency_key=idempotency_key,
                    # Nobody is handed it: a decided payment cannot be approved or declined on the
                    # page anyway. The column is required of every payment.
                    client_secret=f"{payment_id}_secret_{secrets.token_urlsafe(24)}",
                    charged_method_id=token,
                )
                .on_conflict_do_nothing(index_elements=["idempotency_key"])
            )
            row = (
                await db.execute(
                    select(SandboxPayment).where(SandboxPayment.idempotency_key == idempotency_key)
                )
            ).scalar_one()
            await db.commit()
        if (row.reference, row.amount_minor, row.currency, row.charged_method_id) != (
            charge.reference,
            charge.amount_minor,
            currency,
            token,
        ):
            raise ProviderDeclined(
                "idempotency key already used for a different payment "
                f"({row.reference}, {row.amount_minor} {row.currency})"
            )
        return payment_status(row)

    async def refund(
        self,
        payment_id: str,
        *,
        amount_minor: int,
        currency: str,
        idempotency_key: str,
        reason: str | None = None,
    ) -> RefundResult:
        if amount_minor <= 0:
            raise ProviderDeclined("a refund amount must be positive")
        async with self._sessions() as db:
            try:
                # The lock serialises refunds of one payment, so two cannot both pass the check
                # of what is left.
                payment = await _locked(db, payment_id)
            except NotFound as exc:
                raise ProviderDeclined(f"no sandbox payment {payment_id!r}") from exc
            existing = (
                await db.execute(
                    select(SandboxRefund).where(SandboxRefund.idempotency_key == idempotency_key)
                )
            ).scalar_one_or_none()
            if existing is not None:  # a retry: answer with the first attempt's refund
                if (existing.payment_id, existing.amount_minor) != (payment_id, amount_minor):
                    raise ProviderDeclined(
                        "idempotency key already used for a different refund "
                        f"({existing.payment_id}, {existing.amount_minor})"
                    )
                return RefundResult(
                    provider_refund_id=existing.id,
                    amount_minor=existing.amount_minor,
                    status="succeeded",
                )
            if payment.status != PaymentState.succeeded:
                raise ProviderDeclined(f"payment {payment_id} was not paid; nothing to refund")
            if currency.upper() != payment.currency:
                raise ProviderDeclined(
                    f"payment {payment_id} was made in {payment.currency}, not {currency.upper()}"
                )
            refunded = (
                await db.execute(
                    select(func.coalesce(func.sum(SandboxRefund.amount_minor), 0)).where(
                        SandboxRefund.payment_id == payment_id
                    )
                )
            ).scalar_one()
            left = payment.amount_minor - int(refunded)
            if amount_minor > left:
                raise ProviderDeclined(
                    f"refund of {amount_minor} exceeds the {left} {payment.currency} left to refund"
                )
            refund_id = new_id("sbxre_")
            db.add(
                SandboxRefund(
                    id=refund_id,
                    payment_id=payment_id,
                    amount_minor=amount_minor,
                    idempotency_key=idempotency_key,
                )
            )
            await db.commit()
        return RefundResult(
            provider_refund_id=refund_id, amount_minor=amount_minor, status="succeeded"
        )

    async def ensure_customer(
        self, user_id: str, email: str | None, *, idempotency_key: str
    ) -> str | None:
        """The sandbox keeps no customers: its saved methods stand alone."""
        return None

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        raise InvalidSignature("the payment sandbox sends no webhooks")

    def verify_client_confirmation(self, provider_ref: str, payload: Mapping[str, Any]) -> str:
        """The sandbox signs nothing: the confirmation only has to name this session. Whether it
        exists and was approved is what the caller's `fetch_payment` then says (this method is
        synchronous and cannot read the database)."""
        named = payload.get("session_id", provider_ref)
        if not SESSION_ID.match(provider_ref) or named != provider_ref:
            raise InvalidSignature("the confirmation does not name this sandbox payment")
        return provider_ref
