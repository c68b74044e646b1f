"""The customer app in a real browser at a phone's size (390 by 844, Debian's chromium driven by
playwright) against the real API and worker (tests/support/admin_ui_harness.py), with the browser in
New York while the business is in India: every time on screen must read in India's zone.

The journey: sign up, confirm the email with the code sent, browse, add a home, buy a plan on
the sandbox payment page and come back to the paid order, see it in My plans, ask for a visit with
a photo, follow it live while an admin (through the API) assigns, starts and completes it, rate
it, read the inbox, ask for a callback. Then the technician's day on the phone: sign in by SMS
code, open the job, start and complete it. Each screen is checked with axe-core (no serious or
critical violation) and photographed into test-artifacts/screens/."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Page,
    ViewportSize,
    expect,
)

from tests.conftest import PASSWORD, ROOT, bearer
from tests.support.admin_ui_harness import (
    APP_DIST,
    Live,
    axe_check,
)
from tests.support.catalog_helpers import add_active_plan, add_categories
from tests.support.checkout_helpers import sandbox_act
from tests.support.request_helpers import technician
from tests.support.waiting import eventually

expect.set_options(timeout=20_000)  # a bound for slow machines, never an expectation

WEB_APP_DIST = APP_DIST  # the app these tests open (tests/support/browser_fixtures.py)
PHONE: ViewportSize = {"width": 390, "height": 844}
DESK: ViewportSize = {"width": 1280, "height": 900}
ZONE = "America/New_York"  # the browser's; the business is in Asia/Kolkata
TECH_PHONE = "+919811177001"
PIN = "560001"


@pytest.fixture(scope="module")
async def shop(live: Live) -> dict[str, Any]:
    """An admin, the catalog (plumbing and electrical; a plan of both) and a plumber who
    serves the customer's PIN code around the clock."""
    admin_body = live.staff(f"admin-{uuid.uuid4().hex[:6]}@example.com", "admin", "Meera Admin")
    admin = bearer(admin_body["tokens"])
    async with live.client() as api:
        await add_categories(api, admin, "plumbing", "electrical")
        plan = await add_active_plan(api, admin, "home-care")
        tech = await technician(api, admin, "Ravi Kumar", TECH_PHONE, zones=(PIN,))
    return {"admin": admin, "plan": plan, "technician": tech}


async def phone(browser: Browser, live: Live) -> BrowserContext:
    return await browser.new_context(
        viewport=PHONE,
        base_url=live.base_url,
        timezone_id=ZONE,
        locale="en-IN",
        is_mobile=True,
        has_touch=True,
        service_workers="allow",
    )


async def check(page: Page, name: str) -> None:
    await axe_check(page, f"app-{name}")


def code_sent_to(live: Live, destination: str) -> str:
    def read() -> list[tuple[Any, ...]]:
        return live.query(
            "SELECT m.text FROM notification_messages m JOIN notification_deliveries d"
            " ON d.message_id = m.id WHERE d.destination = %s ORDER BY d.created_at DESC LIMIT 1",
            destination,
        )

    rows = read()
    assert rows, f"no message to {destination}"
    match = re.search(r"\b(\d{6})\b", rows[0][0])
    assert match, rows[0][0]
    return match.group(1)


async def wait_for_code(live: Live, destination: str) -> str:
    async def read() -> str | None:
        try:
            return code_sent_to(live, destination)
        except AssertionError:
            return None

    code = await eventually(read, lambda c: c is not None, f"the code sent to {destination}")
    assert code is not None
    return code


async def test_a_customers_whole_journey_on_a_phone(
    browser: Browser, live: Live, shop: dict[str, Any]
) -> None:
    email = f"asha-{uuid.uuid4().hex[:6]}@example.com"
    context = await phone(browser, live)
    page = await context.new_page()

    # --- the catalog, signed out ---------------------------------------------------------------
    await page.goto("/app/")
    await expect(page.get_by_role("heading", name="Home Care", exact=True)).to_be_visible()
    await check(page, "catalog")
    await page.get_by_role("link", name=re.compile("Home Care")).click()
    await expect(page.get_by_role("heading", name="What is included")).to_be_visible()
    await expect(page.get_by_text("incl.")).to_be_visible()  # the price says its tax
    await check(page, "plan")

    # --- sign up and confirm ---------------------------------------------------------------------
    await page.get_by_role("link", name="Sign in to buy").click()
    await page.get_by_role("link", name="Create account").click()
    await page.get_by_label("Your name").fill("Asha Rao")
    await page.get_by_label(re.compile("^Email")).fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await check(page, "sign-up")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Confirm your email")).to_be_visible()
    await expect(
        page.get_by_text(re.compile(r"You can ask for a new code in \d+ s"))
    ).to_be_visible()
    await check(page, "verify")
    await page.get_by_label("6-digit code").fill(await wait_for_code(live, email))
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("heading", name="Home care plans")).to_be_visible()
    cookies = {c["name"]: c for c in await context.cookies()}
    assert cookies["hp_app_refresh"]["httpOnly"] is True
    assert await page.evaluate("() => JSON.stringify(localStorage)") == "{}"  # no token kept

    # --- a home, then buy ---------------------------------------------------------------------
    await page.get_by_role("link", name="Account").click()
    await page.get_by_role("button", name="Add an address").click()
    await page.get_by_label("House and street").fill("12 MG Road")
    await page.get_by_label("City").fill("Bengaluru")
    await page.get_by_label("PIN code").fill(PIN)
    await page.get_by_role("button", name="Save").last.click()
    await expect(page.get_by_text("12 MG Road, Bengaluru, 560001")).to_be_visible()
    await check(page, "account")
    await page.goto("/app/plans/home-care")
    await page.get_by_role("button", name="Add to cart").click()
    await expect(page.get_by_role("heading", name="Cart")).to_be_visible()
    await check(page, "cart")
    await page.get_by_role("button", name=re.compile("^Pay ")).click()
    await page.get_by_role("link", name=re.compile("Continue to the payment page")).click()
    await expect(page.get_by_role("heading", name="Sandbox payment")).to_be_visible()
    await page.get_by_role("button", name="Approve").click()
    # Back in the app on the order, which follows the checkout to its end.
    await expect(page.get_by_text("Paid: thank you!")).to_be_visible()
    await expect(page.get_by_role("heading", name=re.compile(r"^Receipt \d+"))).to_be_visible()
    await expect(page.get_by_text(re.compile("IST$")).first).to_be_visible()
    await check(page, "paid-order")

    await page.get_by_role("link", name="See my plans").click()
    await expect(page.get_by_text("Active")).to_be_visible()
    await expect(page.get_by_text("4 of 4 visits left")).to_be_visible()
    await check(page, "my-plans")

    # --- a visit with a photo, followed live ---------------------------------------------------
    await page.get_by_role("link", name=re.compile("Home Care")).click()
    await page.get_by_role("link", name="Ask for a visit").click()
    await expect(page.get_by_label("What is it about")).to_be_visible()
    await page.get_by_label("What is it about").select_option(label="Plumbing (2)")
    days = await page.get_by_label("Day").locator("option").all_inner_texts()
    await page.get_by_label("Day").select_option(index=2)
    slot = page.get_by_role("radio").first
    await expect(slot).to_be_visible()
    slot_label = await page.locator("label.slot").first.inner_text()
    assert slot_label.strip().endswith("IST"), slot_label  # in India's zone, not New York's
    await slot.check()
    await page.get_by_label("What needs doing").fill("The kitchen tap drips all night.")
    await page.get_by_label("Photos (optional)").set_input_files(
        {
            "name": "tap.png",
            "mimeType": "image/png",
            "buffer": (ROOT / "customer_app/public/icons/icon-192.png").read_bytes(),
        }
    )
    await check(page, "new-visit")
    await page.get_by_role("button", name="Ask for the visit").click()
    await expect(page.locator(".chip", has_text="Finding a technician")).to_be_visible()
    await expect(page.get_by_text("Live")).to_be_visible()
    await expect(page.get_by_role("img", name="Photos 1")).to_be_visible()
    await check(page, "visit")
    request_id = page.url.rsplit("/", 1)[-1]
    assert len(days) >= 7

    admin = shop["admin"]
    async with live.client() as api:
        for move, body in (
            ("assign", {"technician_id": shop["technician"]["id"]}),
            ("start", None),
            ("complete", {"notes": "Replaced the washer."}),
        ):
            answer = await api.post(
                f"/admin/service-requests/{request_id}/{move}", json=body, headers=admin
            )
            assert answer.status_code == 200, answer.text
            if move == "assign":
                # Without a reload: the stream brings the change.
                await expect(page.locator(".chip", has_text="Technician assigned")).to_be_visible()
                await expect(page.get_by_text("Ravi Kumar").first).to_be_visible()
                await expect(page.get_by_text("Support team").first).to_be_visible()  # who did it
    await expect(page.locator(".chip", has_text="Done")).to_be_visible()
    await page.get_by_label("5★").check()
    await page.get_by_role("button", name="Send").click()
    await expect(page.get_by_text("Thank you for rating it 5/5.")).to_be_visible()

    # --- inbox and a callback --------------------------------------------------------------------
    await page.get_by_role("link", name=re.compile("^Inbox")).click()
    await expect(page.get_by_text(re.compile("Your Plumbing visit")).first).to_be_visible()
    await check(page, "inbox")
    await page.get_by_role("button", name="Mark all read").click()
    await expect(page.get_by_role("button", name="Mark all read")).to_be_hidden()

    await page.goto("/app/support")
    await expect(page.get_by_role("link", name=re.compile(r"^Call \+"))).to_be_visible()
    await page.get_by_label("Number to call (leave empty for your account's)").fill("+919800012345")
    await page.get_by_role("button", name="Ask for a call").click()
    await expect(page.get_by_text("Waiting")).to_be_visible()
    await check(page, "support")
    await context.close()


async def test_the_technicians_day_on_a_phone(
    browser: Browser, live: Live, shop: dict[str, Any]
) -> None:
    """A job assigned through the API; the technician signs in with the code sent to their
    phone, sees it with the customer's name and phone, starts and completes it."""
    admin = shop["admin"]
    async with live.client() as api:
        buyer = live.staff(f"buyer-{uuid.uuid4().hex[:6]}@example.com", "customer", "Kiran")
        headers = bearer(buyer["tokens"])
        phoned = await api.patch("/me", json={"phone": "+919811177002"}, headers=headers)
        assert phoned.status_code == 200, phoned.text
        rid = await _a_paid_request(api, live, headers, shop)
        assigned = await api.post(
            f"/admin/service-requests/{rid}/assign",
            json={"technician_id": shop["technician"]["id"]},
            headers=admin,
        )
        assert assigned.status_code == 200, assigned.text

    context = await phone(browser, live)
    page = await context.new_page()
    await page.goto("/app/sign-in")
    await page.get_by_role("button", name="With a code by SMS").click()
    await page.get_by_label(re.compile("^Phone")).fill(TECH_PHONE)
    await page.get_by_role("button", name="Send code").click()
    await expect(page.get_by_label("6-digit code")).to_be_visible()
    await page.get_by_label("6-digit code").fill(await wait_for_code(live, TECH_PHONE))
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("link", name="Jobs").click()
    await expect(page.get_by_role("heading", name=re.compile("Plumbing")).first).to_be_visible()
    await check(page, "jobs")
    await page.get_by_role("link", name=re.compile("Plumbing")).first.click()
    await expect(page.get_by_role("link", name=re.compile("^Call Kiran"))).to_be_visible()
    await expect(page.get_by_role("link", name="Map")).to_be_visible()
    await check(page, "job")
    await page.get_by_role("button", name="Start the job").click()
    await page.get_by_label("What was done").fill("Replaced the washer.")
    await page.get_by_role("button", name="Complete the job").click()
    await expect(page.locator(".chip", has_text="Done")).to_be_visible()
    await expect(page.get_by_role("link", name=re.compile("^Call Kiran"))).to_be_hidden()  # closed
    await context.close()


async def _a_paid_request(
    api: httpx.AsyncClient, live: Live, headers: dict[str, str], shop: dict[str, Any]
) -> str:
    """A customer (by the API) with a paid plan and a visit asked for: its request id."""
    address = await api.post(
        "/me/addresses",
        json={
            "line1": "4 Lake View",
            "city": "Bengaluru",
            "postal_code": PIN,
            "country": "IN",
            "is_default": True,
        },
        headers=headers,
    )
    assert address.status_code == 201, address.text
    await api.post("/cart", json={"plan_id": shop["plan"]["id"]}, headers=headers)
    started = await api.post(
        "/checkout", json={}, headers={**headers, "Idempotency-Key": str(uuid.uuid4())}
    )
    assert started.status_code == 201, started.text
    await sandbox_act(api, started.json()["payment"])
    order_id = started.json()["order"]["id"]

    async def progress() -> dict[str, Any]:
        return dict((await api.get(f"/orders/{order_id}/checkout", headers=headers)).json())

    done = await eventually(progress, lambda p: p["status"] == "completed", "the purchase")
    (sid,) = done["subscription_ids"]
    mine = (await api.get(f"/subscriptions/{sid}", headers=headers)).json()
    plumbing = next(c for c in mine["visits"]["by_category"] if c["slug"] == "plumbing")
    windows: list[dict[str, Any]] = []
    for offset in range(1, 5):
        day = (date.today() + timedelta(days=offset)).isoformat()
        query = {"subscription_id": sid, "category_id": plumbing["category_id"], "day": day}
        found = await api.get("/service-requests/free-windows", params=query, headers=headers)
        windows = [w for w in found.json() if w["free"]]
        if windows:
            break
    asked = await api.post(
        "/service-requests",
        json={
            "subscription_id": sid,
            "category_id": plumbing["category_id"],
            "description": "The bathroom light flickers.",
            "window_start": windows[0]["start"],
            "window_end": windows[0]["end"],
        },
        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert asked.status_code == 201, asked.text
    return str(asked.json()["id"])


async def test_the_catalog_is_browsable_offline_after_one_visit(
    browser: Browser, live: Live, shop: dict[str, Any]
) -> None:
    context = await phone(browser, live)
    page = await context.new_page()
    await page.goto("/app/")
    await expect(page.get_by_role("heading", name="Home Care", exact=True)).to_be_visible()
    # The service worker takes the page over once installed (it claims its clients).
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    await page.get_by_role("link", name=re.compile("Home Care")).click()
    await expect(page.get_by_role("heading", name="What is included")).to_be_visible()

    await context.set_offline(True)
    await page.goto("/app/")
    await expect(page.get_by_role("heading", name="Home Care", exact=True)).to_be_visible()
    await expect(page.get_by_role("status").filter(has_text="You are offline")).to_be_visible()
    await page.get_by_role("link", name=re.compile("Home Care")).click()
    await expect(page.get_by_role("heading", name="What is included")).to_be_visible()
    await check(page, "catalog-offline")
    await context.close()


async def test_the_app_installs(browser: Browser, live: Live) -> None:
    """What Chrome asks of an installable app: a manifest with a name, icons of 192 and 512 px,
    a start URL in scope, standalone display, and a service worker that controls the page."""
    context = await phone(browser, live)
    page = await context.new_page()
    await page.goto("/app/")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    href = await page.get_attribute("link[rel=manifest]", "href")
    assert href is not None
    manifest = await (await page.request.get(f"/app/{href.removeprefix('/app/')}")).json()
    assert (manifest["name"], manifest["start_url"], manifest["scope"]) == (
        "HomePlans",
        "/app/",
        "/app/",
    )
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        answer = await page.request.get(f"/app/{icon['src']}")
        assert answer.ok and answer.headers["content-type"] == "image/png", icon
    cdp = await context.new_cdp_session(page)
    found = await cdp.send("Page.getInstallabilityErrors")
    # Chrome's own check; a test browser's context is incognito, where nothing installs.
    errors = [e["errorId"] for e in found["installabilityErrors"] if e["errorId"] != "in-incognito"]
    assert errors == []
    await context.close()


async def test_one_customer_never_sees_anothers_orders_plans_visits_or_messages(
    browser: Browser, live: Live, shop: dict[str, Any]
) -> None:
    async with live.client() as api:
        owner = live.staff(f"owner-{uuid.uuid4().hex[:6]}@example.com", "customer", "Owner")
        owner_headers = bearer(owner["tokens"])
        rid = await _a_paid_request(api, live, owner_headers, shop)
        visit = (await api.get(f"/service-requests/{rid}", headers=owner_headers)).json()
        sid = visit["subscription_id"]
        (order,) = (await api.get("/orders", headers=owner_headers)).json()["items"]
        inbox = (await api.get("/me/notifications", headers=owner_headers)).json()["items"]
        assert inbox, "the owner was told of the purchase"

        other_email = f"other-{uuid.uuid4().hex[:6]}@example.com"
        other = live.staff(other_email, "customer", "Other")
        other_headers = bearer(other["tokens"])
        for path in (
            f"/orders/{order['id']}",
            f"/orders/{order['id']}/receipt",
            f"/subscriptions/{sid}",
            f"/service-requests/{rid}",
            f"/service-requests/{rid}/photos",
            f"/service-requests/{rid}/events",
        ):
            answer = await api.get(path, headers=other_headers)
            assert answer.status_code == 404, f"{path}: {answer.status_code}"
        read = await api.post(f"/me/notifications/{inbox[0]['id']}/read", headers=other_headers)
        assert read.status_code == 404

    context = await phone(browser, live)
    page = await context.new_page()
    await page.goto("/app/sign-in")
    await page.get_by_label("Email or phone").fill(other_email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Home care plans")).to_be_visible()
    for path, missing in (
        (f"/app/orders/{order['id']}", "order not found"),
        (f"/app/my-plans/{sid}", "subscription not found"),
        (f"/app/visits/{rid}", "service request not found"),
    ):
        await page.goto(path)
        await expect(page.get_by_role("alert")).to_contain_text(re.compile(missing, re.I))
        await expect(page.get_by_text("The kitchen tap")).to_be_hidden()
    await page.goto("/app/inbox")
    await expect(page.get_by_text("No messages yet.")).to_be_visible()
    await context.close()


async def test_the_other_screens_pass_axe_and_read_at_a_desk_too(
    browser: Browser, live: Live, shop: dict[str, Any]
) -> None:
    async with live.client() as api:
        who = live.staff(f"desk-{uuid.uuid4().hex[:6]}@example.com", "customer", "Desk User")
        headers = bearer(who["tokens"])
        rid = await _a_paid_request(api, live, headers, shop)
        sid = (await api.get(f"/service-requests/{rid}", headers=headers)).json()["subscription_id"]
    for size, label in ((PHONE, "phone"), (DESK, "desk")):
        context = await browser.new_context(viewport=size, base_url=live.base_url, timezone_id=ZONE)
        page = await context.new_page()
        await page.goto("/app/sign-in")
        await check(page, f"sign-in-{label}")
        await page.get_by_label("Email or phone").fill(who["user"]["email"])
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Home care plans")).to_be_visible()
        for path, heading in (
            ("/app/orders", "Purchases"),
            (f"/app/my-plans/{sid}", "Home Care"),
            ("/app/visits", "Visits"),
            ("/app/settings/notifications", "Notification settings"),
            ("/app/jobs", "Today's jobs"),  # not a technician: an empty day, not an error
            ("/app/no-such-page", "This page does not exist."),
        ):
            await page.goto(path)
            await expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
            await check(page, f"{path.strip('/').replace('/', '-')}-{label}")
        await context.close()
