"""What the mix acts on and what it saw: the admin, the plan, the technicians, the customers and
their subscriptions, and the client's own record of what it did and was told (orders it
approved or declined, requests it moved, events its streams received), which the checks hold
against the database and Temporal afterwards."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from chaos.client import Api, Session
from chaos.stack import ADMIN_EMAIL, ADMIN_PASSWORD

# A plan whose periods pass within a run: VALIDITY_DAYS subscription days (see
# SUBSCRIPTION_DAY_SECONDS), 2 plumbing and 2 electrical visits.
VALIDITY_DAYS = 12
TECHNICIANS = 8
ALWAYS = {day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@dataclass
class Holder:
    """A customer with a live plan: their session and subscription, how it renews."""

    who: Session
    subscription_id: str
    address_id: str
    renewal: str  # auto (an approving card), auto_decline, manual, lapse
    requests: int = 0


@dataclass
class RequestSeen:
    request_id: str
    holder: Holder
    final: str | None = None  # completed or cancelled, as the client moved it
    stream_ids: list[int] = field(default_factory=list)  # change ids its streams received
    first_state: int | None = None  # the id of the first `state` event: changes after it count
    ended: bool = False  # its stream reached the end (the last change, or a 204)
    reconnects: int = 0


@dataclass
class World:
    api: Api
    rng: random.Random
    seed: int
    admin: Session = field(default_factory=lambda: Session(ADMIN_EMAIL, ADMIN_PASSWORD))
    plan: dict[str, Any] = field(default_factory=dict)
    categories: dict[str, str] = field(default_factory=dict)  # slug -> id
    technicians: list[str] = field(default_factory=list)
    holders: list[Holder] = field(default_factory=list)
    # order id -> what the payer did on the sandbox page: approve or decline
    paid: dict[str, str] = field(default_factory=dict)
    requests: dict[str, RequestSeen] = field(default_factory=dict)
    races: list[list[str]] = field(default_factory=list)  # the requests that won each race
    campaigns: list[str] = field(default_factory=list)
    customers: int = 0
    slot: int = 0  # the next free visit window (no two requests share one)
    errors: list[str] = field(default_factory=list)

    def email(self) -> str:
        self.customers += 1
        return f"chaos{self.seed}-{self.customers}@example.com"

    def next_window(self) -> tuple[str, str]:
        """A one-hour window of its own, from tomorrow on (hours 00-22, UTC)."""
        from datetime import UTC, datetime, timedelta

        n, self.slot = self.slot, self.slot + 1
        day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        start = day + timedelta(days=1 + n // 23, hours=n % 23)
        return start.isoformat(), (start + timedelta(hours=1)).isoformat()


async def prepare(world: World) -> None:
    """The admin signs in; a plan of short validity is published and technicians who cover the
    customers' zone at every hour are added, all through the API."""
    api, admin = world.api, world.admin
    await api.sign_in(admin)
    listed = (await api.call("GET", "/admin/catalog/categories", who=admin, ok=(200,))).json()
    items = listed["items"] if isinstance(listed, dict) else listed
    world.categories = {c["slug"]: c["id"] for c in items}
    body = {
        "slug": f"chaos-care-{world.seed}",
        "name": "Chaos Care",
        "description": "A plan whose year passes in a minute.",
        "categories": ["plumbing", "electrical"],
        "price": {
            "amount_minor": 99900,
            "currency": "INR",
            "tax_rate_bps": 1800,
            "includes_tax": True,
        },
        "validity_days": VALIDITY_DAYS,
        "visit_cap": 4,
        "inclusions": [
            {"category": "plumbing", "visits": 2, "details": "Taps and pipes."},
            {"category": "electrical", "visits": 2, "details": "Switches."},
        ],
    }
    plan = (await api.call("POST", "/admin/catalog/plans", who=admin, json=body)).json()
    if "id" not in plan:  # a retried create whose first attempt landed: find it
        found = (await api.call("GET", "/admin/catalog/plans", who=admin, ok=(200,))).json()
        plans = found["items"] if isinstance(found, dict) else found
        plan = next(p for p in plans if p["slug"] == body["slug"])
    published = await api.call(
        "POST", f"/admin/catalog/plans/{plan['id']}/publish", who=admin, ok=(200, 409)
    )
    world.plan = published.json() if published.status_code == 200 else plan
    for n in range(TECHNICIANS):
        tech = {
            "name": f"Technician {n + 1}",
            "phone": f"+9198{world.seed % 100:02d}{n:06d}",
            "skills": ["plumbing", "electrical"],
            "zones": ["560001"],
            "working_hours": ALWAYS,
            "timezone": "UTC",
            "is_active": True,
        }
        made = await api.call("POST", "/admin/technicians", who=admin, json=tech)
        if made.status_code == 201:
            world.technicians.append(made.json()["id"])
    if not world.technicians:
        raise AssertionError("no technician could be added")
