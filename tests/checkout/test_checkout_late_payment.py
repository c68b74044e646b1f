"""A Razorpay order still accepts a payment after our checkout gave up on it (expired). When
that payment's webhook arrives, the money is not left unaccounted: a LatePaymentWorkflow asks
Razorpay and settles the order after all."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment

from domain.contracts import (
    CheckoutState,
    CheckoutStatus,
    checkout_workflow_id,
    late_payment_workflow_id,
)
from domain.subscriptions.models import Subscription
from tests.support.checkout_helpers import checkout, shop_with_cart, wait_for_order
from tests.support.fakes.razorpay_server import FakeRazorpay

# The API and worker here take payments through Razorpay (its local fake).
pytestmark = pytest.mark.payments("razorpay")


async def test_a_payment_after_expiry_settles_the_order_after_all(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    razorpay_fake: FakeRazorpay,
    time_skipping_env: WorkflowEnvironment,
) -> None:
    buyer, _ = await shop_with_cart(skipping_api, db)
    body = (await checkout(skipping_api, buyer)).json()
    order_id, rzp_order = body["order"]["id"], body["payment"]["provider_ref"]
    client = time_skipping_env.client
    expired = await client.get_workflow_handle(
        checkout_workflow_id(uuid.UUID(order_id)), result_type=CheckoutState
    ).result()
    assert expired.status == CheckoutStatus.expired
    await wait_for_order(skipping_api, buyer, order_id, {"expired"})

    # The customer pays on Razorpay's still-open order; its webhook arrives.
    payment_id = razorpay_fake.pay(rzp_order, "upi")
    webhook_body, headers = razorpay_fake.webhook("payment.captured", payment_id=payment_id)
    delivered = await skipping_api.post("/webhooks/razorpay", content=webhook_body, headers=headers)
    assert delivered.status_code == 200, delivered.text

    late = client.get_workflow_handle(late_payment_workflow_id(uuid.UUID(order_id)))
    assert await late.result() == "succeeded"
    # In the Web UI: what it is, the order's number, the contact masked.
    summary = await (await late.describe()).static_summary() or ""
    assert summary.startswith("Late payment O-") and "…@…" in summary, summary
    assert "example.com" not in summary
    order = await wait_for_order(skipping_api, buyer, order_id, {"completed"})
    assert order["receipt_number"] is not None
    subs = (
        await db.execute(
            select(func.count())
            .select_from(Subscription)
            .where(Subscription.order_id == uuid.UUID(order_id))
        )
    ).scalar_one()
    assert subs == 1
