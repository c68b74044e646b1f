"""Human numbers and the staff's one search box.

Requests and orders get short numbers people can say (R-1042, O-2077) from a sequence each,
shown to customers and staff alike; the migration numbered the rows already there in the order
they were made. `GET /admin/search?q=` finds customers by name, email or phone (written with or
without +91 and spaces), requests and orders by number (with their letter or bare digits) and
receipts by theirs. Support may search; customers are refused."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import psycopg
from alembic import command
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from devstack.postgres import LocalPostgres
from domain.accounts.models import User
from tests.conftest import alembic_config, make_database
from tests.support.catalog_helpers import make_admin
from tests.support.request_helpers import Shop, asked, shop, window

PHONE = "+919812345678"
BEFORE_NUMBERS = "4c2a9e7d1f30"


async def _search(api: httpx.AsyncClient, headers: dict[str, str], q: str) -> dict[str, Any]:
    found = await api.get("/admin/search", params={"q": q}, headers=headers)
    assert found.status_code == 200, found.text
    return dict(found.json())


async def _world(api: httpx.AsyncClient, db: AsyncSession) -> tuple[Shop, dict[str, Any]]:
    s = await shop(api, db, "asha.rao@example.com", phone=PHONE)
    await db.execute(
        update(User).where(User.email == "asha.rao@example.com").values(name="Asha Rao")
    )
    await db.commit()
    return s, await asked(api, s)


async def test_requests_and_orders_have_numbers_customers_and_staff_see(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s, first = await _world(api, db)
    second = await asked(api, s, when=window(days=3))
    assert first["number"].startswith("R-")
    assert int(second["number"][2:]) > int(first["number"][2:])  # in the order made

    mine = (await api.get(f"/service-requests/{first['id']}", headers=s.customer)).json()
    assert mine["number"] == first["number"]
    listed = (await api.get("/admin/service-requests", headers=s.admin)).json()
    assert {r["id"]: r["number"] for r in listed["items"]} == {
        first["id"]: first["number"],
        second["id"]: second["number"],
    }

    order = (await api.get(f"/orders/{s.bought.order_id}", headers=s.customer)).json()
    assert order["number"].startswith("O-")
    staff = (await api.get(f"/admin/orders/{s.bought.order_id}", headers=s.admin)).json()
    assert staff["number"] == order["number"]
    payments = (await api.get("/admin/payments", headers=s.admin)).json()["items"]
    assert [p["order_number"] for p in payments] == [order["number"]]


async def test_customers_are_found_by_name_email_or_phone_written_any_way(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s, _ = await _world(api, db)
    for q in ("asha", "Rao", "ASHA.RAO@", "+91 98123 45678", "98123 45678", "9812345678",
              "+919812345678", "098123 45678", "45678"):  # fmt: skip
        found = await _search(api, s.admin, q)
        assert [c["email"] for c in found["customers"]] == ["asha.rao@example.com"], q
        assert found["customers"][0]["phone"] == PHONE
        assert found["customers_total"] == 1
    # Staff are not customers: the admin's own account is never found.
    assert (await _search(api, s.admin, "admin@"))["customers"] == []
    assert (await _search(api, s.admin, "nobody"))["customers"] == []


async def test_requests_orders_and_receipts_are_found_by_their_numbers(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s, request = await _world(api, db)
    digits = request["number"].removeprefix("R-")
    for q in (request["number"], request["number"].lower(), f"R {digits}", f"#{digits}", digits):
        found = await _search(api, s.admin, q)
        assert [r["id"] for r in found["requests"]] == [request["id"]], q
        assert found["requests"][0]["customer_name"] == "Asha Rao"
        assert found["requests"][0]["category"] == "Plumbing"
    # With its letter, a number names that kind alone.
    assert (await _search(api, s.admin, request["number"]))["orders"] == []

    order = (await api.get(f"/admin/orders/{s.bought.order_id}", headers=s.admin)).json()
    for q in (order["number"], order["number"].removeprefix("O-")):
        found = await _search(api, s.admin, q)
        assert [o["id"] for o in found["orders"]] == [order["id"]], q
        assert found["orders"][0]["customer_name"] == "Asha Rao"
    assert (await _search(api, s.admin, order["number"]))["requests"] == []

    receipt = order["receipt_number"]
    for q in (str(receipt), f"receipt {receipt}"):
        found = await _search(api, s.admin, q)
        (hit,) = found["receipts"]
        assert (hit["number"], hit["order_id"], hit["order_number"]) == (
            receipt,
            order["id"],
            order["number"],
        )
        assert hit["customer_id"] == found["receipts"][0]["customer_id"]
    assert (await _search(api, s.admin, "R-999999"))["requests"] == []


async def test_support_may_search_and_customers_may_not(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s, request = await _world(api, db)
    support = await make_admin(api, db, "support@example.com")
    await db.execute(update(User).where(User.email == "support@example.com").values(role="support"))
    await db.commit()
    found = await _search(api, support, request["number"])
    assert [r["id"] for r in found["requests"]] == [request["id"]]
    refused = await api.get("/admin/search", params={"q": "asha"}, headers=s.customer)
    assert refused.status_code == 403
    missing = await api.get("/admin/search", headers=s.admin)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "q"


def test_the_migration_numbers_the_rows_already_there_in_the_order_they_were_made(
    pg_server: LocalPostgres | None,
) -> None:
    url = make_database(pg_server, f"homeplans_numbers_{uuid.uuid4().hex[:8]}")
    config = alembic_config(url)
    command.upgrade(config, BEFORE_NUMBERS)
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    user = uuid.uuid4()
    made = [uuid.uuid4() for _ in range(3)]  # oldest first, inserted newest first
    with psycopg.connect(plain) as conn:
        conn.execute("SET session_replication_role = replica")  # no foreign rows needed
        conn.execute(
            "INSERT INTO users (id, email, role, name)"
            " VALUES (%s, 'a@example.com', 'customer', 'A')",
            (user,),
        )
        for n, order_id in reversed(list(enumerate(made))):
            conn.execute(
                "INSERT INTO orders (id, user_id, status, provider, currency, subtotal_minor,"
                " tax_minor, total_minor, idempotency_key, request_hash, created_at, updated_at)"
                " VALUES (%s, %s, 'completed', 'sandbox', 'INR', 100, 0, 100, %s, 'h',"
                " now() - make_interval(days => %s), now())",
                (order_id, user, f"key-{n}", 10 - n),
            )
            conn.execute(
                "INSERT INTO service_requests (id, user_id, subscription_id, category_id, address,"
                " postal_code, description, window_start, window_end, status, parts_used,"
                " created_at, updated_at) VALUES (%s, %s, %s, %s, '{}', '560001', 'x',"
                " now(), now() + interval '1 hour', 'pending', '[]',"
                " now() - make_interval(days => %s), now())",
                (order_id, user, uuid.uuid4(), uuid.uuid4(), 10 - n),
            )
    command.upgrade(config, "head")
    with psycopg.connect(plain) as conn:
        for table in ("orders", "service_requests"):
            numbered = conn.execute(f"SELECT id, number FROM {table} ORDER BY number").fetchall()  # noqa: S608
            assert numbered == [(made[0], 1001), (made[1], 1002), (made[2], 1003)], table
        # New rows go on from there.
        conn.execute("SET session_replication_role = replica")
        (fresh,) = conn.execute(
            "INSERT INTO orders (id, user_id, status, provider, currency, subtotal_minor,"
            " tax_minor, total_minor, idempotency_key, request_hash)"
            " VALUES (%s, %s, 'completed', 'sandbox', 'INR', 100, 0, 100, 'new', 'h')"
            " RETURNING number",
            (uuid.uuid4(), user),
        ).fetchone() or (None,)
        assert fresh == 1004
