"""Tables of the accounts domain: users, their sign-in identities, sessions, addresses and saved
payment methods."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, Timestamps, UUIDPk


class Role(enum.StrEnum):
    customer = "customer"
    technician = "technician"  # sees and works only their own jobs
    support = "support"
    admin = "admin"


class User(UUIDPk, Timestamps, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('customer', 'technician', 'support', 'admin')", name="role_known"
        ),
    )

    name: Mapped[str | None] = mapped_column(String(200))
    # Stored normalised (lower-case email, E.164 phone) so uniqueness means what people expect.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    email_verified_at: Mapped[datetime | None]
    phone_verified_at: Mapped[datetime | None]
    # None for accounts that only ever signed in through Firebase.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(
        String(16), default=Role.customer.value, server_default=Role.customer.value
    )
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))

    addresses: Mapped[list[Address]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Address.created_at"
    )

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def phone_verified(self) -> bool:
        return self.phone_verified_at is not None


class Identity(UUIDPk, Base):
    """An external sign-in (Firebase uid) linked to one of our users."""

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("provider", "subject"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AuthSession(UUIDPk, Base):
    """One signed-in device: a family of rotating refresh tokens. Access tokens carry its id
    (`sid`), so revoking the session ends its access tokens at once too."""

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    last_used_at: Mapped[datetime] = mapped_column(server_default=func.now())
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    ip: Mapped[str | None] = mapped_column(String(64))


class RefreshToken(UUIDPk, Base):
    __tablename__ = "refresh_tokens"

    session_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the token: a leaked table does not give anyone a usable token.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    # Set when the token was exchanged for its successor; presenting it again is reuse.
    replaced_at: Mapped[datetime | None]


class Address(UUIDPk, Timestamps, Base):
    __tablename__ = "addresses"
    __table_args__ = (
        # At most one default address per user, enforced by the database.
        Index(
            "uq_addresses_one_default", "user_id", unique=True, postgresql_where=text("is_default")
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str | None] = mapped_column(String(60))
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    is_default: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    user: Mapped[User] = relationship(back_populates="addresses")


class PaymentMethod(UUIDPk, Base):
    """A payment method saved at a provider. Only the provider's tokens and display hints are
    kept; card numbers never reach this system."""

    __tablename__ = "payment_methods"
    __table_args__ = (
        UniqueConstraint("provider", "provider_method_id"),
        CheckConstraint("provider IN ('sandbox', 'stripe', 'razorpay')", name="provider_known"),
        Index(
            "uq_payment_methods_one_default",
            "user_id",
            unique=True,
            postgresql_where=text("is_default"),
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(16))
    provider_customer_id: Mapped[str | None] = mapped_column(String(100))
    provider_method_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # card, upi, wallet, netbanking
    brand: Mapped[str | None] = mapped_column(String(32))
    last4: Mapped[str | None] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(SmallInteger)
    exp_year: Mapped[int | None] = mapped_column(SmallInteger)
    is_default: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class ProviderCustomer(UUIDPk, Base):
    """The user's customer record at a payment provider (Stripe `cus_...`, Razorpay `cust_...`),
    made once and kept: saved methods and renewals are charged against it."""

    __tablename__ = "provider_customers"
    __table_args__ = (UniqueConstraint("user_id", "provider"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class RateEvent(Base):
    """One event counted against a rate limit: a failed sign-in or code attempt, a code sent, a
    sign-up; per key (`fail:ip:...`, `send:destination:...`) over a sliding window (see
    `domain.accounts.throttle`). Kept in PostgreSQL so every API replica sees the same count."""

    __tablename__ = "rate_events"
    __table_args__ = (
        Index("ix_rate_events_key_at", "key", "created_at"),
        Index("ix_rate_events_created_at", "created_at"),  # pruning old events
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
