"""The dispatcher's screens in a real browser (Debian's chromium, playwright) against the real API
and worker, the browser in New York's zone while the business is in Asia/Kolkata:

- at a desk: the Dispatch screen (first after the Dashboard) shows a waiting visit in its queue
  at the time the API gives, formatted in IST; one click on a suggestion assigns it, another is
  dragged onto a technician; the header's search box finds a customer by phone (written with +91
  and spaces) and a request by its number; a technician's hours are edited and time off added;
- on a phone: the queue comes first, then the technicians as cards; a booked visit is started and
  completed from its card, the customer a tel: link away; the search box is in the menu;
- every one of these screens passes axe at 1440x900 and 390x844, with nothing wider than a phone.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from domain import timefmt
from tests.conftest import bearer
from tests.support.admin_ui_harness import (
    Live,
    axe_check,
    settled,
    sign_in_admin,
)
from tests.support.catalog_helpers import add_active_plan, add_categories
from tests.support.checkout_helpers import buyer_with_cart, checkout, sandbox_act, wait_for_order

expect.set_options(timeout=20_000)  # a bound for slow machines, never an expectation

DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
BROWSER_ZONE = "America/New_York"
IST = ZoneInfo("Asia/Kolkata")
CUSTOMER_PHONE = "+919812377001"
EVERY_DAY = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


def business_day(days_ahead: int) -> str:
    return (datetime.now(IST).date() + timedelta(days=days_ahead)).isoformat()


def at(day: str, clock: str) -> str:
    return datetime.fromisoformat(f"{day}T{clock}:00").replace(tzinfo=IST).isoformat()


class World:
    """What the screens show: an admin, a technician, a customer with a plan and waiting visits."""

    def __init__(self, live: Live) -> None:
        self.live = live
        self.email = unique("dispatcher")
        self.admin = bearer(live.staff(self.email, "admin", "Dina Dispatcher")["tokens"])
        self.day = business_day(2)
        self.requests: list[dict[str, Any]] = []
        self.technicians: dict[str, dict[str, Any]] = {}

    async def build(self, api: httpx.AsyncClient) -> None:
        categories = await add_categories(api, self.admin)
        self.plumbing = categories["plumbing"]["id"]
        for name, phone in (("Ravi Kumar", "+919812377101"), ("Bala Iyer", "+919812377102")):
            created = await api.post(
                "/admin/technicians",
                json={
                    "name": name,
                    "phone": phone,
                    "skills": ["plumbing"],
                    "zones": ["560001"],
                    "working_hours": {d: [["08:00", "20:00"]] for d in EVERY_DAY},
                    "timezone": "Asia/Kolkata",
                },
                headers=self.admin,
            )
            assert created.status_code == 201, created.text
            self.technicians[name] = created.json()
        plan = await add_active_plan(
            api,
            self.admin,
            f"care-{uuid.uuid4().hex[:6]}",
            categories=["plumbing"],
            visit_cap=10,
            inclusions=[{"category": "plumbing", "visits": 10, "details": "Taps and pipes."}],
        )
        self.buyer = await buyer_with_cart(api, plan, unique("asha"), phone=CUSTOMER_PHONE)
        named = await api.patch(
            f"/admin/users/{self.buyer.id}", json={"name": "Asha Rao"}, headers=self.admin
        )
        assert named.status_code == 200, named.text
        started = await checkout(api, self.buyer)
        assert started.status_code == 201, started.text
        order_id = started.json()["order"]["id"]
        assert (await sandbox_act(api, started.json()["payment"])).status_code in (200, 303)
        await wait_for_order(api, self.buyer, order_id, {"completed"})
        progress = (
            await api.get(f"/orders/{order_id}/checkout", headers=self.buyer.headers)
        ).json()
        (self.subscription_id,) = progress["subscription_ids"]
        for start, end in (("10:00", "12:00"), ("14:00", "16:00")):
            await self.ask(api, at(self.day, start), at(self.day, end))

    async def ask(self, api: httpx.AsyncClient, start: str, end: str) -> dict[str, Any]:
        asked = await api.post(
            "/service-requests",
            json={
                "subscription_id": self.subscription_id,
                "category_id": self.plumbing,
                "description": "The kitchen tap drips all night.",
                "window_start": start,
                "window_end": end,
            },
            headers={**self.buyer.headers, "Idempotency-Key": f"ask-{uuid.uuid4()}"},
        )
        assert asked.status_code == 201, asked.text
        self.requests.append(asked.json())
        return dict(asked.json())

    async def board(self, api: httpx.AsyncClient) -> dict[str, Any]:
        found = await api.get(
            "/admin/dispatch/board", params={"date": self.day}, headers=self.admin
        )
        return dict(found.json())


@pytest.fixture(scope="module")
async def world(live: Live) -> World:
    w = World(live)
    async with live.client() as api:
        await w.build(api)
    return w


async def new_page(browser: Browser, live: Live, viewport: ViewportSize) -> Page:
    context = await browser.new_context(
        viewport=viewport,
        base_url=live.base_url,
        timezone_id=BROWSER_ZONE,
        is_mobile=viewport is PHONE,
    )
    return await context.new_page()


async def test_a_dispatcher_assigns_finds_and_edits_at_a_desk(
    browser: Browser, live: Live, world: World
) -> None:
    page = await new_page(browser, live, DESKTOP)
    try:
        await sign_in_admin(page, world.email)
        menu = page.get_by_role("navigation", name="Screens").get_by_role("link")
        assert (await menu.all_inner_texts())[:2] == ["Dashboard", "Dispatch"]
        await menu.filter(has_text="Dispatch").click()
        await expect(page.get_by_role("heading", name="Dispatch", exact=True)).to_be_visible()
        await page.get_by_role("button", name="Next day").click()
        await page.get_by_role("button", name="Next day").click()
        await expect(page).to_have_url(re.compile(f"date={world.day}"))
        first, second = world.requests
        queue = page.get_by_test_id("queue")
        card = queue.get_by_test_id("board-visit").filter(has_text=first["number"])
        # The time shown is the API's instant in the business's zone, whatever the browser's.
        async with live.client() as api:
            shown = (await world.board(api))["unassigned"]
        (api_visit,) = [v for v in shown if v["id"] == first["id"]]
        expected = timefmt.window(
            datetime.fromisoformat(api_visit["window_start"]),
            datetime.fromisoformat(api_visit["window_end"]),
            IST,
        )
        assert expected.endswith("10:00\u201312:00 IST")
        await expect(card.get_by_test_id("visit-time")).to_have_text(expected)
        ravi_row = page.get_by_test_id("board-row").filter(has_text="Ravi Kumar")
        await expect(ravi_row.get_by_test_id("works")).to_have_text("Works 08:00\u201320:00 IST")
        await settled(page, "dispatch day at a desk")
        await axe_check(page, "desktop-dispatch-day")

        # One click on a suggestion assigns it; the visit moves onto Ravi's row.
        await card.get_by_role("button", name=f"Suggest technicians for {first['number']}").click()
        await expect(card.get_by_test_id("board-suggestion").first).to_contain_text("Fits")
        await card.get_by_role("button", name=f"Assign {first['number']} to Ravi Kumar").click()
        await expect(ravi_row.get_by_test_id("board-visit")).to_contain_text(first["number"])
        await expect(queue.get_by_test_id("board-visit")).to_have_count(1)
        # The other is dragged onto Bala's row.
        bala_row = page.get_by_test_id("board-row").filter(has_text="Bala Iyer")
        await (
            queue.get_by_test_id("board-visit").filter(has_text=second["number"]).drag_to(bala_row)
        )
        await expect(bala_row.get_by_test_id("board-visit")).to_contain_text(second["number"])
        await expect(page.get_by_test_id("queue-count")).to_have_text(
            "Every visit has a technician."
        )
        await page.get_by_text("Week", exact=True).click()
        await expect(page.get_by_role("columnheader")).to_have_count(8)
        await settled(page, "dispatch week at a desk")
        await axe_check(page, "desktop-dispatch-week")

        # The search box: a customer by phone written the way people say it ...
        box = page.get_by_role("searchbox", name="Search customers, requests, orders and receipts")
        await box.fill("+91 98123 77001")
        await box.press("Enter")
        found = page.get_by_test_id("found-customer")
        await expect(found).to_have_count(1)
        await expect(found).to_contain_text("Asha Rao")
        await settled(page, "search at a desk")
        await axe_check(page, "desktop-search")
        await found.get_by_role("link", name="Asha Rao").click()
        await expect(page.get_by_role("heading", name="Asha Rao")).to_be_visible()
        await expect(page.get_by_test_id("customer-order")).to_contain_text("O-")
        # ... and a request by its number.
        await box.fill(first["number"])
        await box.press("Enter")
        await page.get_by_test_id("found-request").get_by_role("link", name=first["number"]).click()
        await expect(page.get_by_test_id("request-number")).to_have_text(first["number"])
        await expect(page.get_by_test_id("request-technician")).to_have_text("Ravi Kumar")
        # Reassigning never offers the technician it has.
        suggestions = page.get_by_test_id("suggestions")
        await expect(suggestions.get_by_test_id("suggestion")).to_have_count(1)
        await expect(suggestions).not_to_contain_text("Ravi Kumar")

        # The requests list: filters kept in the URL, numbers not ids.
        await page.goto(f"/admin/requests?zone=560&days={world.day}")
        await expect(page.get_by_test_id("request-row")).to_have_count(2)
        await expect(page.get_by_test_id("requests-table")).to_contain_text(first["number"])
        await settled(page, "requests at a desk")
        await axe_check(page, "desktop-requests-filtered")

        # A technician's hours, edited; time off added.
        await (
            page.get_by_role("navigation", name="Screens")
            .get_by_role("link", name="Technicians")
            .click()
        )
        await settled(page, "technicians at a desk")
        await axe_check(page, "desktop-technicians")
        await page.get_by_role("link", name="Bala Iyer").click()
        await expect(page.get_by_role("heading", name="Bala Iyer")).to_be_visible()
        await page.get_by_label("Monday until", exact=True).fill("17:00")
        await page.get_by_role("button", name="Add hours on Saturday").click()
        await page.get_by_label("Saturday from (2)").fill("21:00")
        await page.get_by_label("Saturday until (2)").fill("23:00")
        await page.get_by_role("button", name="Save changes").click()
        await expect(page.get_by_text("Bala Iyer: changes saved.")).to_be_visible()
        await expect(page.get_by_test_id("hours-summary")).to_contain_text("Mon 08:00\u201317:00")
        async with live.client() as api:
            bala = (
                await api.get(
                    f"/admin/technicians/{world.technicians['Bala Iyer']['id']}",
                    headers=world.admin,
                )
            ).json()
        assert bala["working_hours"]["mon"] == [["08:00", "17:00"]]
        assert bala["working_hours"]["sat"] == [["08:00", "20:00"], ["21:00", "23:00"]]
        await page.get_by_label("Reason").fill("training")
        await page.get_by_role("button", name="Add time off").click()
        await expect(page.get_by_test_id("time-off-period")).to_contain_text("training")
        await settled(page, "technician at a desk")
        await axe_check(page, "desktop-technician")
    finally:
        await page.context.close()


async def test_on_a_phone_the_queue_comes_first_and_a_visit_is_run_from_its_card(
    browser: Browser, live: Live, world: World
) -> None:
    async with live.client() as api:
        waiting = await world.ask(api, at(world.day, "17:00"), at(world.day, "19:00"))
        booked = await world.ask(api, at(world.day, "08:00"), at(world.day, "10:00"))
        assigned = await api.post(
            f"/admin/service-requests/{booked['id']}/assign",
            json={"technician_id": world.technicians["Ravi Kumar"]["id"]},
            headers=world.admin,
        )
        assert assigned.status_code == 200, assigned.text
    # Not assigned in time (what the request's SLA timer records): it must stand out.
    live.query(
        "UPDATE service_requests SET escalated = true WHERE id = %s RETURNING id", waiting["id"]
    )
    page = await new_page(browser, live, PHONE)
    try:
        await sign_in_admin(page, world.email)
        await page.goto(f"/admin/dispatch?date={world.day}")
        await expect(page.get_by_role("heading", name="Dispatch", exact=True)).to_be_visible()
        queue = page.get_by_test_id("queue")
        await expect(queue.get_by_test_id("board-visit")).to_contain_text(waiting["number"])
        await expect(queue.get_by_test_id("flag-escalated")).to_have_text("Escalated")
        # The queue first, then the technicians as cards.
        order = await page.evaluate(
            "() => [...document.querySelectorAll('[data-testid=queue], [data-testid=board]')]"
            ".map(e => e.dataset.testid)"
        )
        assert order == ["queue", "board"]
        card = (
            page.get_by_test_id("board-row")
            .filter(has_text="Ravi Kumar")
            .get_by_test_id("board-visit")
            .filter(has_text=booked["number"])
        )
        call = card.get_by_role("link", name=f"Call Asha Rao about {booked['number']}")
        await expect(call).to_have_attribute("href", f"tel:{CUSTOMER_PHONE}")
        await settled(page, "dispatch on a phone")
        await axe_check(page, "phone-dispatch")
        await card.get_by_role("button", name=f"Start {booked['number']}").click()
        await expect(card.get_by_test_id("status")).to_have_text("In progress")
        await card.get_by_role("button", name=f"Complete {booked['number']}").click()
        await expect(card.get_by_test_id("status")).to_have_text("Completed")
        for button in await card.get_by_role("button").all() + [call]:
            bounds = await button.bounding_box()
            assert bounds is not None
            assert bounds["x"] >= 0
            assert bounds["x"] + bounds["width"] <= PHONE["width"]
        # Assign from the queue on a phone, by the suggestion's button.
        waiting_card = queue.get_by_test_id("board-visit").filter(has_text=waiting["number"])
        await waiting_card.get_by_role(
            "button", name=f"Suggest technicians for {waiting['number']}"
        ).click()
        await waiting_card.get_by_role(
            "button", name=re.compile(f"Assign {waiting['number']} to")
        ).first.click()
        await expect(page.get_by_test_id("queue-count")).to_have_text(
            "Every visit has a technician."
        )

        # The search box lives in the menu on a phone.
        await page.get_by_role("button", name="Menu").click()
        box = page.get_by_role("searchbox", name="Search customers, requests, orders and receipts")
        await box.fill("9812377001")
        await box.press("Enter")
        await expect(page.get_by_test_id("found-customer")).to_contain_text("Asha Rao")
        await settled(page, "search on a phone")
        await axe_check(page, "phone-search")
        await page.get_by_role("button", name="Menu").click()
        await box.fill(waiting["number"])
        await box.press("Enter")
        await expect(page.get_by_test_id("found-request")).to_contain_text(waiting["number"])

        for name, path in (
            ("requests", f"/admin/requests?days={world.day}"),
            ("technicians", "/admin/technicians"),
            ("technician", f"/admin/technicians/{world.technicians['Ravi Kumar']['id']}"),
            ("customers", "/admin/customers?q=asha"),
            ("customer", f"/admin/customers/{world.buyer.id}"),
            ("dispatch-week", f"/admin/dispatch?date={world.day}&days=7"),
        ):
            await page.goto(path)
            await settled(page, f"{name} on a phone")
            await axe_check(page, f"phone-{name}")
    finally:
        await page.context.close()


async def test_support_reads_the_board_but_moves_nothing(
    browser: Browser, live: Live, world: World
) -> None:
    email = unique("support")
    live.staff(email, "support", "Sam Support")
    page = await new_page(browser, live, DESKTOP)
    try:
        await sign_in_admin(page, email)
        await page.goto(f"/admin/dispatch?date={world.day}")
        await expect(page.get_by_test_id("board-row").first).to_be_visible()
        await expect(
            page.get_by_role("button", name=re.compile("^(Suggest|Start|Assign)"))
        ).to_have_count(0)
        await settled(page, "dispatch for support")
        await axe_check(page, "desktop-dispatch-support")
    finally:
        await page.context.close()
