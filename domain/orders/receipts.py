"""The receipt document: a self-contained HTML page (no template engine, no external assets).

Every value that came from a person (plan names, addresses, the customer's name) is escaped; the
template itself holds no user text. Amounts are formatted from integer minor units. The order's
refunds (with their status, as a customer reads it) follow the totals, so a receipt printed after
a refund shows it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from html import escape
from string import Template

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from domain import timefmt
from domain.money import format_money
from domain.notifications.contracts import Send, To
from domain.notifications.service import Notifier
from domain.orders import refund_views
from domain.orders.cart import address_line
from domain.orders.models import Order, Receipt, RefundStatus
from domain.orders.schemas import OrderRefundOut
from domain.orders.service import get_order


def format_rate(bps: int) -> str:
    """`18%` from 1800 basis points, `12.5%` from 1250."""
    whole, rest = divmod(bps, 100)
    return f"{whole}%" if rest == 0 else f"{whole}.{rest:02d}".rstrip("0") + "%"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Receipt $number</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: .4rem; text-align: left; }
td.num, th.num { text-align: right; white-space: nowrap; }
.total td { font-weight: bold; }
</style>
</head>
<body>
<h1>Receipt $number</h1>
<p>Issued: $issued<br>
Order: $order_id<br>
Paid with: $provider$payment_id</p>
<h2>Billed to</h2>
<p>$billed_to</p>
<h2>Items</h2>
<table>
<thead><tr><th>Plan</th><th>Address</th><th>Valid for</th><th class="num">Net</th>
<th class="num">Tax rate</th><th class="num">Tax</th><th class="num">Total</th></tr></thead>
<tbody>
$items
</tbody>
</table>
<h2>Tax breakdown</h2>
<table>
<thead><tr><th class="num">Rate</th><th class="num">Net</th><th class="num">Tax</th>
<th class="num">Total</th></tr></thead>
<tbody>
$breakdown
</tbody>
</table>
<table>
<tbody>
<tr><td>Subtotal (tax excluded)</td><td class="num">$subtotal</td></tr>
<tr><td>Tax</td><td class="num">$tax</td></tr>
<tr class="total"><td>Total paid</td><td class="num">$total</td></tr>
</tbody>
</table>
$refunds</body>
</html>
""")


_REFUNDS = Template("""<h2>Refunds</h2>
<table>
<thead><tr><th>Asked for</th><th>Reason</th><th>Status</th><th>Settled</th>
<th class="num">Amount</th></tr></thead>
<tbody>
$rows
</tbody>
</table>
<table>
<tbody>
<tr><td>Refunded</td><td class="num">$refunded</td></tr>
<tr class="total"><td>Paid less refunds</td><td class="num">$net</td></tr>
</tbody>
</table>
""")

# What a refund's status means to the person holding the receipt.
REFUND_STATUS_WORDS = {
    RefundStatus.pending: "In progress",
    RefundStatus.succeeded: "Refunded",
    RefundStatus.failed: "Refused by the payment provider",
}


def _time(at: datetime | None) -> str:
    """A time on the receipt: in the business's zone with its label, machine-readable beside."""
    if at is None:
        return "&mdash;"
    return f'<time datetime="{_e(timefmt.local(at).isoformat())}">{_e(timefmt.moment(at))}</time>'


def _refunds_section(refunds: Sequence[OrderRefundOut], total_minor: int, currency: str) -> str:
    """The refunds of the order, and what stays paid once the successful ones are taken off;
    nothing when it has none."""
    if not refunds:
        return ""
    rows = "\n".join(
        "<tr>"
        f"<td>{_time(r.requested_at)}</td>"
        f"<td>{_e(r.reason)}</td>"
        f"<td>{_e(REFUND_STATUS_WORDS[r.status])}</td>"
        f"<td>{_time(r.settled_at)}</td>"
        f'<td class="num">{_e(format_money(r.amount_minor, r.currency))}</td>'
        "</tr>"
        for r in refunds
    )
    refunded = sum(r.amount_minor for r in refunds if r.status == RefundStatus.succeeded)
    return _REFUNDS.substitute(
        rows=rows,
        refunded=_e(format_money(refunded, currency)),
        net=_e(format_money(total_minor - refunded, currency)),
    )


def render_receipt(order: Order, receipt: Receipt, refunds: Sequence[OrderRefundOut] = ()) -> str:
    """The receipt of a paid order as an HTML page, with its refunds."""
    currency = receipt.currency

    def money(amount: int) -> str:
        return _e(format_money(amount, currency))

    items = "\n".join(
        "<tr>"
        f"<td>{_e(item.plan_name)}</td>"
        f"<td>{_e(address_line(item.address) or '')}</td>"
        f"<td>{item.validity_days} days</td>"
        f'<td class="num">{money(item.total_minor - item.tax_minor)}</td>'
        f'<td class="num">{_e(format_rate(item.tax_rate_bps))}</td>'
        f'<td class="num">{money(item.tax_minor)}</td>'
        f'<td class="num">{money(item.total_minor)}</td>'
        "</tr>"
        for item in order.items
    )
    breakdown = "\n".join(
        "<tr>"
        f'<td class="num">{_e(format_rate(int(row["rate_bps"])))}</td>'
        f'<td class="num">{money(int(row["net_minor"]))}</td>'
        f'<td class="num">{money(int(row["tax_minor"]))}</td>'
        f'<td class="num">{money(int(row["total_minor"]))}</td>'
        "</tr>"
        for row in receipt.tax_breakdown
    )
    billed = receipt.billed_to
    billed_to = "<br>".join(
        _e(billed[key]) for key in ("name", "email", "phone") if billed.get(key)
    )
    return _PAGE.substitute(
        number=_e(receipt.number),
        issued=_time(receipt.issued_at),
        order_id=_e(order.id),
        provider=_e(order.provider),
        payment_id=f" ({_e(order.provider_payment_id)})" if order.provider_payment_id else "",
        billed_to=billed_to or "&mdash;",
        items=items,
        breakdown=breakdown,
        subtotal=money(receipt.subtotal_minor),
        tax=money(receipt.tax_minor),
        total=money(receipt.total_minor),
        refunds=_refunds_section(refunds, receipt.total_minor, currency),
    )


async def receipt_document(
    db: AsyncSession, *, order_id: uuid.UUID, user_id: uuid.UUID | None
) -> str:
    """The receipt of a paid order as an HTML page; NotFound for another customer's order and
    before payment."""
    order = await get_order(db, order_id=order_id, user_id=user_id)
    receipt = (
        await db.execute(select(Receipt).where(Receipt.order_id == order.id))
    ).scalar_one_or_none()
    if receipt is None:
        raise NotFound("this order has no receipt: it has not been paid")
    refunds = (await refund_views.refunds_of(db, orders=[order]))[order.id]
    return render_receipt(
        order, receipt, [refund_views.customer_refund(r, reason) for r, reason in refunds]
    )


async def send_receipt(notifier: Notifier, *, order: Order, attempt: int = 1) -> None:
    """Tell the buyer their payment arrived, with the link to the receipt; once per order (the
    message key `order:{id}:receipt:<user id>`), however often the settling activity runs. A
    delivery to try again raises DeliveryDeferred: the settling activity is retried, its
    settlement found done."""
    await notifier.send(
        Send(
            kind="order.receipt",
            key=f"order:{order.id}:receipt",
            to=To(user_id=order.user_id),
            refs={"order_id": str(order.id)},
        ),
        attempt=attempt,
    )
