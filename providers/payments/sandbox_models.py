"""Tables of the sandbox payment provider (the embedded default, no account needed).

A `sandbox_payments` row is one payment: a session, created by `create_session`, approved or
declined on the sandbox page by whoever holds its client secret, cancelled by the checkout's expiry;
or an off-session charge of a saved sandbox method (`charge_saved_method`, an automatic renewal),
decided as it is created. Its id is the opaque `provider_ref` the app and the API see. Refunds of
an approved payment are `sandbox_refunds` rows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Timestamps

SANDBOX_STATUSES = ("pending", "succeeded", "failed", "cancelled")


class SandboxPayment(Timestamps, Base):
    __tablename__ = "sandbox_payments"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'succeeded', 'failed', 'cancelled')", name="status_known"
        ),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
    )

    # `sbx_` + 24 URL-safe random characters: unguessable, though it is no credential: it is in
    # the page's URL (access logs, history), and that page shows what is being paid.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), index=True)  # our order id
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    # The caller's key: a retried `create_session` finds this row instead of making another.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    # What approving or declining takes, handed only to the payer (Stripe's `client_secret`).
    # Kept as it is, not hashed: a retried `create_session` has to give the same one back, as
    # Stripe does, and it guards test payments only.
    client_secret: Mapped[str] = mapped_column(String(100))
    # A session: the method token it saves for renewals once approved (made with the session, so
    # a retried `create_session` or a second `fetch_payment` reports the same one; None when the
    # request asked not to save). An off-session charge: None.
    saved_method_id: Mapped[str | None] = mapped_column(String(100))
    # An off-session charge: the saved method token it debited. A session: None.
    charged_method_id: Mapped[str | None] = mapped_column(String(100))


class SandboxRefund(Base):
    __tablename__ = "sandbox_refunds"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_id: Mapped[str] = mapped_column(
        ForeignKey("sandbox_payments.id", ondelete="CASCADE"), index=True
    )
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
