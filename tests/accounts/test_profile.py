"""The profile, addresses and saved payment methods: each user sees and changes only their own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from domain.audit.models import AuditEntry
from tests.conftest import bearer, register

HOME = {
    "label": "Home",
    "line1": "12 MG Road",
    "city": "Bengaluru",
    "postal_code": "560001",
    "country": "IN",
}
OFFICE = {
    "label": "Office",
    "line1": "4 Residency Rd",
    "city": "Bengaluru",
    "postal_code": "560025",
    "country": "IN",
}


@pytest.fixture
async def alice(api: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    return bearer((await register(api, "alice@example.com", name="Alice"))["tokens"])


@pytest.fixture
async def bob(api: httpx.AsyncClient, db: AsyncSession) -> dict[str, str]:
    return bearer((await register(api, "bob@example.com", name="Bob"))["tokens"])


async def test_update_my_name(api: httpx.AsyncClient, alice: dict[str, str]) -> None:
    response = await api.patch("/me", headers=alice, json={"name": "Alice K"})
    assert response.status_code == 200
    assert (await api.get("/me", headers=alice)).json()["name"] == "Alice K"


@pytest.mark.parametrize(
    "field", [{"role": "admin"}, {"email_verified": True}, {"is_active": True}]
)
async def test_self_update_cannot_set_role_or_flags(
    api: httpx.AsyncClient, alice: dict[str, str], field: dict[str, Any]
) -> None:
    response = await api.patch("/me", headers=alice, json={"name": "A", **field})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"][0]["field"] == next(iter(field))
    assert "Extra inputs are not permitted" in body["errors"][0]["message"]
    me = (await api.get("/me", headers=alice)).json()
    assert me["role"] == "customer"
    assert me["name"] == "Alice"


async def test_taking_someone_elses_email_is_a_conflict(
    api: httpx.AsyncClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    response = await api.patch("/me", headers=alice, json={"email": "bob@example.com"})
    assert response.status_code == 409
    assert (await api.get("/me", headers=alice)).json()["email"] == "alice@example.com"


async def test_first_address_is_default_and_default_moves(
    api: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    home = (await api.post("/me/addresses", headers=alice, json=HOME)).json()
    assert home["is_default"] is True
    office = (
        await api.post("/me/addresses", headers=alice, json={**OFFICE, "is_default": True})
    ).json()
    listed = (await api.get("/me/addresses", headers=alice)).json()
    assert [a["id"] for a in listed] == [office["id"], home["id"]]
    assert [a["is_default"] for a in listed] == [True, False]

    await api.patch(f"/me/addresses/{home['id']}", headers=alice, json={"is_default": True})
    listed = (await api.get("/me/addresses", headers=alice)).json()
    assert [(a["label"], a["is_default"]) for a in listed] == [("Home", True), ("Office", False)]

    await api.delete(f"/me/addresses/{home['id']}", headers=alice)
    listed = (await api.get("/me/addresses", headers=alice)).json()
    assert [(a["label"], a["is_default"]) for a in listed] == [("Office", True)]


async def test_another_users_address_is_not_found(
    api: httpx.AsyncClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    home = (await api.post("/me/addresses", headers=alice, json=HOME)).json()
    url = f"/me/addresses/{home['id']}"
    assert (await api.get(url, headers=bob)).status_code == 404
    assert (await api.patch(url, headers=bob, json={"city": "Mysuru"})).status_code == 404
    assert (await api.delete(url, headers=bob)).status_code == 404
    assert (await api.get("/me/addresses", headers=bob)).json() == []
    assert (await api.get(url, headers=alice)).json()["city"] == "Bengaluru"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"country": "India"}, "country"),
        ({"postal_code": ""}, "postal_code"),
        ({"line1": "x" * 201}, "line1"),
        ({"planet": "Mars"}, "planet"),
    ],
)
async def test_bad_address_is_refused_with_the_field(
    api: httpx.AsyncClient, alice: dict[str, str], change: dict[str, Any], field: str
) -> None:
    response = await api.post("/me/addresses", headers=alice, json={**HOME, **change})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_payment_methods_are_tokens_only_and_private(
    api: httpx.AsyncClient, alice: dict[str, str], bob: dict[str, str]
) -> None:
    card = {
        "provider": "stripe",
        "provider_method_id": "pm_1QabcDEF",
        "kind": "card",
        "brand": "visa",
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2030,
    }
    saved = await api.post("/me/payment-methods", headers=alice, json=card)
    assert saved.status_code == 201, saved.text
    assert saved.json()["is_default"] is True
    assert "provider_method_id" not in saved.json()

    assert (await api.get("/me/payment-methods", headers=bob)).json() == []
    gone = await api.delete(f"/me/payment-methods/{saved.json()['id']}", headers=bob)
    assert gone.status_code == 404
    assert len((await api.get("/me/payment-methods", headers=alice)).json()) == 1


async def test_a_card_number_is_refused(api: httpx.AsyncClient, alice: dict[str, str]) -> None:
    response = await api.post(
        "/me/payment-methods",
        headers=alice,
        json={"provider": "stripe", "provider_method_id": "4242424242424242", "kind": "card"},
    )
    assert response.status_code == 422
    assert "card number" in response.json()["detail"]
    assert (await api.get("/me/payment-methods", headers=alice)).json() == []


async def _make_admin(db: AsyncSession, email: str) -> None:
    await db.execute(update(User).where(User.email == email).values(role="admin"))
    await db.commit()


async def test_admin_routes_refuse_customers_and_strangers(
    api: httpx.AsyncClient, alice: dict[str, str]
) -> None:
    assert (await api.get("/admin/users")).status_code == 401
    response = await api.get("/admin/users", headers=alice)
    assert response.status_code == 403
    assert "admin" in response.json()["detail"]


async def test_an_admin_search_takes_percent_and_underscore_literally(
    api: httpx.AsyncClient, db: AsyncSession, alice: dict[str, str], bob: dict[str, str]
) -> None:
    await _make_admin(db, "alice@example.com")

    async def found(q: str) -> int:
        answer = await api.get("/admin/users", headers=alice, params={"q": q})
        assert answer.status_code == 200, answer.text
        return int(answer.json()["total"])

    assert await found("bob") == 1
    assert await found("%") == 0  # not everyone
    assert await found("b_b") == 0  # "_" is not any character
    assert await found("\\") == 0


async def test_admin_changes_a_role_and_it_is_audited(
    api: httpx.AsyncClient, db: AsyncSession, alice: dict[str, str], bob: dict[str, str]
) -> None:
    await _make_admin(db, "alice@example.com")
    users = (await api.get("/admin/users", headers=alice, params={"q": "bob"})).json()
    assert users["total"] == 1
    bob_id = users["items"][0]["id"]

    changed = await api.patch(f"/admin/users/{bob_id}", headers=alice, json={"role": "support"})
    assert changed.status_code == 200
    assert changed.json()["role"] == "support"

    entry = (
        await db.execute(select(AuditEntry).where(AuditEntry.entity_id == bob_id))
    ).scalar_one()
    assert entry.action == "user.update"
    assert entry.before is not None and entry.before["role"] == "customer"
    assert entry.after is not None and entry.after["role"] == "support"
    alice_id = (await api.get("/me", headers=alice)).json()["id"]
    assert str(entry.actor_id) == alice_id

    # Bob (support now) may read the user list, but not change roles.
    assert (await api.get("/admin/users", headers=bob)).status_code == 200
    denied = await api.patch(f"/admin/users/{bob_id}", headers=bob, json={"role": "admin"})
    assert denied.status_code == 403


async def test_deactivating_a_user_ends_their_sessions(
    api: httpx.AsyncClient, db: AsyncSession, alice: dict[str, str], bob: dict[str, str]
) -> None:
    await _make_admin(db, "alice@example.com")
    bob_id = (await api.get("/me", headers=bob)).json()["id"]
    response = await api.patch(f"/admin/users/{bob_id}", headers=alice, json={"is_active": False})
    assert response.status_code == 200
    assert (await api.get("/me", headers=bob)).status_code == 401


async def test_an_admin_cannot_demote_themselves(
    api: httpx.AsyncClient, db: AsyncSession, alice: dict[str, str]
) -> None:
    await _make_admin(db, "alice@example.com")
    alice_id = (await api.get("/me", headers=alice)).json()["id"]
    response = await api.patch(f"/admin/users/{alice_id}", headers=alice, json={"role": "customer"})
    assert response.status_code == 409
    assert (await api.get("/me", headers=alice)).json()["role"] == "admin"
