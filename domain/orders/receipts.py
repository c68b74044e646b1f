"""The receipt document: a self-contained HTML page (no template engine, no external assets).

Every value that came from a person (plan names, addresses, the customer's name) is escaped; the
template itself holds no user text. Amounts are formatted from integer minor units.
"""

from __future__ import annotations

import uuid
from html import escape
from string import Template

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from domain import timefmt
from domain.money import format_money
from domain.notifications.contracts import Send, To
from domain.notifications.service import Notifier
from domain.orders.cart import address_line
from domain.orders.models import Order, Receipt
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
<p>Issued: <time datetime="$issued_iso">$issued</time><br>
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
</body>
</html>
""")


def render_receipt(order: Order, receipt: Receipt) -> str:
    """The receipt of a paid order as an HTML page."""
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
    issued = timefmt.local(receipt.issued_at)  # the business's zone, as the receipt says
    return _PAGE.substitute(
        number=_e(receipt.number),
        issued_iso=_e(issued.isoformat()),
        issued=_e(timefmt.moment(receipt.issued_at)),
        order_id=_e(order.id),
        provider=_e(order.provider),
        payment_id=f" ({_e(order.provider_payment_id)})" if order.provider_payment_id else "",
        billed_to=billed_to or "&mdash;",
        items=items,
        breakdown=breakdown,
        subtotal=money(receipt.subtotal_minor),
        tax=money(receipt.tax_minor),
        total=money(receipt.total_minor),
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
    return render_receipt(order, receipt)


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
