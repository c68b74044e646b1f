"""The support inbox as staff work it: the queue of callbacks still to do, oldest first; a call
made from a callback's tel: link logged on it (an open one becomes the caller's), in its history
with the caller's name and in the audit log; a callback handed to another staff member (not to a
customer, not one someone else holds); a closed one takes no more calls; customers kept out."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from domain.audit.models import AuditEntry
from tests.conftest import bearer, register

PHONE = "+919812300011"


async def _user(
    api: httpx.AsyncClient, db: AsyncSession, email: str, name: str, role: str = "customer"
) -> tuple[str, dict[str, str]]:
    body = await register(api, email, phone=PHONE if role == "customer" else None, name=name)
    if role != "customer":
        await db.execute(update(User).where(User.email == email).values(role=role))
        await db.commit()
    return body["user"]["id"], bearer(body["tokens"])


async def _actions(db: AsyncSession, entity_id: str) -> list[tuple[str, Any]]:
    rows = await db.execute(
        select(AuditEntry.action, AuditEntry.actor_id)
        .where(AuditEntry.entity_id == entity_id)
        .order_by(AuditEntry.at, AuditEntry.id)
    )
    out = [(action, str(actor)) for action, actor in rows.all()]
    await db.commit()
    return out


async def test_a_call_logged_on_a_callback_is_in_its_history_and_the_audit_log(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    customer_id, customer = await _user(api, db, "asha@example.com", "Asha Rao")
    meera_id, meera = await _user(api, db, "meera@example.com", "Meera Nair", "support")
    ravi_id, ravi = await _user(api, db, "ravi@example.com", "Ravi Shah", "support")
    asked = await api.post(
        "/support/callbacks",
        json={"reason": "billing", "note": "Charged twice"},
        headers=customer,
    )
    assert asked.status_code == 201, asked.text
    cb = asked.json()["id"]
    later = (
        await api.post("/support/callbacks", json={"reason": "plan"}, headers=customer)
    ).json()["id"]

    # The queue: both waiting, the oldest first, each with its number as a tel: link.
    queue = (await api.get("/admin/callbacks", params={"waiting": True}, headers=meera)).json()
    assert [c["id"] for c in queue["items"]] == [cb, later]
    assert queue["items"][0]["tel"] == f"tel:{PHONE}"

    # Meera dials from the link and logs what happened: the callback becomes hers.
    logged = await api.post(
        f"/admin/callbacks/{cb}/calls",
        json={"outcome": "no_answer", "notes": "Rang for a minute"},
        headers=meera,
    )
    assert logged.status_code == 201, logged.text
    call = logged.json()
    assert call["number"] == PHONE
    assert call["purpose"] == "callback"
    assert call["staff"]["name"] == "Meera Nair"
    mine = (await api.get(f"/admin/callbacks/{cb}", headers=meera)).json()
    assert mine["status"] == "taken"
    assert mine["taken_by"]["name"] == "Meera Nair"
    # On the customer's record too.
    record = (await api.get(f"/admin/users/{customer_id}/calls", headers=meera)).json()
    assert [c["id"] for c in record["items"]] == [call["id"]]

    # Ravi may not call a callback Meera holds: he is told it is hers.
    refused = await api.post(
        f"/admin/callbacks/{cb}/calls", json={"outcome": "reached"}, headers=ravi
    )
    assert refused.status_code == 409, refused.text
    assert "Meera Nair" in refused.json()["detail"]

    # Meera hands it to Ravi; he reaches the customer and closes it.
    handed = await api.post(
        f"/admin/callbacks/{cb}/assign", json={"staff_id": ravi_id}, headers=meera
    )
    assert handed.status_code == 200, handed.text
    assert handed.json()["taken_by"]["name"] == "Ravi Shah"
    reached = await api.post(
        f"/admin/callbacks/{cb}/calls", json={"outcome": "reached"}, headers=ravi
    )
    assert reached.status_code == 201, reached.text
    closed = await api.post(
        f"/admin/callbacks/{cb}/close",
        json={"outcome": "resolved", "notes": "Refund explained"},
        headers=ravi,
    )
    assert closed.status_code == 200, closed.text

    history = (await api.get(f"/admin/callbacks/{cb}/history", headers=meera)).json()
    assert [(e["kind"], e["text"], e["actor"]) for e in history] == [
        ("asked", "Asked to be called about billing", "Asha Rao"),
        ("taken", "Took it", "Meera Nair"),
        ("call", f"Called {PHONE}: no answer", "Meera Nair"),
        ("assigned", "Handed it to Ravi Shah", "Meera Nair"),
        ("call", f"Called {PHONE}: reached them", "Ravi Shah"),
        ("closed", "Closed it: resolved", "Ravi Shah"),
    ]
    assert history[0]["notes"] == "Charged twice"
    assert history[2]["notes"] == "Rang for a minute"
    assert history[-1]["notes"] == "Refund explained"

    # Every staff move is in the audit log, by who made it.
    assert await _actions(db, cb) == [
        ("support_callback.take", meera_id),
        ("support_callback.assign", meera_id),
        ("support_callback.close", ravi_id),
    ]
    assert await _actions(db, call["id"]) == [("support_call.create", meera_id)]

    # A closed callback takes no more calls: a later one goes on the customer's record.
    after = await api.post(f"/admin/callbacks/{cb}/calls", json={"outcome": "busy"}, headers=ravi)
    assert after.status_code == 409, after.text
    assert "customer's record" in after.json()["detail"]
    # Only the other one still waits.
    queue = (await api.get("/admin/callbacks", params={"waiting": True}, headers=meera)).json()
    assert [c["id"] for c in queue["items"]] == [later]


async def test_a_callback_goes_only_to_active_staff_and_only_from_who_may_hand_it(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    customer_id, customer = await _user(api, db, "bina@example.com", "Bina Das")
    meera_id, meera = await _user(api, db, "meera@example.com", "Meera Nair", "support")
    ravi_id, ravi = await _user(api, db, "ravi@example.com", "Ravi Shah", "support")
    admin_id, admin = await _user(api, db, "boss@example.com", "Asha Admin", "admin")
    cb = (
        await api.post("/support/callbacks", json={"reason": "service"}, headers=customer)
    ).json()["id"]

    # Not to a customer: the field is named.
    wrong = await api.post(
        f"/admin/callbacks/{cb}/assign", json={"staff_id": customer_id}, headers=meera
    )
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["errors"][0]["field"] == "staff_id"

    # An open one may be handed by anyone on the staff; then it is Ravi's.
    given = await api.post(
        f"/admin/callbacks/{cb}/assign", json={"staff_id": ravi_id}, headers=meera
    )
    assert given.status_code == 200, given.text
    # Meera no longer holds it: she cannot hand it on.
    taken_back = await api.post(
        f"/admin/callbacks/{cb}/assign", json={"staff_id": meera_id}, headers=meera
    )
    assert taken_back.status_code == 409, taken_back.text
    assert "Ravi Shah" in taken_back.json()["detail"]
    # An admin may (Ravi is away).
    moved = await api.post(
        f"/admin/callbacks/{cb}/assign", json={"staff_id": meera_id}, headers=admin
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["taken_by"]["name"] == "Meera Nair"
    assert [a for a in await _actions(db, cb)] == [
        ("support_callback.assign", meera_id),
        ("support_callback.assign", admin_id),
    ]
    history = (await api.get(f"/admin/callbacks/{cb}/history", headers=ravi)).json()
    assert [(e["text"], e["actor"]) for e in history[1:]] == [
        ("Handed it to Ravi Shah", "Meera Nair"),
        ("Handed it to Meera Nair", "Asha Admin"),
    ]

    # Customers reach none of it.
    for method, path, body in (
        ("POST", f"/admin/callbacks/{cb}/assign", {"staff_id": meera_id}),
        ("POST", f"/admin/callbacks/{cb}/calls", {"outcome": "reached"}),
        ("GET", f"/admin/callbacks/{cb}/history", None),
    ):
        answer = await api.request(method, path, json=body, headers=customer)
        assert answer.status_code == 403, (path, answer.text)
