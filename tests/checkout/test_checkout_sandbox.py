"""Buying plans with the embedded sandbox provider: the whole path through the API, the
CheckoutWorkflow and its activities, on a real Temporal server and PostgreSQL."""

from __future__ import annotations

import asyncio
import gc
import uuid
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urldefrag, urljoin

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client

from domain.contracts import checkout_workflow_id
from domain.notifications.models import Message
from domain.orders.models import LedgerEntry
from domain.subscriptions.models import Subscription
from providers.payments.sandbox_models import SandboxPayment
from tests.conftest import count_rows, rows_become
from tests.support.checkout_helpers import (
    buyer_with_cart,
    checkout,
    sandbox_act,
    shop_with_cart,
    wait_for_order,
)


async def test_buying_a_plan_end_to_end(api: httpx.AsyncClient, db: AsyncSession) -> None:
    buyer, plan = await shop_with_cart(api, db)
    started = await checkout(api, buyer)
    assert started.status_code == 201, started.text
    body = started.json()
    order_id = body["order"]["id"]
    assert body["order"]["status"] == "pending_payment"
    assert body["order"]["total_minor"] == 299900
    payment = body["payment"]
    assert payment["provider"] == "sandbox"
    assert payment["amount_minor"] == 299900
    assert payment["client_secret"].startswith(f"{payment['provider_ref']}_secret_")
    assert payment["approve_url"].endswith(
        f"/api/v1/sandbox/payments/{payment['provider_ref']}"
        f"#client_secret={payment['client_secret']}"
    )

    page = await api.get(f"/sandbox/payments/{payment['provider_ref']}")
    assert page.status_code == 200
    assert "2,999.00 INR" in page.text

    approved = await sandbox_act(api, payment)
    assert approved.status_code == 200
    order = await wait_for_order(api, buyer, order_id, {"completed", "failed", "expired"})
    assert order["status"] == "completed"
    assert order["receipt_number"] is not None

    subs = (
        (await db.execute(select(Subscription).where(Subscription.order_id == uuid.UUID(order_id))))
        .scalars()
        .all()
    )
    await db.commit()
    assert len(subs) == 1
    assert subs[0].status == "active"
    assert (subs[0].ends_at - subs[0].starts_at).days == 365
    assert str(subs[0].plan_id) == plan["id"]

    receipt = await api.get(f"/orders/{order_id}/receipt", headers=buyer.headers)
    assert receipt.status_code == 200
    assert f"{order['receipt_number']}" in receipt.text
    assert await rows_become(db, 1, Message, Message.kind == "order.receipt") == 1
    cart = (await api.get("/cart", headers=buyer.headers)).json()
    assert cart["items"] == []
    captured = await count_rows(
        db, LedgerEntry, LedgerEntry.order_id == uuid.UUID(order_id), LedgerEntry.kind == "captured"
    )
    assert captured == 1
    # The sandbox card is kept for automatic renewal, as a real provider's saved card would be.
    methods = (await api.get("/me/payment-methods", headers=buyer.headers)).json()
    assert [
        (m["provider"], m["kind"], m["brand"], m["last4"], m["is_default"]) for m in methods
    ] == [("sandbox", "card", "sandbox", "4242", True)]


async def test_a_declined_payment_fails_the_order_and_keeps_the_cart(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    body = (await checkout(api, buyer)).json()
    await sandbox_act(api, body["payment"], "decline")
    order = await wait_for_order(api, buyer, body["order"]["id"], {"completed", "failed"})
    assert order["status"] == "failed"
    assert "declined" in order["failure_reason"]
    cart = (await api.get("/cart", headers=buyer.headers)).json()
    assert len(cart["items"]) == 1
    assert (await api.get("/me/payment-methods", headers=buyer.headers)).json() == []
    # The declined session cannot be approved afterwards.
    late = await sandbox_act(api, body["payment"])
    assert late.status_code == 409


async def test_ten_concurrent_checkouts_with_one_key_make_one_order_and_one_payment(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    key = f"same-{uuid.uuid4()}"
    answers = await asyncio.gather(*(checkout(api, buyer, key) for _ in range(10)))
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    orders = {a.json()["order"]["id"] for a in answers}
    refs = {a.json()["payment"]["provider_ref"] for a in answers}
    assert len(orders) == 1
    assert len(refs) == 1
    assert await count_rows(db, SandboxPayment) == 1


async def test_the_same_key_with_a_different_body_is_refused(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    cart = (await api.get("/cart", headers=buyer.headers)).json()
    first = await checkout(api, buyer, "key-reused-0001")
    assert first.status_code == 201
    other = await checkout(
        api, buyer, "key-reused-0001", body={"item_ids": [cart["items"][0]["id"]]}
    )
    assert other.status_code == 409
    assert "different request" in other.json()["detail"]


async def test_a_customer_cannot_see_or_pay_another_customers_order(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    buyer, plan = await shop_with_cart(api, db)
    order_id = (await checkout(api, buyer)).json()["order"]["id"]
    intruder = await buyer_with_cart(api, plan, "intruder@example.com")
    for method, url in (
        ("GET", f"/orders/{order_id}"),
        ("GET", f"/orders/{order_id}/checkout"),
        ("GET", f"/orders/{order_id}/receipt"),
        ("POST", f"/orders/{order_id}/confirm"),
    ):
        response = await api.request(
            method, url, headers=intruder.headers, json={} if method == "POST" else None
        )
        assert response.status_code == 404, (url, response.text)


async def test_knowing_the_session_id_is_not_enough_to_approve_or_decline(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    """Another customer, or anyone without a token, who learns the session id (it is in the page's
    URL) can neither pay nor decline the order: that takes the client secret only the payer got
    from `POST /checkout`. Every refusal is the same answer as for a session that does not exist."""
    buyer, plan = await shop_with_cart(api, db)
    body = (await checkout(api, buyer)).json()
    order_id, payment = body["order"]["id"], body["payment"]
    ref = payment["provider_ref"]
    intruder = await buyer_with_cart(api, plan, "intruder@example.com")
    intruders_own = (await checkout(api, intruder)).json()["payment"]
    unknown = await api.post(
        f"/sandbox/payments/sbx_{'a' * 24}/approve", data={"client_secret": "anything"}
    )
    assert unknown.status_code == 404

    for action in ("approve", "decline"):
        for who, data in (
            (intruder.headers, {}),
            ({}, {}),
            ({}, {"client_secret": ""}),
            (intruder.headers, {"client_secret": "wrong"}),
            ({}, {"client_secret": f"{ref}_secret_{'a' * 32}"}),
            ({}, {"client_secret": "s\u00e9cret"}),
            (intruder.headers, {"client_secret": intruders_own["client_secret"]}),
        ):
            refused = await api.post(f"/sandbox/payments/{ref}/{action}", headers=who, data=data)
            assert refused.status_code == 404, (action, data, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.json()["detail"] == unknown.json()["detail"]

    row = (await db.execute(select(SandboxPayment).where(SandboxPayment.id == ref))).scalar_one()
    await db.commit()
    assert row.status == "pending"
    assert (await api.get(f"/orders/{order_id}", headers=buyer.headers)).json()[
        "status"
    ] == "pending_payment"

    approved = await sandbox_act(api, payment)
    assert approved.status_code == 200, approved.text
    assert approved.json()["state"] == "succeeded"
    order = await wait_for_order(api, buyer, order_id, {"completed", "failed", "expired"})
    assert order["status"] == "completed"


class _Forms(HTMLParser):
    """The forms of a page as a browser sees them: action, method and the fields they post."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form":
            self.forms.append({"action": named["action"], "method": named["method"], "fields": {}})
        elif tag == "input" and self.forms and named.get("name") and "disabled" not in named:
            # A disabled field is not posted (the script enables return_to when it has one).
            self.forms[-1]["fields"][named["name"]] = named.get("value") or ""


async def test_the_page_at_the_approve_url_posts_the_client_secret_of_its_link(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    """The secret travels in the link's fragment, which a browser never sends: the page gets the
    bare URL, and its script copies the fragment's secret into the field its forms post."""
    buyer, _ = await shop_with_cart(api, db)
    body = (await checkout(api, buyer)).json()
    order_id, payment = body["order"]["id"], body["payment"]
    url, fragment = urldefrag(payment["approve_url"])
    assert parse_qs(fragment) == {"client_secret": [payment["client_secret"]]}

    page = await api.get(url)
    assert page.status_code == 200, page.text
    assert payment["client_secret"] not in page.text
    assert "location.hash" in page.text
    parser = _Forms()
    parser.feed(page.text)
    forms = {form["action"].rsplit("/", 1)[-1]: form for form in parser.forms}
    assert set(forms) == {"approve", "decline"}
    for form in forms.values():
        assert form["method"].lower() == "post"
        assert form["fields"] == {"client_secret": ""}

    # What the browser posts once the script has filled the field from the fragment.
    approve = forms["approve"]
    posted = await api.post(
        urljoin(url, approve["action"]),
        data={**approve["fields"], **parse_qs(fragment)},
    )
    assert posted.status_code == 200, posted.text
    order = await wait_for_order(api, buyer, order_id, {"completed", "failed", "expired"})
    assert order["status"] == "completed"
    # A decided payment's page offers no buttons any more.
    assert "<form" not in (await api.get(url)).text


async def test_the_page_sends_the_payer_back_to_the_app_page_it_came_from(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    """The app's link carries where to go back to (in its fragment too); only a page of the app
    on this server is allowed, never another site."""
    buyer, _ = await shop_with_cart(api, db)
    body = (await checkout(api, buyer)).json()
    order_id, payment = body["order"]["id"], body["payment"]
    url, _ = urldefrag(payment["approve_url"])
    page = (await api.get(url)).text
    assert 'name="return_to"' in page and 'fragment.get("return_to")' in page
    secret = payment["client_secret"]
    for elsewhere in ("https://evil.example/steal", "//evil.example", "/api/v1/me", "/app/../x"):
        refused = await api.post(
            f"{url}/approve", data={"client_secret": secret, "return_to": elsewhere}
        )
        assert refused.status_code == 422, elsewhere
        assert refused.json()["errors"][0]["field"] == "return_to"
    back = f"/app/orders/{order_id}"
    answered = await api.post(f"{url}/approve", data={"client_secret": secret, "return_to": back})
    assert answered.status_code == 303
    assert answered.headers["location"] == back
    order = await wait_for_order(api, buyer, order_id, {"completed", "failed", "expired"})
    assert order["status"] == "completed"


async def test_page_approval_and_client_confirmation_at_once_activate_once(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    body = (await checkout(api, buyer)).json()
    order_id, ref = body["order"]["id"], body["payment"]["provider_ref"]
    await sandbox_act(api, body["payment"])
    confirmations = await asyncio.gather(
        *(
            api.post(f"/orders/{order_id}/confirm", headers=buyer.headers, json={"session_id": ref})
            for _ in range(3)
        ),
        sandbox_act(api, body["payment"]),
    )
    assert all(c.status_code == 200 for c in confirmations), [c.text for c in confirmations]
    order = await wait_for_order(api, buyer, order_id, {"completed"})
    assert order["status"] == "completed"
    assert await count_rows(db, Subscription, Subscription.order_id == uuid.UUID(order_id)) == 1
    assert await rows_become(db, 1, Message, Message.kind == "order.receipt") == 1


async def test_post_checkout_answers_with_the_live_checkout_and_its_payment_session(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    body = (await checkout(api, buyer)).json()
    state = body["checkout"]
    assert state["status"] == "awaiting_payment"
    assert state["order_id"] == body["order"]["id"]
    assert state["payment"] == body["payment"]
    assert state["expires_at"] is not None
    # The same state the app can ask for later.
    live = await api.get(f"/orders/{body['order']['id']}/checkout", headers=buyer.headers)
    assert live.status_code == 200
    assert live.json()["payment"] == body["payment"]


async def test_after_the_checkout_ended_confirm_and_a_repeated_checkout_answer_its_outcome(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    """A confirmation that arrives after the webhook (here: the sandbox page) completed the order
    gets the outcome, read from the database once the workflow has closed."""
    buyer, _ = await shop_with_cart(api, db)
    key = f"key-{uuid.uuid4()}"
    body = (await checkout(api, buyer, key=key)).json()
    order_id, ref = body["order"]["id"], body["payment"]["provider_ref"]
    await sandbox_act(api, body["payment"])
    order = await wait_for_order(api, buyer, order_id, {"completed"})
    await temporal.get_workflow_handle(checkout_workflow_id(uuid.UUID(order_id))).result()
    subscriptions = [
        str(s.id)
        for s in (
            await db.execute(
                select(Subscription).where(Subscription.order_id == uuid.UUID(order_id))
            )
        ).scalars()
    ]
    await db.commit()

    confirmed = await api.post(
        f"/orders/{order_id}/confirm", headers=buyer.headers, json={"session_id": ref}
    )
    assert confirmed.status_code == 200, confirmed.text
    state = confirmed.json()
    assert state["status"] == "completed"
    assert state["payment_state"] == "succeeded"
    assert state["receipt_number"] == order["receipt_number"]
    assert state["subscription_ids"] == subscriptions and len(subscriptions) == 1

    progress = await api.get(f"/orders/{order_id}/checkout", headers=buyer.headers)
    assert progress.status_code == 200
    assert progress.json() == state

    again = await checkout(api, buyer, key=key)
    assert again.status_code == 200, again.text
    assert again.json()["order"]["id"] == order_id
    assert again.json()["payment"] is None
    assert again.json()["checkout"]["status"] == "completed"
    assert again.json()["checkout"]["receipt_number"] == order["receipt_number"]


async def test_confirming_a_declined_order_after_its_checkout_closed_is_refused(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    buyer, _ = await shop_with_cart(api, db)
    body = (await checkout(api, buyer)).json()
    order_id, ref = body["order"]["id"], body["payment"]["provider_ref"]
    await sandbox_act(api, body["payment"], "decline")
    await temporal.get_workflow_handle(checkout_workflow_id(uuid.UUID(order_id))).result()

    confirmed = await api.post(
        f"/orders/{order_id}/confirm", headers=buyer.headers, json={"session_id": ref}
    )
    assert confirmed.status_code == 409
    assert "failed" in confirmed.json()["detail"]


async def test_a_repeated_checkout_of_an_ended_order_logs_no_unretrieved_error(
    api: httpx.AsyncClient, db: AsyncSession, temporal: Client
) -> None:
    """The answer was always right; the log cried "Future exception was never retrieved" on
    every repeated POST /checkout of a completed order."""
    buyer, _ = await shop_with_cart(api, db)
    key = f"key-{uuid.uuid4()}"
    body = (await checkout(api, buyer, key=key)).json()
    order_id = body["order"]["id"]
    await sandbox_act(api, body["payment"])
    await wait_for_order(api, buyer, order_id, {"completed"})
    await temporal.get_workflow_handle(checkout_workflow_id(uuid.UUID(order_id))).result()

    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        for _ in range(3):
            again = await checkout(api, buyer, key=key)
            assert again.status_code == 200, again.text
            assert again.json()["checkout"]["status"] == "completed"
        gc.collect()  # an unretrieved future reports itself when it is collected
        await asyncio.sleep(0)
    finally:
        loop.set_exception_handler(previous)
    assert [c.get("message") for c in reported] == []
