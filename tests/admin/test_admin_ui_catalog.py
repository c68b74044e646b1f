"""The catalogue screens in a real browser, at a desk (1440x900) and on a phone (390x844), with
the browser in New York's zone (the business is in Asia/Kolkata): a negative price is refused at
its field; a price of 0 asks "Publish at ₹0? Customers get it free" before anything is sent; the
versions panel dates each version in the business's zone; archiving a plan a customer holds says
so first; hiding a category says how many plans on sale include it; moving a plan up changes the
public catalog's order. Every catalogue screen (and each confirmation) passes axe-core and needs
no sideways scrolling."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from domain import timefmt
from tests.conftest import bearer
from tests.support.admin_ui_harness import (
    Live,
    axe_check,
    sign_in_admin,
)
from tests.support.catalog_helpers import add_active_plan, add_category
from tests.support.checkout_helpers import buyer_with_cart, checkout, sandbox_act, wait_for_order
from tests.support.waiting import eventually

# A bound for slow machines (each wait ends as soon as the page shows it), never an expectation.
expect.set_options(timeout=20_000)

SIZES: dict[str, ViewportSize] = {
    "desktop": {"width": 1440, "height": 900},
    "phone": {"width": 390, "height": 844},
}
ZONE = "America/New_York"  # the browser's
BUSINESS_ZONE = "Asia/Kolkata"


def _shown_at(iso: str) -> str:
    """What the panel shows for a time: the business's zone with its label, whatever the
    browser's (`Sat 12 Dec 2026, 11:00 IST`)."""
    at = datetime.fromisoformat(iso)
    return f"{timefmt.day(at, BUSINESS_ZONE)}, {timefmt.clock(at, BUSINESS_ZONE)}"


async def _screen(page: Page, path: str, heading: str | re.Pattern[str], name: str) -> None:
    """Open a screen; it is whole (no loading, no error), fits the width and passes axe."""
    await page.goto(path)
    main = page.locator("main")
    await expect(main.get_by_role("heading", name=heading).first).to_be_visible()
    await expect(main.get_by_test_id("loading")).to_have_count(0)
    await expect(main.get_by_test_id("error")).to_have_count(0)
    await _fits_and_passes_axe(page, name)


async def _fits_and_passes_axe(page: Page, name: str) -> None:
    # As a person sees it once it is still: a dialog fading in is not yet its own colours.
    await eventually(
        lambda: page.evaluate(
            "() => document.getAnimations().filter((a) => a.playState === 'running').length"
        ),
        lambda running: running == 0,
        what=f"{name}: the screen still",
    )
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, (name, overflow)
    await axe_check(page, name)


async def _buy(api: httpx.AsyncClient, plan: dict[str, Any], email: str) -> None:
    """A customer buys the plan and pays on the sandbox: then they hold it."""
    buyer = await buyer_with_cart(api, plan, email)
    started = await checkout(api, buyer)
    assert started.status_code == 201, started.text
    assert (await sandbox_act(api, started.json()["payment"])).status_code in (200, 303)
    await wait_for_order(api, buyer, started.json()["order"]["id"], {"completed"})


async def _public_order(api: httpx.AsyncClient) -> list[str]:
    listed = (await api.get("/catalog/plans", params={"limit": 100})).json()
    return [p["slug"] for p in listed["items"]]


@pytest.mark.parametrize("size", list(SIZES))
async def test_the_catalogue_screens_at_a_desk_and_on_a_phone(
    browser: Browser, live: Live, size: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    email = f"catalog-{size}-{tag}@example.com"
    admin = bearer(live.staff(email, "admin", "Cat Admin")["tokens"])
    cats = [f"plumbing-{tag}", f"electrical-{tag}"]
    names = {slug: f"{slug.split('-')[0].title()} {tag}" for slug in cats}
    async with live.client() as api:
        for slug in cats:
            await add_category(api, admin, slug, name=names[slug])
        terms = {
            "categories": cats,
            "inclusions": [{"category": cats[0], "visits": 2}, {"category": cats[1], "visits": 2}],
        }
        first = await add_active_plan(api, admin, f"first-{tag}", name=f"First {tag}", **terms)
        second = await add_active_plan(api, admin, f"second-{tag}", name=f"Second {tag}", **terms)
        await _buy(api, first, f"holder-{size}-{tag}@example.com")

        context = await browser.new_context(
            viewport=SIZES[size],
            base_url=live.base_url,
            timezone_id=ZONE,
            is_mobile=size == "phone",
        )
        try:
            page = await context.new_page()
            await sign_in_admin(page, email)

            # --- a new plan: a negative price is refused at its field; 0 is asked about ---------
            await _screen(page, "/admin/plans/new", "New plan", f"{size}-catalog-plan-new")
            await page.get_by_label(re.compile(r"^Name\b")).fill(f"Free Check {tag}")
            await page.get_by_label("Slug").fill(f"free-check-{tag}")
            await page.get_by_role("combobox", name="Categories").click()
            await page.get_by_role("option", name=names[cats[0]]).click()
            await page.keyboard.press("Escape")
            price = page.get_by_label(re.compile(r"^Price\b"))
            await price.fill("-50")
            await page.get_by_role("button", name="Create plan").click()
            await expect(price).to_have_attribute("aria-invalid", "true")
            await expect(page.get_by_text("The price can't be negative")).to_be_visible()
            await expect(price).to_have_value("-50")  # as typed: never corrected to 0
            await _fits_and_passes_axe(page, f"{size}-catalog-plan-negative-price")

            await price.fill("0")
            await page.get_by_role("button", name="Create plan").click()
            dialog = page.get_by_role("dialog", name="Publish at ₹0? Customers get it free")
            await expect(dialog).to_be_visible()
            await _fits_and_passes_axe(page, f"{size}-catalog-plan-free-asked")
            await dialog.get_by_role("button", name="Keep editing the price").click()
            await expect(page).to_have_url(re.compile(r"/admin/plans/new$"))
            listed = (await api.get("/admin/catalog/plans?limit=100", headers=admin)).json()
            assert f"free-check-{tag}" not in [p["slug"] for p in listed["items"]]

            await page.get_by_role("button", name="Create plan").click()
            await dialog.get_by_role("button", name="Yes, make it free").click()
            await expect(page).to_have_url(re.compile(r"/admin/plans/[0-9a-f-]{36}$"))
            free_id = page.url.rsplit("/", 1)[1]
            free = (await api.get(f"/admin/catalog/plans/{free_id}", headers=admin)).json()
            assert free["current_version"]["price"]["total_minor"] == 0
            assert free["status"] == "draft"

            # --- the versions panel: every version, dated in the business's zone ------------------
            await page.goto(f"/admin/plans/{second['id']}")
            await expect(page.get_by_test_id("version")).to_have_count(1)
            published = second["current_version"]["published_at"]
            version = page.get_by_test_id("version").first
            await expect(version).to_contain_text(f"Published {_shown_at(published)}")
            await _fits_and_passes_axe(page, f"{size}-catalog-plan-edit")

            # The API's refusal of one line is said at that line's field, naming the line.
            line_2 = page.get_by_role("group", name="Included visits, line 2")
            await line_2.get_by_label("Visits").fill("9")
            await page.get_by_role("button", name="Save").click()
            await expect(line_2.get_by_label("Visits")).to_have_attribute("aria-invalid", "true")
            await expect(line_2).to_contain_text(
                re.compile(r"Included visits, line 2: .*9 visits, more than the plan's total of 4")
            )
            await _fits_and_passes_axe(page, f"{size}-catalog-plan-line-refused")
            unchanged = (
                await api.get(f"/admin/catalog/plans/{second['id']}", headers=admin)
            ).json()
            assert unchanged["current_version"] == second["current_version"]

            # --- the plans list: archive says who holds it; a move reorders the public catalog
            await _screen(page, "/admin/plans", "Plans", f"{size}-catalog-plans")
            rows = page.get_by_test_id("plan-row")
            await (
                rows.filter(has_text=f"First {tag}")
                .get_by_role("button", name=f"Archive First {tag}")
                .click()
            )
            archive = page.get_by_role("dialog", name=f"Archive First {tag}?")
            await expect(archive.get_by_test_id("confirm-impact")).to_have_text(
                "1 customer holds this plan; they keep it until it ends; it leaves the catalog."
            )
            await _fits_and_passes_axe(page, f"{size}-catalog-archive-asked")
            await archive.get_by_role("button", name="Archive", exact=True).click()
            held = rows.filter(has_text=f"First {tag}")
            await expect(held.get_by_test_id("status")).to_have_text("Archived")
            # Archived plans sit last.
            await expect(rows.last).to_contain_text(re.compile("Archived"))

            third = await add_active_plan(api, admin, f"third-{tag}", name=f"Third {tag}", **terms)
            before = await _public_order(api)
            assert before.index(second["slug"]) < before.index(third["slug"])
            await page.goto("/admin/plans?status=active")
            await page.get_by_role("button", name=f"Move Third {tag} up").click()
            on_sale = page.get_by_test_id("plan-row")
            await expect(on_sale.filter(has_text=f"Third {tag}")).to_be_visible()
            await expect(on_sale.last).not_to_contain_text(f"Third {tag}")
            after = await _public_order(api)
            assert after.index(third["slug"]) < after.index(second["slug"]), after
            await _fits_and_passes_axe(page, f"{size}-catalog-plans-on-sale")

            # --- categories: hiding one says how many plans on sale include it -------------------
            await _screen(page, "/admin/categories", "Categories", f"{size}-catalog-categories")
            category = page.get_by_test_id("category-row").filter(has_text=names[cats[1]])
            await category.get_by_role("button", name=f"Hide {names[cats[1]]}").click()
            hide = page.get_by_role("dialog", name=f"Hide {names[cats[1]]}?")
            # Second and Third are on sale and include it (First is archived now).
            await expect(hide.get_by_test_id("confirm-impact")).to_contain_text(
                "2 active plans include this category"
            )
            await _fits_and_passes_axe(page, f"{size}-catalog-hide-asked")
            await hide.get_by_role("button", name="Cancel").click()
            await _screen(
                page, "/admin/categories?shown=hidden", "Categories", f"{size}-catalog-hidden"
            )
        finally:
            await context.close()
