"""The back office in a real browser (Debian's chromium, driven by playwright) against the real API
and worker (tests/support/admin_ui_harness.py), the browser in New York while the business is in
India:
a support member takes a callback from the inbox, calls, logs the call and closes it, and its
history names them with times in the business's zone; an admin opens a payment and sees its
refund on the timeline, and a refund above what is left is refused at the Amount field in words;
starting a campaign asks first, stating how many customers it goes to; the dashboard names its
series, the reports take a preset period, the audit log reads in words with links. Each screen
passes axe at a desk and on a phone, with nothing wider than a phone's screen."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    expect,
)

from domain import timefmt
from tests.conftest import bearer, register
from tests.support.admin_ui_harness import (
    Live,
    axe_check,
    screenshot_path,
    settled,
    sign_in_admin,
)
from tests.support.catalog_helpers import add_active_plan, add_categories
from tests.support.checkout_helpers import buyer_with_cart, checkout, sandbox_act, wait_for_order
from tests.support.waiting import eventually

expect.set_options(timeout=20_000)  # a bound for slow machines, never an expectation

DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
ZONE = "America/New_York"  # the browser's; the business is in Asia/Kolkata
BUSINESS = "Asia/Kolkata"
CALLER = "+919812377001"


@dataclass
class Desk:
    """What the journeys work on, made through the API."""

    admin_email: str
    support_email: str
    admin: dict[str, str]
    order_id: str
    refundable_minor: int
    callback_id: str
    campaign_id: str
    audience: int


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


@pytest.fixture(scope="module")
async def desk(live: Live) -> Desk:
    admin_email, support_email = unique("desk-admin"), unique("desk-support")
    admin = bearer(live.staff(admin_email, "admin", "Asha Admin")["tokens"])
    live.staff(support_email, "support", "Meera Desk")
    async with live.client() as api:
        await add_categories(api, admin)
        plan = await add_active_plan(api, admin, f"desk-{uuid.uuid4().hex[:6]}")
        buyer = await buyer_with_cart(api, plan, unique("buyer"))
        started = await checkout(api, buyer)
        assert started.status_code == 201, started.text
        order_id = started.json()["order"]["id"]
        assert (await sandbox_act(api, started.json()["payment"])).status_code in (200, 303)
        await wait_for_order(api, buyer, order_id, {"completed"})
        refund = await api.post(
            f"/admin/orders/{order_id}/refunds",
            json={"amount_minor": 50000, "reason": "a visit came late"},
            headers=admin,
        )
        assert refund.status_code == 202, refund.text

        async def paid_back() -> Any:
            return (await api.get(f"/admin/payments/{order_id}", headers=admin)).json()

        payment = await eventually(
            paid_back,
            lambda p: any(e["kind"] == "refund_paid" for e in p["timeline"]),
            "the refund paid back",
        )

        caller = await register(api, unique("caller"), phone=CALLER, name="Ravi Caller")
        asked = await api.post(
            "/support/callbacks",
            json={"reason": "billing", "note": "Charged twice"},
            headers=bearer(caller["tokens"]),
        )
        assert asked.status_code == 201, asked.text

        live.query(
            "UPDATE users SET email_verified_at = now() WHERE role = 'customer' RETURNING id"
        )
        campaign = await api.post(
            "/admin/campaigns",
            json={
                "title": "Monsoon check-up",
                "body": "Book a free roof check before the rains.",
                "audience": {"kind": "all"},
            },
            headers=admin,
        )
        assert campaign.status_code == 201, campaign.text
        audience = (
            await api.get(f"/admin/campaigns/{campaign.json()['id']}/audience", headers=admin)
        ).json()["size"]
        assert audience >= 2
    return Desk(
        admin_email,
        support_email,
        admin,
        order_id,
        payment["refundable_minor"],
        asked.json()["id"],
        campaign.json()["id"],
        audience,
    )


async def context_at(browser: Browser, live: Live, viewport: ViewportSize) -> BrowserContext:
    return await browser.new_context(
        viewport=viewport,
        base_url=live.base_url,
        timezone_id=ZONE,
        is_mobile=viewport is PHONE,
    )


async def check(page: Page, name: str) -> None:
    """axe on the screen as it rests: the pointer off every control (a hovered one is tinted),
    no dialog still fading in (its text would be measured half-transparent)."""
    await page.mouse.move(1, 1)
    await page.wait_for_function(
        "() => document.getAnimations().every("
        "a => a.playState !== 'running' || a.effect?.getTiming().iterations === Infinity)"
    )
    await axe_check(page, name)


def shown(at: str) -> str:
    """An instant as every screen shows it: in the business's zone, labelled."""
    return timefmt.moment(datetime.fromisoformat(at), BUSINESS)


async def a_callback(live: Live, name: str, phone: str) -> str:
    """A customer asks to be called back: the callback's id."""
    async with live.client() as api:
        caller = await register(api, unique("caller"), phone=phone, name=name)
        asked = await api.post(
            "/support/callbacks",
            json={"reason": "billing", "note": "Charged twice"},
            headers=bearer(caller["tokens"]),
        )
        assert asked.status_code == 201, asked.text
        return str(asked.json()["id"])


@pytest.mark.parametrize(("size", "viewport"), [("desk", DESKTOP), ("phone", PHONE)])
async def test_support_takes_calls_logs_and_closes_a_callback_from_the_inbox(
    browser: Browser, live: Live, desk: Desk, size: str, viewport: ViewportSize
) -> None:
    caller = {"desk": "Ravi Caller", "phone": "Uma Caller"}[size]
    phone = {"desk": CALLER, "phone": "+919812377002"}[size]
    callback_id = desk.callback_id if size == "desk" else await a_callback(live, caller, phone)
    context = await context_at(browser, live, viewport)
    try:
        page = await context.new_page()
        await sign_in_admin(page, desk.support_email)
        if size == "phone":  # the menu folds behind its button on a phone
            await page.get_by_role("button", name="Menu").click()
        await (
            page.get_by_role("navigation", name="Screens")
            .get_by_role("link", name="Support")
            .click()
        )
        await expect(page.get_by_role("heading", name="Support", exact=True)).to_be_visible()
        row = page.get_by_test_id("callback-row").filter(has_text=caller)
        await expect(row.get_by_test_id("waited")).to_contain_text("waiting")
        await expect(page.get_by_test_id("list-count")).to_have_text(
            re.compile(r"^\d+ callbacks?$")
        )
        await settled(page, "support inbox")
        await check(page, f"{size}-support-inbox")

        await row.get_by_role("button", name="Take").click()
        await expect(row.get_by_test_id("status")).to_have_text("Taken")
        await expect(row).to_contain_text("held by Meera Desk")
        await row.get_by_role("link", name=re.compile("^Open the callback")).click()
        await expect(page.get_by_role("heading", name=f"Callback for {caller}")).to_be_visible()
        call = page.get_by_test_id("call-link")
        await expect(call).to_have_attribute("href", f"tel:{phone}")
        await settled(page, "callback")
        await check(page, f"{size}-callback")

        # The call: dialled from the link, then how it went.
        await (
            page.get_by_role("radiogroup", name="How did the call go?")
            .get_by_role("radio", name="No answer")
            .check()
        )
        await page.get_by_label("Notes", exact=True).fill("Rang for a minute")
        await page.get_by_role("button", name="Log the call").click()
        history = page.get_by_test_id("callback-history")
        logged = history.get_by_test_id("history-item").filter(has_text=f"Called {phone}")
        await expect(logged).to_contain_text("no answer")
        await expect(logged).to_contain_text("Meera Desk")
        await expect(logged).to_contain_text("Rang for a minute")
        async with live.client() as api:
            events = (
                await api.get(f"/admin/callbacks/{callback_id}/history", headers=desk.admin)
            ).json()
        (made,) = [e for e in events if e["kind"] == "call"]
        await expect(logged).to_contain_text(shown(made["at"]))

        await (
            page.get_by_role("radiogroup", name="Outcome")
            .get_by_role("radio", name="Could not reach them")
            .check()
        )
        await page.get_by_role("button", name="Close the callback").click()
        await expect(page.get_by_role("main").get_by_test_id("status").first).to_have_text("Closed")
        closing = history.get_by_test_id("history-item").filter(has_text="Closed it")
        await expect(closing).to_contain_text("could not reach them")
        await expect(closing).to_contain_text("Meera Desk")
        await page.screenshot(path=screenshot_path(f"{size}-callback-closed"), full_page=True)
    finally:
        await context.close()


async def test_a_payment_shows_its_refund_and_a_refund_above_what_is_left_is_refused_at_the_field(
    browser: Browser, live: Live, desk: Desk
) -> None:
    context = await context_at(browser, live, DESKTOP)
    try:
        page = await context.new_page()
        await sign_in_admin(page, desk.admin_email)
        await page.goto("/admin/payments?status=partially_refunded")
        await settled(page, "payments")
        row = page.get_by_test_id("payment-row").first
        await expect(row).to_contain_text("Sandbox")
        await expect(row).not_to_contain_text("sandbox · sandbox")
        await expect(page.get_by_test_id("list-count")).to_have_text("1 payment")
        await expect(page.get_by_role("combobox", name="Status")).to_have_value("Partly refunded")
        await check(page, "desk-payments")

        await row.get_by_role("link", name=re.compile("^Details")).click()
        await expect(page).to_have_url(re.compile(f"/admin/payments/{desk.order_id}$"))
        await expect(page.get_by_test_id("paid-with")).to_have_text("Sandbox")
        timeline = page.get_by_test_id("payment-timeline")
        paid_back = timeline.get_by_test_id("payment-event").filter(
            has_text="Refund of 500.00 INR paid back"
        )
        await expect(paid_back).to_be_visible()
        async with live.client() as api:
            detail = (await api.get(f"/admin/payments/{desk.order_id}", headers=desk.admin)).json()
        (event,) = [e for e in detail["timeline"] if e["kind"] == "refund_paid"]
        await expect(paid_back).to_contain_text(shown(event["at"]))
        asked = timeline.get_by_test_id("payment-event").filter(has_text="asked for")
        await expect(asked).to_contain_text("Asha Admin")
        await settled(page, "payment")
        await check(page, "desk-payment")

        # More than is left: the form does not cap it; the API's refusal is shown at the field.
        amount = page.get_by_label("Amount")
        await amount.fill(str(desk.refundable_minor // 100 + 100))
        await page.get_by_label("Reason").fill("goodwill after two late visits")
        await page.get_by_test_id("refund-form").get_by_role("button", name="Refund").click()
        dialog = page.get_by_role("dialog")
        await expect(dialog.get_by_test_id("confirm-impact")).to_contain_text("Pays")
        await dialog.get_by_role("button", name=re.compile("^Refund ")).click()
        await expect(amount).to_have_attribute("aria-invalid", "true")
        left = f"{desk.refundable_minor / 100:,.2f} INR"
        await expect(page.get_by_text(f"at most {left} can be refunded")).to_be_visible()
        await page.screenshot(path=screenshot_path("desk-refund-refused"), full_page=True)
    finally:
        await context.close()


async def test_starting_a_campaign_states_its_audience_first(
    browser: Browser, live: Live, desk: Desk
) -> None:
    context = await context_at(browser, live, DESKTOP)
    try:
        page = await context.new_page()
        await sign_in_admin(page, desk.admin_email)
        await page.goto("/admin/campaigns")
        await settled(page, "campaigns")
        row = page.get_by_test_id("campaign-row").filter(has_text="Monsoon check-up")
        await check(page, "desk-campaigns")

        await row.get_by_role("button", name=re.compile("^Preview")).click()
        preview = page.get_by_role("dialog")
        await expect(preview.get_by_test_id("message-preview")).to_contain_text(
            "Book a free roof check before the rains."
        )
        await check(page, "desk-campaign-preview")
        await page.keyboard.press("Escape")

        await row.get_by_role("button", name=re.compile("^Send me a test")).click()
        await expect(page.get_by_text("Test sent to you alone")).to_be_visible()

        await row.get_by_role("button", name=re.compile("^Start")).click()
        dialog = page.get_by_role("dialog")
        await expect(dialog.get_by_test_id("confirm-impact")).to_contain_text(
            f"Sends to {desk.audience:,} customers"
        )
        await check(page, "desk-campaign-start")
        await dialog.get_by_role("button", name="Cancel", exact=True).click()
        await expect(row.get_by_test_id("status")).to_have_text("Draft")
    finally:
        await context.close()


async def test_dashboard_reports_and_audit_read_in_words(
    browser: Browser, live: Live, desk: Desk
) -> None:
    context = await context_at(browser, live, DESKTOP)
    try:
        page = await context.new_page()
        await sign_in_admin(page, desk.admin_email)
        await expect(page.get_by_test_id("net-30-days")).to_contain_text("refunds ₹500.00")
        for series in ("Gross sales", "Refunds", "Net sales", "New users"):
            await expect(
                page.locator(".recharts-legend-wrapper").get_by_text(series)
            ).to_be_visible()
        await settled(page, "dashboard")
        await check(page, "desk-dashboard")

        await page.goto("/admin/reports")
        await settled(page, "reports")
        await page.get_by_role("button", name="Last 7 days").click()
        await expect(page).to_have_url(
            re.compile(r"since=\d{4}-\d{2}-\d{2}&until=\d{4}-\d{2}-\d{2}")
        )
        today = timefmt.day(datetime.now(timefmt.zone(BUSINESS)).date())
        await expect(page.get_by_test_id("period")).to_contain_text(f"\u2013 {today}")
        await check(page, "desk-reports")

        await page.goto("/admin/audit?entity_type=order")
        await settled(page, "audit")
        refund = page.get_by_test_id("audit-row").filter(has_text="Refunded a payment")
        await expect(refund).to_contain_text("Asha Admin")
        await expect(refund).to_contain_text("Amount: 500.00 INR")
        await refund.get_by_test_id("audit-entity").click()
        await expect(page).to_have_url(re.compile(f"/admin/payments/{desk.order_id}$"))
        await page.goto("/admin/audit")
        await settled(page, "audit")
        await check(page, "desk-audit")
    finally:
        await context.close()


SCREENS = [
    ("support", "/admin/support?show=all"),
    ("payments", "/admin/payments"),
    ("campaigns", "/admin/campaigns"),
    ("dashboard", "/admin/"),
    ("reports", "/admin/reports"),
    ("audit", "/admin/audit"),
]


@pytest.mark.parametrize(("size", "viewport"), [("desk", DESKTOP), ("phone", PHONE)])
async def test_the_back_office_screens_pass_axe_with_nothing_off_the_side(
    browser: Browser, live: Live, desk: Desk, size: str, viewport: ViewportSize
) -> None:
    context = await context_at(browser, live, viewport)
    try:
        page = await context.new_page()
        await sign_in_admin(page, desk.admin_email)
        screens = [
            *SCREENS,
            ("callback", f"/admin/support/callbacks/{desk.callback_id}"),
            ("payment", f"/admin/payments/{desk.order_id}"),
        ]
        for name, path in screens:
            await page.goto(path)
            await settled(page, f"{name} on a {size}")
            await check(page, f"{size}-back-office-{name}")
    finally:
        await context.close()
