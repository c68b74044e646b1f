"""What staff open from the admin panel: every order, subscription, service request and campaign,
in lists, details and after a move, links to its workflow in the Temporal Web UI (TEMPORAL_UI_URL
and TEMPORAL_NAMESPACE); one customer's overview puts their profile (a tel: link to call), their
latest subscriptions, orders, requests, callbacks and calls on one screen, for admin and support
alike, never for a customer."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.main import create_app
from core.settings import Settings
from domain.orders.models import Order
from tests.conftest import make_settings
from tests.support.admin_helpers import account
from tests.support.request_helpers import asked, shop

UI = "https://temporal.ops.example/ui"
NAMESPACE = "homeplans-ops"
PHONE = "+919812300077"


@pytest.fixture
async def ops_api(
    database_url: str,
    settings: Settings,
    temporal_env: WorkflowEnvironment,
    worker: Worker,
    db: AsyncSession,
) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a deployment whose Temporal Web UI is at UI, namespace NAMESPACE (the test's
    worker serves its workflows)."""
    configured = make_settings(
        database_url=database_url,
        temporal_task_queue=settings.temporal_task_queue,
        temporal_ui_url=UI + "/",
        temporal_namespace=NAMESPACE,
    )
    app = create_app(configured, temporal=temporal_env.client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as client:
            yield client


def link(workflow_id: str) -> str:
    return f"{UI}/namespaces/{NAMESPACE}/workflows/{workflow_id}"


async def _get(api: httpx.AsyncClient, path: str, headers: dict[str, str], **query: Any) -> Any:
    answer = await api.get(path, params=query, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_orders_subscriptions_and_requests_link_to_their_workflows(
    ops_api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(ops_api, db)
    order_id, subscription_id = s.bought.order_id, s.bought.subscription_id
    request = await asked(ops_api, s)
    admin = s.admin

    (order,) = (await _get(ops_api, "/admin/orders", admin))["items"]
    assert order["workflow_id"] == f"checkout:{order_id}"
    assert order["workflow_url"] == link(f"checkout:{order_id}")
    detail = await _get(ops_api, f"/admin/orders/{order_id}", admin)
    assert detail["workflow_url"] == link(f"checkout:{order_id}")

    (sub,) = (await _get(ops_api, "/admin/subscriptions", admin))["items"]
    assert sub["workflow_url"] == link(f"subscription:{subscription_id}")
    detail = await _get(ops_api, f"/admin/subscriptions/{subscription_id}", admin)
    assert detail["workflow_url"] == link(f"subscription:{subscription_id}")

    wanted = link(f"service-request:{request['id']}")
    (listed,) = (await _get(ops_api, "/admin/service-requests", admin))["items"]
    assert listed["workflow_url"] == wanted
    detail = await _get(ops_api, f"/admin/service-requests/{request['id']}", admin)
    assert detail["workflow_url"] == wanted
    cancelled = await ops_api.post(
        f"/admin/service-requests/{request['id']}/cancel",
        json={"reason": "the customer called to cancel"},
        headers=admin,
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["workflow_url"] == wanted


async def test_campaigns_link_to_their_workflows(
    ops_api: httpx.AsyncClient, db: AsyncSession
) -> None:
    _, admin = await account(ops_api, db, "campaigner@example.com", role="admin")
    made = await ops_api.post(
        "/admin/campaigns",
        json={"title": "Monsoon check-up", "body": "Book a visit.", "audience": {"kind": "all"}},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    campaign_id = made.json()["id"]
    wanted = link(f"campaign:{campaign_id}")
    assert made.json()["workflow_url"] == wanted
    (listed,) = (await _get(ops_api, "/admin/campaigns", admin))["items"]
    assert listed["workflow_id"] == f"campaign:{campaign_id}"
    assert listed["workflow_url"] == wanted
    assert (await _get(ops_api, f"/admin/campaigns/{campaign_id}", admin))["workflow_url"] == wanted


def test_an_automatic_renewal_links_to_the_subscription_that_charges_it() -> None:
    subscription_id = uuid.uuid4()
    renewal = Order(id=uuid.uuid4(), idempotency_key=f"sub:{subscription_id}:period:2:retry:1")
    assert renewal.workflow_id == f"subscription:{subscription_id}"
    bought = Order(id=uuid.uuid4(), idempotency_key="a key the app made")
    assert bought.workflow_id == f"checkout:{bought.id}"


async def test_a_customers_overview_for_staff(ops_api: httpx.AsyncClient, db: AsyncSession) -> None:
    s = await shop(ops_api, db, phone=PHONE)
    request = await asked(ops_api, s)
    customer_id = (await _get(ops_api, "/me", s.customer))["id"]
    callback = await ops_api.post(
        "/support/callbacks",
        json={"reason": "billing", "note": "charged twice?"},
        headers=s.customer,
    )
    assert callback.status_code == 201, callback.text
    _, helper = await account(ops_api, db, "help@example.com", role="support", name="Helper")
    logged = await ops_api.post(
        f"/admin/users/{customer_id}/calls",
        json={"outcome": "reached", "purpose": "billing", "notes": "explained the receipt"},
        headers=helper,
    )
    assert logged.status_code == 201, logged.text

    seen = await _get(ops_api, f"/admin/users/{customer_id}/overview", helper)
    profile = seen["profile"]
    assert profile["id"] == customer_id
    assert profile["phone"] == PHONE
    assert profile["tel"] == f"tel:{PHONE}"
    assert profile["roles"] == ["customer"]
    assert [a["postal_code"] for a in profile["addresses"]] == ["560001"]

    (sub,) = seen["subscriptions"]["items"]
    assert sub["id"] == str(s.bought.subscription_id)
    assert sub["workflow_url"] == link(f"subscription:{s.bought.subscription_id}")
    (order,) = seen["orders"]["items"]
    assert order["workflow_url"] == link(f"checkout:{s.bought.order_id}")
    (asked_for,) = seen["service_requests"]["items"]
    assert asked_for["id"] == request["id"]
    assert asked_for["workflow_url"] == link(f"service-request:{request['id']}")
    (waiting,) = seen["callbacks"]["items"]
    assert waiting["note"] == "charged twice?"
    (call,) = seen["calls"]["items"]
    assert call["notes"] == "explained the receipt"
    assert call["staff"]["name"] == "Helper"
    for section in ("subscriptions", "orders", "service_requests", "callbacks", "calls"):
        assert seen[section]["total"] == 1, section

    # An admin sees the same; a section shows at most `recent` of the latest.
    second = await asked(ops_api, s)
    latest = await _get(ops_api, f"/admin/users/{customer_id}/overview", s.admin, recent=1)
    assert latest["service_requests"]["total"] == 2
    assert [r["id"] for r in latest["service_requests"]["items"]] == [second["id"]]


async def test_the_overview_is_for_staff_only(ops_api: httpx.AsyncClient, db: AsyncSession) -> None:
    customer_id, customer = await account(ops_api, db, "buyer@example.com")
    other_id, _ = await account(ops_api, db, "other@example.com")
    _, fixer = await account(ops_api, db, "fixer@example.com", role="technician")
    _, helper = await account(ops_api, db, "help@example.com", role="support")
    for who, whose in ((customer, customer_id), (customer, other_id), (fixer, customer_id)):
        refused = await ops_api.get(f"/admin/users/{whose}/overview", headers=who)
        assert refused.status_code == 403
    missing = await ops_api.get(f"/admin/users/{uuid.uuid4()}/overview", headers=helper)
    assert missing.status_code == 404
    for recent in (0, 51):
        bad = await ops_api.get(
            f"/admin/users/{customer_id}/overview", params={"recent": recent}, headers=helper
        )
        assert bad.status_code == 422
