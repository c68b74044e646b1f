"""The admin panel in a real browser (Debian's chromium, driven by playwright) against the real API
and worker (see tests/support/admin_ui_harness.py): an admin signs in and creates a plan; a
customer buys it and asks for a visit through the API; the dashboard shows both without a
reload; the admin assigns a technician from the suggestions (a refused one shows why), starts
and completes the visit; the customer then sees it completed. A support user cannot reach an
admin-only screen, and the API refuses them too. Screenshots of every main screen go to
test-artifacts/screens/."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from tests.conftest import bearer
from tests.support.admin_ui_harness import (
    Live,
    axe_check,
    screenshot_path,
    sign_in_admin,
)
from tests.support.catalog_helpers import add_categories
from tests.support.checkout_helpers import buyer_with_cart, checkout, sandbox_act, wait_for_order
from tests.support.request_helpers import technician, window

# A bound for slow machines (each wait ends as soon as the page shows it), never an expectation.
expect.set_options(timeout=20_000)

DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
ZONE = "America/New_York"  # the browser's; the business is in Asia/Kolkata


@pytest.fixture
async def page(browser: Browser, live: Live) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport=DESKTOP, base_url=live.base_url)
    opened = await context.new_page()
    yield opened
    await context.close()


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.com"


async def go(page: Page, screen: str) -> None:
    """Open a screen from the menu, as a person does (no reload)."""
    await page.get_by_role("navigation", name="Screens").get_by_role("link", name=screen).click()
    await expect(page.get_by_role("heading", name=screen, exact=True)).to_be_visible()


async def create_plan_in_ui(page: Page, name: str, slug: str) -> str:
    """Plans -> New plan; a slug the API refuses is shown at its field; then saved. Its id."""
    await go(page, "Plans")
    await page.get_by_role("link", name="New plan").first.click()
    await page.get_by_label(re.compile(r"^Name\b")).fill(name)
    await page.get_by_label("Slug").fill("Not A Slug!")
    await page.get_by_role("combobox", name="Categories").click()
    await page.get_by_role("option", name="Plumbing").click()
    await page.get_by_role("option", name="Electrical").click()
    await page.keyboard.press("Escape")
    await page.get_by_label(re.compile(r"^Price\b")).fill("2999")
    await page.get_by_role("button", name="Create plan").click()
    # The API's 422 names the field; the form shows its message under the slug.
    slug_input = page.get_by_label("Slug")
    await expect(slug_input).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_text(re.compile("lowercase letters and digits"))).to_be_visible()
    await page.screenshot(path=screenshot_path("plan-form-field-error"), full_page=True)
    await slug_input.fill(slug)
    await page.get_by_role("button", name="Create plan").click()
    await expect(page).to_have_url(re.compile(r"/admin/plans/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


async def test_admin_sells_a_plan_and_runs_the_visit_through_the_panel(
    page: Page, live: Live
) -> None:
    admin_email = unique("admin")
    admin = bearer(live.staff(admin_email, "admin", "Asha Admin")["tokens"])
    async with live.client() as api:
        categories = await add_categories(api, admin)
        ravi = await technician(api, admin, "Ravi Fits", "+919812340101")
        await technician(api, admin, "Zoya Far", "+919812340102", zones=("110001",))

        await sign_in_admin(page, admin_email)
        plan_id = await create_plan_in_ui(page, "Kitchen Care", f"kitchen-{uuid.uuid4().hex[:6]}")
        await go(page, "Plans")
        row = page.get_by_test_id("plan-row").filter(has_text="Kitchen Care")
        await row.get_by_role("button", name="Publish").click()
        await expect(row.get_by_test_id("status")).to_have_text("Active")
        await page.screenshot(path=screenshot_path("plans"), full_page=True)

        # The dashboard, live: what a purchase and a request change appears without a reload.
        await go(page, "Dashboard")
        await expect(page.get_by_test_id("live-state")).to_have_text("Live")
        orders_before = await page.get_by_test_id("sales-today").inner_text()
        open_before = int(await page.get_by_test_id("requests-open-value").inner_text())
        await page.evaluate("window.__notReloaded = true")

        plan = (await api.get(f"/admin/catalog/plans/{plan_id}", headers=admin)).json()
        buyer = await buyer_with_cart(api, plan, unique("buyer"))
        started = await checkout(api, buyer)
        assert started.status_code == 201, started.text
        order_id = started.json()["order"]["id"]
        assert (await sandbox_act(api, started.json()["payment"])).status_code in (200, 303)
        await wait_for_order(api, buyer, order_id, {"completed"})
        progress = (await api.get(f"/orders/{order_id}/checkout", headers=buyer.headers)).json()
        (subscription_id,) = progress["subscription_ids"]
        await expect(page.get_by_test_id("sales-today")).not_to_have_text(orders_before)
        await expect(page.get_by_test_id("sales-today")).to_contain_text("2,999")

        start, end = window()
        asked = await api.post(
            "/service-requests",
            json={
                "subscription_id": subscription_id,
                "category_id": categories["plumbing"]["id"],
                "description": "The kitchen tap drips all night.",
                "window_start": start,
                "window_end": end,
            },
            headers={**buyer.headers, "Idempotency-Key": f"ask-{uuid.uuid4()}"},
        )
        assert asked.status_code == 201, asked.text
        request_id = asked.json()["id"]
        await expect(page.get_by_test_id("requests-open-value")).to_have_text(str(open_before + 1))
        assert await page.evaluate("window.__notReloaded") is True
        await page.screenshot(path=screenshot_path("dashboard"), full_page=True)

        # Dispatch: the suggestions with their reasons; the one who does not fit is refused.
        await go(page, "Service requests")
        await page.screenshot(path=screenshot_path("requests"), full_page=True)
        await page.get_by_test_id("request-row").first.get_by_role("link").first.click()
        await expect(page).to_have_url(re.compile(f"/admin/requests/{request_id}$"))
        far = page.get_by_test_id("suggestion").filter(has_text="Zoya Far")
        fits = page.get_by_test_id("suggestion").filter(has_text="Ravi Fits")
        await expect(fits).to_contain_text("fits")
        await expect(far).to_contain_text("does not fit")
        await far.get_by_role("button", name="Assign").click()
        refused = page.get_by_test_id("refused")
        await expect(refused).to_be_visible()
        await expect(refused).to_contain_text(re.compile(r"zone|serve|postal|110001|560001", re.I))
        await page.screenshot(path=screenshot_path("request-refused-assignment"), full_page=True)

        await fits.get_by_role("button", name="Assign").click()
        status = page.get_by_test_id("request-status")
        await expect(status).to_have_text("Assigned")
        await expect(page.get_by_test_id("request-technician")).to_have_text(ravi["name"])
        await page.get_by_role("button", name="Start the visit").click()
        await expect(status).to_have_text("In progress")
        await page.get_by_label("Completion notes").fill("Replaced the washer.")
        await page.get_by_role("button", name="Complete the visit").click()
        await expect(status).to_have_text("Completed")
        await expect(page.get_by_test_id("timeline")).to_contain_text("Completed")
        await page.screenshot(path=screenshot_path("request-completed"), full_page=True)

        mine = (await api.get(f"/service-requests/{request_id}", headers=buyer.headers)).json()
        assert mine["status"] == "completed"

        # The payment, in the payments list and the revenue report, in rupees with its paise.
        await go(page, "Payments")
        await page.get_by_label("Customer or order").fill(order_id)
        payment = page.get_by_test_id("payment-row")
        await expect(payment).to_have_count(1)
        await expect(payment).to_contain_text("₹2,999.00")
        await expect(payment).to_contain_text("Paid")
        await payment.get_by_role("link", name=re.compile("^Details")).click()
        await expect(page.get_by_test_id("refund-form")).to_contain_text(
            "Left to refund: ₹2,999.00"
        )
        await go(page, "Reports")
        await page.get_by_test_id("revenue-report").get_by_text("Plan", exact=True).click()
        sold = (
            page.get_by_test_id("revenue-report").get_by_role("row").filter(has_text="Kitchen Care")
        )
        await expect(sold).to_contain_text("₹2,999.00")
        await page.screenshot(path=screenshot_path("reports-with-a-sale"), full_page=True)


async def test_support_cannot_reach_an_admin_only_screen_or_route(page: Page, live: Live) -> None:
    email = unique("support")
    support = bearer(live.staff(email, "support", "Sam Support")["tokens"])
    await sign_in_admin(page, email)
    menu = page.get_by_role("navigation", name="Screens")
    await expect(menu.get_by_role("link", name="Service requests")).to_be_visible()
    for admin_only in ("Plans", "Categories", "Reports", "Audit log"):
        await expect(menu.get_by_role("link", name=admin_only)).to_have_count(0)
    # Typed in the address bar: the page says so (the session survives the reload) ...
    await page.goto("/admin/plans")
    await expect(page.get_by_test_id("not-allowed")).to_be_visible()
    await page.screenshot(path=screenshot_path("support-not-allowed"), full_page=True)
    # ... and the API refuses the same.
    async with live.client() as api:
        refused = await api.get("/admin/catalog/plans", headers=support)
        assert refused.status_code == 403
        assert (await api.get("/admin/service-requests", headers=support)).status_code == 200


# (screenshot name, page)
SCREENS: list[tuple[str, str]] = [
    ("dashboard", "/admin/"),
    ("dispatch", "/admin/dispatch"),
    ("requests", "/admin/requests"),
    ("support", "/admin/support"),
    ("search", "/admin/search?q=screens"),
    ("customers", "/admin/customers"),
    ("payments", "/admin/payments"),
    ("technicians", "/admin/technicians"),
    ("plans", "/admin/plans"),
    ("plan-new", "/admin/plans/new"),
    ("categories", "/admin/categories"),
    ("campaigns", "/admin/campaigns"),
    ("reports", "/admin/reports"),
    ("audit", "/admin/audit"),
]


@pytest.mark.parametrize(("size", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
async def test_every_screen_opens_and_passes_axe_at_a_desk_and_on_a_phone(
    browser: Browser, live: Live, size: str, viewport: ViewportSize
) -> None:
    """After the journey above (so lists have rows), with the browser in another zone."""
    email = unique(f"screens-{size}")
    live.staff(email, "admin", "Screens Admin")
    context = await browser.new_context(
        viewport=viewport, base_url=live.base_url, timezone_id=ZONE, is_mobile=size == "phone"
    )
    try:
        page = await context.new_page()
        await page.goto("/admin/signin")
        await page.screenshot(path=screenshot_path(f"{size}-signin"))
        await sign_in_admin(page, email)
        for name, path in SCREENS:
            await page.goto(path)
            main = page.locator("main")
            where = f"{name} on a {size}"
            await expect(main.get_by_role("heading").first, where).to_be_visible()
            await expect(main.get_by_test_id("loading"), where).to_have_count(0)
            await expect(main.get_by_test_id("error"), where).to_have_count(0)
            await expect(main.get_by_test_id("not-allowed"), where).to_have_count(0)
            # Nothing wider than the screen: usable without scrolling sideways.
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (name, size, overflow)
            await axe_check(page, f"{size}-{name}")
    finally:
        await context.close()
