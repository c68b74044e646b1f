"""A plan's counts and amounts are JSON numbers: 940.0 is the number 940 (as JSON Schema's
`integer` says), while text ("940"), a boolean or a fraction is refused naming the field."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.catalog_helpers import add_categories, make_admin, plan_body, price


async def test_a_whole_number_written_with_a_fraction_of_zero_is_taken(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    body = plan_body(
        validity_days=365.0, visit_cap=4.0, price={**price(299900), "amount_minor": 299900.0}
    )
    created = await api.post("/admin/catalog/plans", json=body, headers=admin)
    assert created.status_code == 201, created.text
    terms = created.json()["current_version"]
    assert (terms["validity_days"], terms["visit_cap"]) == (365, 4)


async def test_text_a_boolean_or_a_fraction_for_a_number_is_refused_naming_it(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    admin = await make_admin(api, db)
    await add_categories(api, admin)
    for changes, field in (
        ({"validity_days": "365"}, "validity_days"),
        ({"visit_cap": True}, "visit_cap"),
        ({"price": {**price(299900), "amount_minor": "299900"}}, "price.amount_minor"),
        ({"price": {**price(299900), "tax_rate_bps": 1800.5}}, "price.tax_rate_bps"),
    ):
        answer = await api.post("/admin/catalog/plans", json=plan_body(**changes), headers=admin)
        assert answer.status_code == 422, (changes, answer.text)
        fields = [e["field"] for e in answer.json()["errors"]]
        assert fields == [field], changes
        assert "whole number" in answer.json()["errors"][0]["message"]
