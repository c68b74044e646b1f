"""A refund shows on the order it gave money back from: the customer's order (and their list of
orders) and the receipt list it with its amount, dates and status once the provider has answered,
whether it came from cancelling the plan or from an admin; the customer reads where it came from,
never the staff's note; another customer sees nothing of it. Real API, real workflows on a real
Temporal server, the sandbox payment provider.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from html.parser import HTMLParser
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from domain.orders import refunds
from domain.payments import RefundResult
from tests.support.orders_helpers import Customer, customer
from tests.support.subscription_helpers import Bought, buy_plan, running

PAID = 299_900  # the test plan "Home Care": 2,999.00 INR, tax included
CANCELLED = "Home Care cancelled"
FROM_SUPPORT = "Refund from our support team"
NO_TIME = "\u2014"  # the receipt's dash for a time not there (yet)


async def _order_once_refunds_settle(
    api: httpx.AsyncClient, who: Customer, order_id: str, count: int = 1
) -> dict[str, Any]:
    """The order as the app reads it, once it lists `count` refunds and none is pending any
    more (the provider answers through RefundWorkflow); bounded."""
    order: dict[str, Any] = {}
    for _ in range(400):
        answer = await api.get(f"/orders/{order_id}", headers=who.headers)
        assert answer.status_code == 200, answer.text
        order = answer.json()
        listed = order.get("refunds", [])
        if len(listed) == count and all(r["status"] != "pending" for r in listed):
            return order
        await asyncio.sleep(0.05)
    raise AssertionError(f"the refunds of order {order_id} never settled: {order}")


class _Rows(HTMLParser):
    """The text of every table row of an HTML page, cell by cell."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


async def _receipt_rows(api: httpx.AsyncClient, who: dict[str, str], url: str) -> list[list[str]]:
    answer = await api.get(url, headers=who)
    assert answer.status_code == 200, answer.text
    parser = _Rows()
    parser.feed(answer.text)
    return parser.rows


def _refund_rows(rows: list[list[str]]) -> list[list[str]]:
    """The receipt's refund rows: (asked for, reason, status, settled, amount)."""
    start = rows.index(["Asked for", "Reason", "Status", "Settled", "Amount"])
    return [row for row in rows[start + 1 :] if len(row) == 5]


async def _cancel_with_quote(api: httpx.AsyncClient, bought: Bought) -> dict[str, Any]:
    sid, who = bought.subscription_id, bought.buyer
    quote = await api.post(f"/subscriptions/{sid}/cancellation-quote", headers=who.headers)
    assert quote.status_code == 200, quote.text
    assert quote.json()["refund_minor"] == PAID  # within 7 days, no visit used
    cancelled = await api.post(
        f"/subscriptions/{sid}/cancel",
        json={"quote_id": quote.json()["quote_id"], "reason": "moving house"},
        headers=who.headers,
    )
    assert cancelled.status_code == 200, cancelled.text
    body: dict[str, Any] = cancelled.json()
    return body


async def test_a_cancellation_refund_shows_on_the_order_and_the_receipt_of_its_customer_only(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    bought = await buy_plan(api, db)
    who, order_id = bought.buyer, bought.order_id
    await running(temporal, bought.subscription_id)
    before = (await api.get(f"/orders/{order_id}", headers=who.headers)).json()
    assert (before["refunds"], before["refunded_minor"], before["net_paid_minor"]) == ([], 0, PAID)

    outcome = await _cancel_with_quote(api, bought)
    (made,) = outcome["refunds"]

    order = await _order_once_refunds_settle(api, who, order_id)
    (refund,) = order["refunds"]
    assert refund["id"] == made["refund_id"]
    assert (refund["amount_minor"], refund["currency"]) == (PAID, "INR")
    assert (refund["status"], refund["reason"]) == ("succeeded", CANCELLED)
    asked, settled = (datetime.fromisoformat(refund[k]) for k in ("requested_at", "settled_at"))
    assert asked.tzinfo is not None and asked <= settled
    assert (order["refunded_minor"], order["net_paid_minor"]) == (PAID, 0)

    # The list of orders says the same.
    (listed,) = (await api.get("/orders", headers=who.headers)).json()["items"]
    assert listed["refunds"] == order["refunds"]
    assert listed["refunded_minor"] == PAID

    # The receipt, printed now, lists the refund and what stays paid.
    rows = await _receipt_rows(api, who.headers, f"/orders/{order_id}/receipt")
    ((asked_at, reason, status, settled_at, amount),) = _refund_rows(rows)
    assert (reason, status, amount) == (CANCELLED, "Refunded", "2,999.00 INR")
    assert NO_TIME not in (asked_at, settled_at) and asked_at and settled_at
    assert ["Refunded", "2,999.00 INR"] in rows
    assert ["Paid less refunds", "0.00 INR"] in rows

    # Staff see the same refund, with what the customer is told.
    admin = (await api.get(f"/admin/orders/{order_id}", headers=bought.admin)).json()
    (staff_view,) = admin["refunds"]
    assert (staff_view["id"], staff_view["status"]) == (made["refund_id"], "succeeded")
    assert staff_view["customer_reason"] == CANCELLED
    assert (admin["refunded_minor"], admin["net_paid_minor"]) == (PAID, 0)

    # Another customer learns nothing of it: not the order, not the receipt, not in their list.
    ravi = await customer(api, "ravi@example.com")
    for url in (f"/orders/{order_id}", f"/orders/{order_id}/receipt"):
        assert (await api.get(url, headers=ravi.headers)).status_code == 404
    assert (await api.get("/orders", headers=ravi.headers)).json()["items"] == []


async def test_a_staff_cancellation_refund_shows_without_the_staff_reason(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    bought = await buy_plan(api, db)
    await running(temporal, bought.subscription_id)
    cancelled = await api.post(
        f"/admin/subscriptions/{bought.subscription_id}/cancel",
        json={"reason": "fraudulent signup", "refund": "policy"},
        headers=bought.admin,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["refund_minor"] == PAID

    order = await _order_once_refunds_settle(api, bought.buyer, bought.order_id)
    (refund,) = order["refunds"]
    assert (refund["reason"], refund["status"], refund["amount_minor"]) == (
        CANCELLED,
        "succeeded",
        PAID,
    )
    receipt = await api.get(f"/orders/{bought.order_id}/receipt", headers=bought.buyer.headers)
    for seen in (str(order), receipt.text):
        assert "fraudulent" not in seen


async def test_an_admin_refund_shows_on_the_order_and_the_receipt_without_the_staff_note(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    bought = await buy_plan(api, db)
    who, order_id = bought.buyer, bought.order_id
    note = "goodwill; customer was rude on the phone"
    asked = await api.post(
        f"/admin/orders/{order_id}/refunds",
        json={"amount_minor": 100_000, "reason": note},
        headers={**bought.admin, "Idempotency-Key": f"refund-{uuid.uuid4()}"},
    )
    assert asked.status_code == 202, asked.text

    order = await _order_once_refunds_settle(api, who, order_id)
    (refund,) = order["refunds"]
    assert refund["id"] == asked.json()["id"]
    assert (refund["amount_minor"], refund["currency"], refund["status"]) == (
        100_000,
        "INR",
        "succeeded",
    )
    assert refund["reason"] == FROM_SUPPORT
    assert refund["settled_at"] is not None
    assert (order["refunded_minor"], order["net_paid_minor"]) == (100_000, PAID - 100_000)

    rows = await _receipt_rows(api, who.headers, f"/orders/{order_id}/receipt")
    ((_, reason, status, _, amount),) = _refund_rows(rows)
    assert (reason, status, amount) == (FROM_SUPPORT, "Refunded", "1,000.00 INR")
    assert ["Paid less refunds", "1,999.00 INR"] in rows
    receipt = await api.get(f"/orders/{order_id}/receipt", headers=who.headers)
    for seen in (str(order), receipt.text):
        assert "rude" not in seen

    # Staff keep their note, and see what the customer is told; their copy of the receipt too.
    admin = (await api.get(f"/admin/orders/{order_id}", headers=bought.admin)).json()
    (staff_view,) = admin["refunds"]
    assert (staff_view["reason"], staff_view["customer_reason"]) == (note, FROM_SUPPORT)
    staff_rows = await _receipt_rows(api, bought.admin, f"/admin/orders/{order_id}/receipt")
    assert _refund_rows(staff_rows) == _refund_rows(rows)


async def test_a_refund_still_pending_or_refused_shows_so_and_is_not_counted(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    bought = await buy_plan(api, db)
    who = bought.buyer
    order_id = uuid.UUID(bought.order_id)
    # Recorded as the admin route records them, without sending them to the provider: one the
    # provider then refuses, one it has not answered yet.
    refused = await refunds.request_refund(
        db, order_id=order_id, amount_minor=50_000, reason="first try", actor_id=None
    )
    await refunds.record_refund_result(
        db,
        refund_id=refused.id,
        result=RefundResult(provider_refund_id="rf_x", amount_minor=50_000, status="failed"),
    )
    await db.commit()  # asked for one after the other
    await refunds.request_refund(
        db, order_id=order_id, amount_minor=20_000, reason="second try", actor_id=None
    )
    await db.commit()

    order = (await api.get(f"/orders/{order_id}", headers=who.headers)).json()
    assert [(r["amount_minor"], r["status"]) for r in order["refunds"]] == [
        (50_000, "failed"),
        (20_000, "pending"),
    ]
    assert order["refunds"][0]["settled_at"] is not None
    assert order["refunds"][1]["settled_at"] is None
    assert (order["refunded_minor"], order["net_paid_minor"]) == (0, PAID)

    rows = await _receipt_rows(api, who.headers, f"/orders/{order_id}/receipt")
    (failed, pending) = _refund_rows(rows)
    assert failed[2:] == ["Refused by the payment provider", failed[3], "500.00 INR"]
    assert failed[3] != NO_TIME
    assert pending[2:] == ["In progress", NO_TIME, "200.00 INR"]
    assert ["Paid less refunds", "2,999.00 INR"] in rows
