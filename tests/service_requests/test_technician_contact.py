"""The technician going to a visit can reach its customer: their name and phone are on the job
(the technician's own views) and in the 'new job' message, for the technician assigned and only
while the visit is still to be done. Completed, cancelled or given to someone else, the contact
is gone; another technician sees nothing of the job; the customer's own views are unchanged.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import Settings
from domain.notifications.contracts import Send, To
from domain.notifications.models import Message
from tests.conftest import outbox_notifier
from tests.support.request_helpers import asked, shop, technician, technician_headers, until

PHONE_A, PHONE_B = "+919812300201", "+919812300202"
CUSTOMER_PHONE = "+919812300299"
ASHA = {"name": "Asha Rao", "phone": CUSTOMER_PHONE}


async def _named(api: httpx.AsyncClient, customer: dict[str, str], name: str) -> None:
    renamed = await api.patch("/me", json={"name": name}, headers=customer)
    assert renamed.status_code == 200, renamed.text


async def _assign(
    api: httpx.AsyncClient, admin: dict[str, str], rid: str, who: dict[str, Any], how: str
) -> None:
    done = await api.post(
        f"/admin/service-requests/{rid}/{how}", json={"technician_id": who["id"]}, headers=admin
    )
    assert done.status_code == 200, done.text


async def _job(api: httpx.AsyncClient, tech: dict[str, str], rid: str) -> dict[str, Any]:
    found = await api.get(f"/technician/jobs/{rid}", headers=tech)
    assert found.status_code == 200, found.text
    return dict(found.json())


async def _listed(api: httpx.AsyncClient, tech: dict[str, str], rid: str) -> dict[str, Any]:
    (item,) = [j for j in (await api.get("/technician/jobs", headers=tech)).json()["items"]]
    assert item["id"] == rid
    return dict(item)


async def _new_job_message(
    api: httpx.AsyncClient, tech: dict[str, str], rid: str
) -> dict[str, Any]:
    """The 'new job' message in the technician's inbox, once it has arrived."""

    def arrived(body: dict[str, Any]) -> bool:
        return any(_is_new_job(item, rid) for item in body["items"])

    inbox = await until(api, "/me/notifications", tech, arrived)
    (message,) = [item for item in inbox["items"] if _is_new_job(item, rid)]
    return message


def _is_new_job(item: dict[str, Any], rid: str) -> bool:
    return bool(item["kind"] == "job.assigned" and item["data"].get("request_id") == rid)


async def test_the_assigned_technician_has_the_customers_name_and_phone_until_the_visit_is_done(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db, phone=CUSTOMER_PHONE)
    await _named(api, s.customer, "Asha Rao")
    ravi = await technician(api, s.admin, "Ravi Kumar", PHONE_A)
    await technician(api, s.admin, "Other Tech", PHONE_B)
    rid = (await asked(api, s))["id"]
    await _assign(api, s.admin, rid, ravi, "assign")

    tech = await technician_headers(api, db, PHONE_A)
    assert (await _job(api, tech, rid))["customer"] == ASHA
    assert (await _listed(api, tech, rid))["customer"] == ASHA
    # The message that told Ravi of the job says whom to call.
    message = await _new_job_message(api, tech, rid)
    assert "Asha Rao" in message["text"] and CUSTOMER_PHONE in message["text"], message
    # Nobody else's technician sees the job, let alone the customer.
    other = await technician_headers(api, db, PHONE_B)
    assert (await api.get(f"/technician/jobs/{rid}", headers=other)).status_code == 404
    assert (await api.get("/technician/jobs", headers=other)).json()["items"] == []
    # The customer's own view is as it was: no contact of theirs echoed back.
    mine = (await api.get(f"/service-requests/{rid}", headers=s.customer)).json()
    assert "customer" not in mine

    started = await api.post(f"/technician/jobs/{rid}/start", headers=tech)
    assert started.status_code == 200, started.text
    assert started.json()["customer"] == ASHA  # at the door, still reachable
    done = await api.post(f"/technician/jobs/{rid}/complete", json={}, headers=tech)
    assert done.status_code == 200, done.text
    assert done.json()["customer"] is None

    # The job stays in Ravi's list and readable, without the customer's contact.
    job = await _job(api, tech, rid)
    assert job["status"] == "completed" and job["customer"] is None
    assert job["address"] and job["description"]
    assert (await _listed(api, tech, rid))["customer"] is None


async def test_a_cancelled_job_no_longer_shows_the_customer_and_a_customer_without_a_phone_has_none(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db)  # registered by email alone
    await _named(api, s.customer, "Meera Iyer")
    ravi = await technician(api, s.admin, "Ravi Kumar", PHONE_A)
    rid = (await asked(api, s))["id"]
    await _assign(api, s.admin, rid, ravi, "assign")
    tech = await technician_headers(api, db, PHONE_A)
    assert (await _job(api, tech, rid))["customer"] == {"name": "Meera Iyer", "phone": None}

    cancelled = await api.post(
        f"/service-requests/{rid}/cancel", json={"reason": "fixed it myself"}, headers=s.customer
    )
    assert cancelled.status_code == 200, cancelled.text
    job = await _job(api, tech, rid)
    assert job["status"] == "cancelled" and job["customer"] is None
    assert (await _listed(api, tech, rid))["customer"] is None


async def test_a_reassigned_job_takes_the_customers_contact_to_the_new_technician(
    api: httpx.AsyncClient, db: AsyncSession
) -> None:
    s = await shop(api, db, phone=CUSTOMER_PHONE)
    await _named(api, s.customer, "Asha Rao")
    ravi = await technician(api, s.admin, "Ravi Kumar", PHONE_A)
    sunil = await technician(api, s.admin, "Sunil Das", PHONE_B)
    rid = (await asked(api, s))["id"]
    await _assign(api, s.admin, rid, ravi, "assign")
    first = await technician_headers(api, db, PHONE_A)
    assert (await _job(api, first, rid))["customer"] == ASHA

    await _assign(api, s.admin, rid, sunil, "reassign")
    # Ravi no longer has the job (as before): no contact either way.
    assert (await api.get(f"/technician/jobs/{rid}", headers=first)).status_code == 404
    assert (await api.get("/technician/jobs", headers=first)).json()["items"] == []
    second = await technician_headers(api, db, PHONE_B)
    assert (await _job(api, second, rid))["customer"] == ASHA
    message = await _new_job_message(api, second, rid)
    assert "Asha Rao" in message["text"] and CUSTOMER_PHONE in message["text"], message


async def test_a_new_job_message_sent_after_the_job_moved_on_does_not_carry_the_contact(
    api: httpx.AsyncClient,
    db: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    # A message's words are read when it goes: one to Ravi that goes only after the job was
    # given to Sunil (a retried delivery, a slow worker) must not hand Ravi the phone.
    s = await shop(api, db, phone=CUSTOMER_PHONE)
    await _named(api, s.customer, "Asha Rao")
    ravi = await technician(api, s.admin, "Ravi Kumar", PHONE_A)
    sunil = await technician(api, s.admin, "Sunil Das", PHONE_B)
    rid = (await asked(api, s))["id"]
    await _assign(api, s.admin, rid, ravi, "assign")
    await _assign(api, s.admin, rid, sunil, "reassign")

    notifier = outbox_notifier(sessions, settings)
    late: dict[str, str] = {}
    for who in (ravi, sunil):
        key = f"late:{uuid.uuid4()}"
        sent = await notifier.send(
            Send(
                kind="job.assigned",
                key=key,
                to=To(technician_id=uuid.UUID(who["id"])),
                refs={"request_id": rid},
            )
        )
        assert sent.messages == 1
        text = await db.scalar(select(Message.text).where(Message.key == f"{key}:{who['user_id']}"))
        await db.commit()
        assert text is not None
        late[who["name"]] = text
    assert "Asha Rao" in late["Sunil Das"] and CUSTOMER_PHONE in late["Sunil Das"], late
    assert "Asha Rao" not in late["Ravi Kumar"] and CUSTOMER_PHONE not in late["Ravi Kumar"], late
