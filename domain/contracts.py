"""What crosses the Temporal boundary: search attributes, workflow ids, and the inputs and outputs
of workflows and activities.

The API, the workflows and the activities all import from here (and never from each other), so a
change to a payload is made in one place and is visible to every side.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from temporalio.common import SearchAttributeKey

from domain.payments import PaymentSession, PaymentStatus

# --- search attributes ------------------------------------------------------------------------
# Registered on the dev server by `make run` and the tests, and by the setup job in
# docker-compose.yml. An operator filters on them in the Web UI, e.g. `CustomerId = "..."`.
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
SUBSCRIPTION_ID = SearchAttributeKey.for_keyword("SubscriptionId")
PLAN_ID = SearchAttributeKey.for_keyword("PlanId")
REQUEST_STATUS = SearchAttributeKey.for_keyword("RequestStatus")
TECHNICIAN_ID = SearchAttributeKey.for_keyword("TechnicianId")
FLOW_STATUS = SearchAttributeKey.for_keyword("FlowStatus")
# When a subscription's last paid period ends: `SubscriptionEndsAt < "2027-01-01T00:00:00Z"`.
SUBSCRIPTION_ENDS_AT = SearchAttributeKey.for_datetime("SubscriptionEndsAt")
# Service requests: `RequestEscalated = true`, `RequestOverdue = true`, `RequestId = "..."`.
REQUEST_ID = SearchAttributeKey.for_keyword("RequestId")
REQUEST_ESCALATED = SearchAttributeKey.for_bool("RequestEscalated")
REQUEST_OVERDUE = SearchAttributeKey.for_bool("RequestOverdue")

SEARCH_ATTRIBUTES: tuple[SearchAttributeKey, ...] = (
    CUSTOMER_ID,
    ORDER_ID,
    SUBSCRIPTION_ID,
    PLAN_ID,
    REQUEST_STATUS,
    TECHNICIAN_ID,
    FLOW_STATUS,
    SUBSCRIPTION_ENDS_AT,
    REQUEST_ID,
    REQUEST_ESCALATED,
    REQUEST_OVERDUE,
)

DEFAULT_TASK_QUEUE = "homeplans"


class Contract(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- account verification ---------------------------------------------------------------------


class Channel(StrEnum):
    email = "email"
    phone = "phone"


class VerificationPurpose(StrEnum):
    verify = "verify"  # prove a contact on the account is the user's
    login = "login"  # sign in with phone + code


class VerificationStatus(StrEnum):
    pending = "pending"
    verified = "verified"
    expired = "expired"
    locked = "locked"  # too many wrong codes
    failed = "failed"  # the code could not be delivered


def verification_workflow_id(
    purpose: VerificationPurpose, user_id: uuid.UUID, channel: Channel
) -> str:
    return f"account-verification:{purpose.value}:{user_id}:{channel.value}"


class VerificationStart(Contract):
    user_id: uuid.UUID
    channel: Channel
    destination: str
    purpose: VerificationPurpose
    ttl_seconds: int
    max_attempts: int
    resend_cooldown_seconds: int
    max_resends: int


class VerificationState(Contract):
    status: VerificationStatus
    channel: Channel
    attempts_left: int
    resends_left: int
    codes_sent: int
    expires_at: datetime | None
    resend_available_at: datetime | None


class CodeSubmission(Contract):
    # HMAC of the code (see domain.accounts.otp), never the code itself, so history holds no codes.
    digest: str


class CodeCheck(Contract):
    verified: bool
    status: VerificationStatus
    attempts_left: int


class SendCodeInput(Contract):
    challenge_id: uuid.UUID
    code_number: int
    user_id: uuid.UUID
    channel: Channel
    destination: str
    purpose: VerificationPurpose
    ttl_seconds: int


class SentCode(Contract):
    digest: str


class MarkVerifiedInput(Contract):
    user_id: uuid.UUID
    channel: Channel
    destination: str
    verified_at: datetime


class MarkVerifiedResult(Contract):
    # False when the account's contact changed since the code was sent: nothing was marked.
    marked: bool


# --- checkout ---------------------------------------------------------------------------------


def checkout_workflow_id(order_id: uuid.UUID) -> str:
    return f"checkout:{order_id}"


def late_payment_workflow_id(order_id: uuid.UUID) -> str:
    return f"late-payment:{order_id}"


def refund_workflow_id(refund_id: uuid.UUID) -> str:
    return f"refund:{refund_id}"


class CheckoutStatus(StrEnum):
    creating_session = "creating_session"
    awaiting_payment = "awaiting_payment"
    settling = "settling"
    completed = "completed"
    failed = "failed"
    expired = "expired"


class CheckoutInput(Contract):
    order_id: uuid.UUID
    user_id: uuid.UUID
    # How long the customer has to pay, and how often the provider is asked when no webhook or
    # client confirmation arrives (the reconciler).
    timeout_seconds: int
    reconcile_every_seconds: int


class PaymentNudge(Contract):
    """Something says the payment may have moved: a verified webhook, the client's confirmation
    or the sandbox page. The workflow never trusts it: it asks the provider."""

    source: str  # webhook:stripe, webhook:razorpay, client, sandbox
    event_id: str | None = None


class CheckoutState(Contract):
    order_id: uuid.UUID
    status: CheckoutStatus
    payment_state: str | None
    failure_reason: str | None
    receipt_number: int | None
    subscription_ids: list[uuid.UUID]
    expires_at: datetime | None
    # The provider's payment session (what the app pays with), once created; None in an answer
    # read from the database after the checkout ended.
    payment: PaymentSession | None = None


class OrderRef(Contract):
    order_id: uuid.UUID


class OrderOutcome(Contract):
    order_id: uuid.UUID
    reason: str | None = None


class SettleInput(Contract):
    order_id: uuid.UUID
    payment: PaymentStatus


class Settlement(Contract):
    order_id: uuid.UUID
    receipt_number: int
    subscription_ids: list[uuid.UUID]


class RefundInput(Contract):
    refund_id: uuid.UUID
    order_id: uuid.UUID
    user_id: uuid.UUID
