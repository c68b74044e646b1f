"""The public catalog: browsing, filtering, sorting, pagination, detail, conditional GETs (ETag,
304), the demo catalog and the OpenAPI examples."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from api.caching import none_match
from domain.catalog.demo import load_demo_catalog
from domain.catalog.selling import price_breakdown
from tests.support.catalog_helpers import (
    add_active_plan,
    add_categories,
    add_category,
    add_plan,
    make_admin,
    price,
)


def _slugs(page: dict[str, Any]) -> list[str]:
    return [item["slug"] for item in page["items"]]


async def test_public_categories_are_the_active_ones_in_the_catalogs_order(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_category(api, admin, "masonry", is_active=False)
    await add_category(api, admin, "plumbing", icon="mdi:pipe-wrench")
    await add_category(api, admin, "electrical")

    response = await api.get("/catalog/categories")

    assert response.status_code == 200
    body = response.json()
    assert [(c["slug"], c["position"]) for c in body] == [("plumbing", 2), ("electrical", 3)]
    assert body[0]["icon"] == "mdi:pipe-wrench"
    assert "is_active" not in body[0]


async def test_only_active_plans_are_listed_and_readable(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    await add_active_plan(api, admin, "on-sale")
    draft = await add_plan(api, admin, "still-a-draft")
    archived = await add_active_plan(api, admin, "retired")
    await api.post(f"/admin/catalog/plans/{archived['id']}/archive", headers=admin)

    listed = (await api.get("/catalog/plans")).json()

    assert _slugs(listed) == ["on-sale"]
    assert listed["total"] == 1
    for hidden in (draft, archived):
        assert (await api.get(f"/catalog/plans/{hidden['id']}")).status_code == 404
        assert (await api.get(f"/catalog/plans/{hidden['slug']}")).status_code == 404


async def test_filter_plans_by_category(api: httpx.AsyncClient, db: AsyncSession) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin, "plumbing", "electrical", "carpentry")
    await add_active_plan(api, admin, "wet-and-wired")  # plumbing + electrical
    await add_active_plan(
        api, admin, "woodwork", categories=["carpentry"], inclusions=[], visit_cap=2
    )

    carpentry = (await api.get("/catalog/plans", params={"category": "carpentry"})).json()
    plumbing = (await api.get("/catalog/plans", params={"category": "plumbing"})).json()
    nothing = (await api.get("/catalog/plans", params={"category": "painting"})).json()

    assert _slugs(carpentry) == ["woodwork"]
    assert _slugs(plumbing) == ["wet-and-wired"]
    assert nothing == {"items": [], "total": 0, "limit": 20, "offset": 0}


async def test_sort_by_price_uses_what_the_customer_pays_tax_included(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    # Sticker prices 1,200 (incl.), 1,100 + 18 % = 1,298, and 500 (incl.).
    await add_active_plan(api, admin, "mid", price=price(120000))
    await add_active_plan(api, admin, "dear", price=price(110000, includes_tax=False))
    await add_active_plan(api, admin, "cheap", price=price(50000))

    featured = (await api.get("/catalog/plans")).json()
    ascending = (await api.get("/catalog/plans", params={"sort": "price_asc"})).json()
    descending = (await api.get("/catalog/plans", params={"sort": "price_desc"})).json()

    assert _slugs(featured) == ["mid", "dear", "cheap"]
    assert _slugs(ascending) == ["cheap", "mid", "dear"]
    assert _slugs(descending) == ["dear", "mid", "cheap"]
    dear = descending["items"][0]["price"]
    assert (dear["amount_minor"], dear["tax_minor"], dear["total_minor"]) == (110000, 19800, 129800)


async def test_pagination_walks_every_active_plan_once(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    for n in range(5):
        await add_active_plan(api, admin, f"plan-{n}")

    pages = [
        (await api.get("/catalog/plans", params={"limit": 2, "offset": offset})).json()
        for offset in (0, 2, 4)
    ]

    assert [_slugs(p) for p in pages] == [["plan-0", "plan-1"], ["plan-2", "plan-3"], ["plan-4"]]
    assert {p["total"] for p in pages} == {5}
    assert pages[1]["limit"] == 2 and pages[1]["offset"] == 2


async def test_plan_detail_by_id_or_slug_shows_the_version_to_buy(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    plan = await add_active_plan(api, admin, "home-care", badge="Most popular")

    by_id = await api.get(f"/catalog/plans/{plan['id']}")
    by_slug = await api.get("/catalog/plans/home-care")

    assert by_id.status_code == 200 and by_slug.status_code == 200
    body = by_id.json()
    assert body == by_slug.json()
    assert body["version_id"] == plan["current_version"]["id"]
    assert body["version"] == 1
    assert body["badge"] == "Most popular"
    assert body["price"] == {
        "amount_minor": 299900,
        "currency": "INR",
        "minor_units": 2,
        "tax_rate_bps": 1800,
        "includes_tax": True,
        "tax_minor": 45747,  # net 2,999.00 / 1.18 = 2,541.5254 -> 2,541.53
        "total_minor": 299900,
    }
    assert [c["slug"] for c in body["categories"]] == ["plumbing", "electrical"]
    plumbing = body["inclusions"][0]
    assert plumbing["category"] == "plumbing"
    assert (plumbing["visits"], plumbing["parts_cap_minor"]) == (2, 50000)
    assert "status" not in body and "sold_at" not in body


@pytest.mark.parametrize(
    "url", ["/catalog/plans", "/catalog/categories", "/catalog/plans/home-care"]
)
async def test_unchanged_catalog_answers_304_and_an_admin_edit_gives_200(
    api: httpx.AsyncClient, db: AsyncSession, url: str
) -> None:
    admin = await make_admin(api, db)
    categories = await add_categories(api, admin)
    plan = await add_active_plan(api, admin, "home-care")

    first = await api.get(url)
    etag = first.headers["etag"]
    assert first.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=600"

    again = await api.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert "max-age=60" in again.headers["cache-control"]

    if url == "/catalog/categories":
        edit = await api.patch(
            f"/admin/catalog/categories/{categories['plumbing']['id']}",
            json={"name": "Plumbing & sanitation"},
            headers=admin,
        )
    else:
        edit = await api.patch(
            f"/admin/catalog/plans/{plan['id']}", json={"badge": "New"}, headers=admin
        )
    assert edit.status_code == 200, edit.text

    after = await api.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200
    assert after.headers["etag"] != etag
    assert ("Plumbing & sanitation" in after.text) or ('"badge":"New"' in after.text)


async def test_etag_follows_content_so_an_edit_of_a_draft_keeps_the_public_list_cached(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    await add_active_plan(api, admin, "on-sale")
    draft = await add_plan(api, admin, "draft")
    etag = (await api.get("/catalog/plans")).headers["etag"]

    edit = await api.patch(
        f"/admin/catalog/plans/{draft['id']}", json={"name": "Renamed draft"}, headers=admin
    )
    assert edit.status_code == 200

    assert (await api.get("/catalog/plans", headers={"If-None-Match": etag})).status_code == 304


async def test_public_catalog_needs_no_sign_in_and_bad_query_is_422(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    assert (await api.get("/catalog/plans")).status_code == 200
    bad_sort = await api.get("/catalog/plans", params={"sort": "cheapest"})
    assert bad_sort.status_code == 422
    assert bad_sort.json()["errors"][0]["field"] == "sort"
    bad_limit = await api.get("/catalog/plans", params={"limit": 0})
    assert bad_limit.status_code == 422
    assert bad_limit.json()["errors"][0]["field"] == "limit"


def test_if_none_match_accepts_lists_weak_tags_and_star() -> None:
    assert none_match('"a", W/"b"', '"b"')
    assert none_match("*", '"x"')
    assert not none_match('"a"', '"b"')
    assert not none_match(None, '"b"')


@pytest.mark.parametrize(
    ("amount", "rate", "inclusive", "expected"),
    [
        (299900, 1800, True, (45747, 299900)),
        (100000, 1800, False, (18000, 118000)),
        (1, 1800, False, (0, 1)),  # 0.18 paise rounds to 0
        (3, 1800, False, (1, 4)),  # 0.54 paise rounds up
        (500, 0, True, (0, 500)),
    ],
)
def test_price_breakdown_rounds_half_up_to_the_minor_unit(
    amount: int, rate: int, inclusive: bool, expected: tuple[int, int]
) -> None:
    assert (
        price_breakdown(amount_minor=amount, tax_rate_bps=rate, includes_tax=inclusive) == expected
    )


async def test_demo_catalog_loads_once_and_only_into_an_empty_catalog(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    assert await load_demo_catalog(db) is True
    await db.commit()
    assert await load_demo_catalog(db) is False
    await db.commit()

    categories = (await api.get("/catalog/categories")).json()
    plans = (await api.get("/catalog/plans", params={"limit": 100})).json()

    slugs = [c["slug"] for c in categories]
    assert {"plumbing", "carpentry", "electrical"} <= set(slugs)
    assert len(slugs) >= 3
    assert plans["total"] >= 5
    for plan in plans["items"]:
        assert plan["price"]["currency"] == "INR"
        assert plan["price"]["tax_rate_bps"] == 1800
        assert plan["price"]["includes_tax"] is True
        assert plan["inclusions"], plan["slug"]
        covered = {c["slug"] for c in plan["categories"]}
        assert {i["category"] for i in plan["inclusions"]} <= covered


async def test_demo_catalog_is_not_loaded_over_an_admins_catalog(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_category(api, admin, "gardening")

    assert await load_demo_catalog(db) is False
    await db.commit()
    assert [c["slug"] for c in (await api.get("/catalog/categories")).json()] == ["gardening"]


async def test_openapi_documents_examples_and_the_304(api: httpx.AsyncClient) -> None:
    spec = (await api.get("/openapi.json")).json()
    schemas = spec["components"]["schemas"]

    assert schemas["PlanOut"]["examples"][0]["price"]["currency"] == "INR"
    assert schemas["CategoryOut"]["examples"]
    assert schemas["PlanCreate"]["examples"]
    listing = spec["paths"]["/api/v1/catalog/plans"]["get"]
    assert "304" in listing["responses"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"]
