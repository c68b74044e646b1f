"""An unpaid checkout expires after its real 30 minutes (time skipped on the dev server), the
provider session is cancelled, and asking the provider along the way never charged anything."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment

from core.settings import Settings
from domain.contracts import CheckoutState, CheckoutStatus, checkout_workflow_id
from providers.payments.sandbox_models import SandboxPayment
from tests.support.checkout_helpers import checkout, shop_with_cart, wait_for_order


async def test_an_unpaid_order_expires_after_thirty_minutes(
    skipping_api: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    time_skipping_env: WorkflowEnvironment,
) -> None:
    assert settings.checkout_timeout_seconds == 1800
    buyer, _ = await shop_with_cart(skipping_api, db)
    body: dict[str, Any] = (await checkout(skipping_api, buyer)).json()
    order_id, ref = body["order"]["id"], body["payment"]["provider_ref"]

    handle = time_skipping_env.client.get_workflow_handle(
        checkout_workflow_id(uuid.UUID(order_id)), result_type=CheckoutState
    )
    result = await handle.result()
    assert result.status == CheckoutStatus.expired
    # It waited the whole half hour of workflow time before giving up.
    history = await handle.fetch_history()
    events = list(history.events)
    started = events[0].event_time.ToDatetime()
    ended = events[-1].event_time.ToDatetime()
    assert (ended - started).total_seconds() >= 1800

    order = await wait_for_order(skipping_api, buyer, order_id, {"expired"})
    assert order["failure_reason"] is None or "time" in order["failure_reason"]
    session = (
        await db.execute(select(SandboxPayment).where(SandboxPayment.id == ref))
    ).scalar_one()
    assert session.status == "cancelled"
    cart = (await skipping_api.get("/cart", headers=buyer.headers)).json()
    assert len(cart["items"]) == 1
    # The app asking afterwards gets the outcome (from the database: the workflow has closed).
    progress = await skipping_api.get(f"/orders/{order_id}/checkout", headers=buyer.headers)
    assert progress.status_code == 200
    assert progress.json()["status"] == "expired"
    assert progress.json()["failure_reason"] == "the payment was not completed in time"
    confirmed = await skipping_api.post(
        f"/orders/{order_id}/confirm", headers=buyer.headers, json={"session_id": ref}
    )
    assert confirmed.status_code == 409
    assert "expired" in confirmed.json()["detail"]
