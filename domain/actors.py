"""Who did something: how an actor is recorded, and the one way it is named to a person.

Timelines (orders, subscriptions, service requests, the dispatch log) record their actor as a
short string that a workflow can carry: `customer`, `workflow`, `admin:<user id>` (a staff
member) or `technician:<technician id>`. Nobody reads those. `name_all` turns them into an
`Actor` (a role and a name) for the audience that reads them:

| recorded            | the customer      | the technician    | staff                      |
|---------------------|-------------------|-------------------|----------------------------|
| customer            | You               | the customer's name (or "Customer")            |
| admin:<user id>     | Support team      | Support team      | the staff member's name    |
| technician:<id>     | the technician's name, for everyone                            |
| workflow            | System, for everyone                                           |

A customer never learns who on the staff acted, nor any internal id; staff see names, not ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.accounts.models import User
from domain.technicians.models import Technician

CUSTOMER = "customer"
WORKFLOW = "workflow"
_STAFF = ("admin", "support")

Audience = Literal["customer", "technician", "staff"]
Role = Literal["customer", "technician", "staff", "system"]


def staff(user_id: uuid.UUID) -> str:
    """A staff member's action, as recorded."""
    return f"admin:{user_id}"


def staff_id(recorded: str) -> uuid.UUID | None:
    """The staff member who acted, if one did (their moves are audited)."""
    kind, ident = _split(recorded)
    return ident if kind in _STAFF else None


def technician(technician_id: uuid.UUID) -> str:
    """A technician's action, as recorded."""
    return f"technician:{technician_id}"


class Actor(BaseModel):
    """Who did it, as the reader may know them."""

    role: Role = Field(description="customer, technician, staff or system")
    name: str = Field(description="A name to show: a person's, or a role's (You, Support team)")


SYSTEM = Actor(role="system", name="System")
# A person's name, or how else they can be told apart when they gave none.
_SHOWN = func.coalesce(User.name, User.email, User.phone)


def _split(recorded: str) -> tuple[str, uuid.UUID | None]:
    kind, _, rest = recorded.partition(":")
    try:
        return kind, uuid.UUID(rest) if rest else None
    except ValueError:
        return kind, None


async def name_all(
    db: AsyncSession,
    recorded: Iterable[str],
    *,
    audience: Audience,
    customer_id: uuid.UUID | None = None,
) -> dict[str, Actor]:
    """Each recorded actor as `audience` reads it (one query per kind of person named);
    `customer_id`: the customer whose order, plan or visit it is."""
    kinds: dict[str, tuple[str, uuid.UUID | None]] = {r: _split(r) for r in set(recorded)}
    staff_ids = {i for k, i in kinds.values() if k in _STAFF and i is not None}
    technician_ids = {i for k, i in kinds.values() if k == "technician" and i is not None}
    customer_name = None
    if audience != "customer" and customer_id and any(k == CUSTOMER for k, _ in kinds.values()):
        customer_name = await _person(db, customer_id)
    people: dict[uuid.UUID, str] = {}
    if staff_ids and audience == "staff":
        rows = await db.execute(select(User.id, _SHOWN).where(User.id.in_(staff_ids)))
        people |= {i: n for i, n in rows.all() if n}
    if technician_ids:
        rows = await db.execute(
            select(Technician.id, Technician.name).where(Technician.id.in_(technician_ids))
        )
        people |= {i: n for i, n in rows.all()}
    named: dict[str, Actor] = {}
    for text, (kind, ident) in kinds.items():
        who: str | None
        if kind == CUSTOMER:
            who = "You" if audience == "customer" else customer_name
            named[text] = Actor(role="customer", name=who or "Customer")
        elif kind in _STAFF:
            who = people.get(ident) if ident and audience == "staff" else None
            fallback = "A former staff member" if audience == "staff" else "Support team"
            named[text] = Actor(role="staff", name=who or fallback)
        elif kind == "technician":
            who = people.get(ident) if ident else None
            named[text] = Actor(role="technician", name=who or "Technician")
        else:
            named[text] = SYSTEM
    return named


async def _person(db: AsyncSession, user_id: uuid.UUID) -> str | None:
    return (await db.execute(select(_SHOWN).where(User.id == user_id))).scalar_one_or_none()
