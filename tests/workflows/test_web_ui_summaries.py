"""What ops read in the Temporal Web UI: every workflow says what it is in business terms (its
static summary on the list page, its details on the detail page), never with a whole email, and
every timer says what it waits for. Through the real paths: the API starts the workflows on the
real dev server, and `describe()` and the history are what the Web UI shows."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import Client, WorkflowHandle

from domain import timefmt
from domain.campaigns.contracts import campaign_workflow_id
from domain.contracts import (
    Channel,
    VerificationPurpose,
    checkout_workflow_id,
    refund_workflow_id,
    verification_workflow_id,
)
from domain.money import format_money
from domain.orders.models import Order, OrderItem
from domain.service_requests.contracts import service_request_workflow_id
from tests.conftest import register
from tests.support import campaign_helpers as campaigns
from tests.support.catalog_helpers import make_admin
from tests.support.request_helpers import HOME_ZONE, asked, shop
from tests.support.subscription_helpers import buy_plan, running
from tests.support.waiting import eventually

EMAIL = "asha.rao@example.com"


async def _label(handle: WorkflowHandle[Any, Any]) -> tuple[str, str]:
    described = await handle.describe()
    return (await described.static_summary() or "", await described.static_details() or "")


async def _timer_summaries(client: Client, handle: WorkflowHandle[Any, Any]) -> list[str]:
    """The summary of every timer the workflow's history has started ('' for none)."""
    convert = client.data_converter.payload_converter
    found = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            meta = event.user_metadata
            has = event.HasField("user_metadata") and meta.HasField("summary")
            found.append(convert.from_payload(meta.summary, str) if has else "")
    return found


async def _timers(client: Client, handle: WorkflowHandle[Any, Any]) -> list[str]:
    """Its timers' summaries, once it has started one."""
    return await eventually(
        lambda: _timer_summaries(client, handle), bool, "a timer in the workflow's history"
    )


async def _current_details(handle: WorkflowHandle[Any, Any]) -> str:
    """What the Web UI's detail page shows as current details (asked of the running worker)."""
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return str(metadata.current_details)


def _no_contact(*texts: str) -> None:
    for text in texts:
        assert EMAIL not in text and "example.com" not in text, text


async def test_a_purchase_and_its_subscription_read_like_the_business(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    bought = await buy_plan(api, db, EMAIL)
    order_id = uuid.UUID(bought.order_id)
    order = await db.get(Order, order_id)
    assert order is not None
    (plan,) = (
        await db.scalars(select(OrderItem.plan_name).where(OrderItem.order_id == order_id))
    ).all()
    money = format_money(order.total_minor, order.currency)

    checkout = temporal.get_workflow_handle(checkout_workflow_id(order_id))
    summary, details = await _label(checkout)
    assert summary == f"{plan} · {money} · as…@…"
    assert f"O-{order.number}" in details and money in details
    assert f"/admin/payments/{order_id}" in details
    _no_contact(summary, details)
    timers = await _timers(temporal, checkout)
    assert all(timers), timers
    assert all(t.startswith("payment deadline ") and t.endswith(" IST") for t in timers), timers

    subscription = await running(temporal, bought.subscription_id)  # started after the order
    summary, details = await _label(subscription)
    assert summary.startswith(f"{plan} · as…@… · until ")
    assert f"Subscription to {plan}" in details and str(bought.subscription_id) in details
    _no_contact(summary, details)
    timers = await _timers(temporal, subscription)
    assert all(timers), timers
    assert any(t.startswith("renewal reminder due ") and t.endswith(" IST") for t in timers)
    # Its current details (the detail page): the state now, and the label it started with, which
    # its memo carries to the runs of the later periods (they have no static summary).
    assert await (await subscription.describe()).memo_value("summary") == summary
    now = await _current_details(subscription)
    assert now.startswith("**Now:** active · period 1 ends ") and f"Subscription to {plan}" in now
    _no_contact(now)


async def test_a_service_request_reads_like_the_business(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    s = await shop(api, db, EMAIL)
    request = await asked(api, s)
    start = datetime.fromisoformat(request["window_start"])
    end = datetime.fromisoformat(request["window_end"])

    handle = temporal.get_workflow_handle(service_request_workflow_id(uuid.UUID(request["id"])))
    summary, details = await _label(handle)
    # The window as the business reads it: in its zone, labelled (IST), not in UTC.
    window = timefmt.window(start, end, "Asia/Kolkata")
    assert "IST" in window
    assert summary == f"Plumbing visit · {HOME_ZONE} · window {window}"
    assert "Asha R." in details or "as…@…" in details
    assert f"/admin/requests/{request['id']}" in details
    _no_contact(summary, details)
    timers = await _timers(temporal, handle)
    assert all(timers), timers
    assert timers[0].startswith("waiting for a technician (SLA ")


async def test_a_refund_reads_like_the_business(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    bought = await buy_plan(api, db, EMAIL)
    refunded = await api.post(
        f"/admin/orders/{bought.order_id}/refunds",
        json={"amount_minor": 10000, "reason": "goodwill"},
        headers={**bought.admin, "Idempotency-Key": "refund-goodwill-1"},
    )
    assert refunded.status_code in (200, 201, 202), refunded.text
    handle = temporal.get_workflow_handle(refund_workflow_id(uuid.UUID(refunded.json()["id"])))
    summary, details = await _label(handle)
    assert summary.startswith(f"Refund {format_money(10000, 'INR')} · O-")
    assert "goodwill" in details
    _no_contact(summary, details)


async def test_a_verification_a_campaign_and_its_test_send_read_like_the_business(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    # Registering sends a code to the email: its workflow names the channel, the address masked.
    body = await register(api, EMAIL, name="Asha Rao")
    user_id = uuid.UUID(body["user"]["id"])
    verification = temporal.get_workflow_handle(
        verification_workflow_id(VerificationPurpose.verify, user_id, Channel.email)
    )
    summary, details = await _label(verification)
    assert summary == "Verify email · as…@…"
    _no_contact(summary, details)
    timers = await _timers(temporal, verification)
    assert all(t.startswith("verification code expires ") for t in timers), timers

    admin = await make_admin(api, db)
    campaign = await campaigns.create(api, admin)
    tested = await api.post(
        f"/admin/campaigns/{campaign['id']}/test",
        headers={**admin, "Idempotency-Key": "test-send-1"},
    )
    assert tested.status_code == 202, tested.text
    summary, details = await _label(temporal.get_workflow_handle(tested.json()["workflow_id"]))
    assert summary == f"Test send of “{campaigns.OFFER['title']}” · to ad…@…"
    _no_contact(summary, details)

    await campaigns.start(api, admin, campaign["id"])
    handle = temporal.get_workflow_handle(campaign_workflow_id(uuid.UUID(campaign["id"])))
    summary, details = await _label(handle)
    assert summary == f"Campaign “{campaigns.OFFER['title']}” · audience: every customer"
    assert "/admin/campaigns" in details
