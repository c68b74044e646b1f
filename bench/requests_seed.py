"""The rows of the service-requests benchmark, written by bulk SQL (COPY, one transaction per
batch), never through workflows: the admin list reads the read model, and 100,000 workflows
would measure Temporal, not the list.

What `seed_history` writes, matching the schema the API reads (every NOT NULL column, the
foreign keys, the technicians' no-overlap bookings):

- the demo catalog (`load_demo_catalog`), an admin who can sign in;
- TECHNICIANS technicians (each a `technician` user): 2 skills, a block of 8 of the ZONES
  postal codes, Mon-Sat 08:00-20:00 Asia/Kolkata;
- ceil(count / 4) customers, each with a default address in one of the zones and one active
  subscription of the demo plan that covers every category (its order, order item and period);
- `count` requests, 4 per customer, in 3-hour windows from 330 days ago to 21 days ahead; the
  status follows the window: long past ones mostly completed (some cancelled, a few overdue and
  still open), current ones assigned or in progress, future ones mostly assigned (some pending,
  escalated after the SLA's 4 hours); a technician who does the category and serves the zone,
  free in that window (their booking is written, the exclusion constraint is respected); a
  timeline (created, assigned, escalated, started, completed, cancelled, overdue, rated), a
  dispatch decision per assignment, and the visit reservation on the subscription.

The timeline trigger is switched off while the history is copied (and on again in the same
transaction): nobody follows those requests, and 300,000 announcements would only keep the API's
listener busy. `seed_live` writes what the live part needs: customers who can sign in (each
with a subscription, whose workflow the driver starts) and technicians who work around the
clock in the live zone.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

PLAN_SLUG = "premium-home-care"  # the demo plan that covers every category
TECHNICIANS = 400
ZONES = [str(560001 + n) for n in range(100)]
ZONES_PER_TECHNICIAN = 8
REQUESTS_PER_CUSTOMER = 4
SLOT_HOURS = (3, 6, 9, 12)  # UTC: 08:30, 11:30, 14:30, 17:30 in Bengaluru
SLOT_LENGTH = timedelta(hours=3)
PAST_DAYS, AHEAD_DAYS = 330, 21  # the period: 341 days ago to 24 ahead
ESCALATE_AFTER = timedelta(hours=4)  # the setting's default (request_escalate_after_hours)
OVERDUE_MARGIN = timedelta(hours=2)
CATEGORY_WEIGHTS = {
    "plumbing": 30,
    "electrical": 30,
    "appliance-care": 20,
    "carpentry": 15,
    "painting": 5,
}
KOLKATA_HOURS = {
    **{day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")},
    "sun": [],
}
ALWAYS = {day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
LIVE_ZONE = ZONES[0]


@dataclass
class Catalog:
    plan_id: uuid.UUID
    version: dict[str, Any]
    categories: dict[str, uuid.UUID]  # slug -> id


@dataclass
class Seeded:
    """What the measurements pick their filters from."""

    admin_email: str
    requests: int
    customers: int
    technicians: list[str]
    zones: list[str]
    categories: dict[str, str]  # slug -> id
    events: int = 0
    bookings: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    escalated: int = 0
    overdue: int = 0


@dataclass
class LiveCustomer:
    user_id: str
    email: str
    subscription_id: str


@dataclass
class Live:
    customers: list[LiveCustomer]
    technicians: list[str]


def conninfo(database_url: str) -> str:
    """SQLAlchemy's URL (postgresql+psycopg://...) as libpq takes it."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1)


async def catalog(database_url: str) -> Catalog:
    """The demo catalog (loaded if missing) and the plan that covers every category."""
    import psycopg
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from domain.catalog.demo import load_demo_catalog

    engine = create_async_engine(database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db:
            await load_demo_catalog(db)
            await db.commit()
    finally:
        await engine.dispose()
    async with await psycopg.AsyncConnection.connect(conninfo(database_url)) as conn:
        cur = await conn.execute(
            "SELECT p.id, v.id, v.name, v.price_minor, v.tax_minor, v.total_minor, "
            "v.tax_rate_bps, v.prices_include_tax, v.validity_days, v.visit_cap, v.currency "
            "FROM plans p JOIN plan_versions v ON v.id = p.current_version_id WHERE p.slug = %s",
            (PLAN_SLUG,),
        )
        row = await cur.fetchone()
        if row is None:
            raise RuntimeError(f"the demo catalog has no plan {PLAN_SLUG!r}")
        keys = (
            *("id", "name", "price_minor", "tax_minor", "total_minor", "tax_rate_bps"),
            *("prices_include_tax", "validity_days", "visit_cap", "currency"),
        )
        cur = await conn.execute("SELECT slug, id FROM service_categories")
        categories = {slug: cid for slug, cid in await cur.fetchall()}
    return Catalog(
        plan_id=row[0], version=dict(zip(keys, row[1:], strict=True)), categories=categories
    )


def _address(n: int, zone: str) -> dict[str, Any]:
    return {
        "label": "Home",
        "line1": f"{n % 400 + 1}, {n % 17 + 1}th Cross, Bench Layout",
        "line2": None,
        "city": "Bengaluru",
        "region": "Karnataka",
        "postal_code": zone,
        "country": "IN",
    }


class Writer:
    """COPY rows into the tables, one connection, one transaction per `async with`."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.rows: dict[str, list[tuple[Any, ...]]] = {}

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.rows.setdefault(table, []).append(row)

    async def flush(self) -> None:
        cur = self.conn.cursor()
        # Parents before children (the foreign keys are checked row by row).
        for spec in sorted(self.rows, key=FLUSH_ORDER.index):
            rows = self.rows[spec]
            async with cur.copy(f"COPY {spec} FROM STDIN") as copy:
                for row in rows:
                    await copy.write_row(row)
        self.rows.clear()


@dataclass
class Customer:
    user: uuid.UUID
    subscription: uuid.UUID
    address: uuid.UUID
    order: uuid.UUID
    item: uuid.UUID
    zone: str
    snapshot: dict[str, Any]
    email: str


@dataclass
class Tech:
    id: uuid.UUID
    zones: frozenset[str]
    skills: frozenset[str]


USERS = "users (id, name, email, phone, email_verified_at, phone_verified_at, password_hash, role)"
ADDRESSES = "addresses (id, user_id, label, line1, city, region, postal_code, country, is_default)"
ORDERS = (
    "orders (id, user_id, status, provider, currency, subtotal_minor, tax_minor, total_minor, "
    "idempotency_key, request_hash, paid_at, completed_at)"
)
ORDER_ITEMS = (
    "order_items (id, order_id, position, plan_id, plan_version_id, address, plan_name, "
    "amount_minor, tax_minor, total_minor, tax_rate_bps, includes_tax, validity_days, visit_cap)"
)
SUBSCRIPTIONS = (
    "subscriptions (id, user_id, order_id, order_item_id, plan_id, plan_version_id, address_id, "
    "status, period, starts_at, ends_at, visits_allowed, visits_used)"
)
PERIODS = (
    "subscription_periods (subscription_id, number, kind, starts_at, ends_at, plan_version_id, "
    "order_id)"
)
TECHS = "technicians (id, user_id, name, phone, zones, working_hours, timezone, is_active)"
SKILLS = "technician_skills (technician_id, category_id)"
REQUESTS = (
    "service_requests (id, user_id, subscription_id, category_id, address_id, address, "
    "postal_code, description, window_start, window_end, status, technician_id, escalated, "
    "overdue, assigned_at, started_at, completed_at, cancelled_at, completion_notes, parts_used, "
    "rating, rating_comment, rated_at, created_at, updated_at)"
)
EVENTS = (
    "service_request_events (request_id, event_key, at, actor, kind, from_status, to_status, "
    "note, data)"
)
DECISIONS = (
    "dispatch_decisions (request_id, decision_key, at, actor, technician_id, reason, suggested)"
)
BOOKINGS = "technician_bookings (request_id, technician_id, during)"
RESERVATIONS = (
    "visit_reservations (id, subscription_id, request_id, period, category_id, status, "
    "created_at, closed_at)"
)


def _array(values: list[str]) -> str:
    return "{" + ",".join(values) + "}"


def _range(start: datetime, end: datetime) -> str:
    return f'["{start.isoformat()}","{end.isoformat()}")'


def add_customers(
    w: Writer,
    cat: Catalog,
    *,
    count: int,
    zone_of: Any,
    start: datetime,
    password_hash: str | None,
    prefix: str,
) -> list[Customer]:
    """Customers with a default address and a paid order for one subscription (written later by
    `add_subscriptions`, once its visits are counted)."""
    v = cat.version
    out = []
    for n in range(count):
        zone = zone_of(n)
        c = Customer(
            user=uuid.uuid4(),
            subscription=uuid.uuid4(),
            address=uuid.uuid4(),
            order=uuid.uuid4(),
            item=uuid.uuid4(),
            zone=zone,
            snapshot=_address(n, zone),
            email=f"{prefix}{n}@example.com",
        )
        s = c.snapshot
        w.add(
            USERS,
            (c.user, f"Bench Customer {n}", c.email, None, start, None, password_hash, "customer"),
        )
        w.add(
            ADDRESSES,
            (c.address, c.user, "Home", s["line1"], s["city"], s["region"], zone, "IN", True),
        )
        net = v["total_minor"] - v["tax_minor"]
        w.add(
            ORDERS,
            (
                c.order,
                c.user,
                "completed",
                "sandbox",
                v["currency"],
                net,
                v["tax_minor"],
                v["total_minor"],
                f"bench-requests-{c.order}",
                "bench",
                start,
                start,
            ),
        )
        w.add(
            ORDER_ITEMS,
            (
                c.item,
                c.order,
                1,
                cat.plan_id,
                v["id"],
                json.dumps(s),
                v["name"],
                v["price_minor"],
                v["tax_minor"],
                v["total_minor"],
                v["tax_rate_bps"],
                v["prices_include_tax"],
                v["validity_days"],
                v["visit_cap"],
            ),
        )
        out.append(c)
    return out


def add_subscriptions(
    w: Writer,
    cat: Catalog,
    customers: list[Customer],
    *,
    start: datetime,
    used: dict[uuid.UUID, int],
) -> None:
    v = cat.version
    ends = start + timedelta(days=int(v["validity_days"]))
    for c in customers:
        w.add(
            SUBSCRIPTIONS,
            (
                c.subscription,
                c.user,
                c.order,
                c.item,
                cat.plan_id,
                v["id"],
                c.address,
                "active",
                1,
                start,
                ends,
                v["visit_cap"],
                used.get(c.subscription, 0),
            ),
        )
        w.add(PERIODS, (c.subscription, 1, "initial", start, ends, v["id"], c.order))


def add_technicians(
    w: Writer,
    cat: Catalog,
    *,
    count: int,
    zones_of: Any,
    skills_of: Any,
    hours: dict[str, Any],
    timezone: str,
    phone_base: int,
    label: str,
) -> list[Tech]:
    out = []
    for k in range(count):
        tech, user = uuid.uuid4(), uuid.uuid4()
        phone = f"+91{phone_base + k}"
        zones, skills = list(zones_of(k)), list(skills_of(k))
        w.add(
            USERS, (user, f"{label} {k}", None, phone, None, datetime.now(UTC), None, "technician")
        )
        w.add(
            TECHS,
            (tech, user, f"{label} {k}", phone, _array(zones), json.dumps(hours), timezone, True),
        )
        for slug in skills:
            w.add(SKILLS, (tech, cat.categories[slug]))
        out.append(Tech(tech, frozenset(zones), frozenset(skills)))
    return out


DESCRIPTIONS = {
    "plumbing": ("The kitchen tap drips all night.", "The bathroom drain is blocked."),
    "electrical": ("The bedroom fan hums and stops.", "The MCB trips when the geyser is on."),
    "appliance-care": ("The AC blows warm air.", "The washing machine does not drain."),
    "carpentry": ("The wardrobe door hinge is broken.", "The main door lock is stiff."),
    "painting": ("A damp patch on the living room wall.",),
}
RATINGS = (1, 2, 3, 4, 5)
RATING_WEIGHTS = (3, 4, 10, 33, 50)


class History:
    """Each request's life as the workflow would have written it, decided from its window."""

    def __init__(
        self, rng: random.Random, now: datetime, cat: Catalog, admin: uuid.UUID, techs: list[Tech]
    ) -> None:
        self.rng, self.now, self.cat, self.admin = rng, now, cat, admin
        self.slugs = list(CATEGORY_WEIGHTS)
        self.weights = list(CATEGORY_WEIGHTS.values())
        self.candidates: dict[tuple[str, str], list[Tech]] = {}
        for t in techs:
            for zone in t.zones:
                for slug in t.skills:
                    self.candidates.setdefault((zone, slug), []).append(t)
        self.names = {t.id: f"Technician {n}" for n, t in enumerate(techs)}
        self.busy: set[tuple[uuid.UUID, datetime]] = set()
        self.by_status: dict[str, int] = {}
        self.escalated = self.overdue = self.events = self.bookings = 0
        self.today = now.replace(hour=0, minute=0, second=0, microsecond=0)

    def _minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def _status(self, start: datetime, end: datetime) -> str:
        r = self.rng.random()
        if end + OVERDUE_MARGIN < self.now:  # long past
            return (
                "completed"
                if r < 0.86
                else "cancelled"
                if r < 0.95
                else "assigned"
                if r < 0.97
                else "in_progress"
                if r < 0.98
                else "pending"
            )
        if start <= self.now:  # under way
            return (
                "in_progress"
                if r < 0.45
                else "assigned"
                if r < 0.85
                else "completed"
                if r < 0.95
                else "pending"
            )
        return "assigned" if r < 0.80 else "pending" if r < 0.92 else "cancelled"

    def _technician(self, zone: str, slug: str, start: datetime) -> Tech | None:
        options = self.candidates.get((zone, slug), [])
        for t in self.rng.sample(options, len(options)):
            if (t.id, start) not in self.busy:
                self.busy.add((t.id, start))
                return t
        return None

    def write(self, w: Writer, c: Customer) -> bool:
        """One request of this customer; whether it holds a visit (not cancelled)."""
        rng, now = self.rng, self.now
        rid = uuid.uuid4()
        slug = rng.choices(self.slugs, self.weights)[0]
        start = self.today + timedelta(
            days=rng.randint(-PAST_DAYS, AHEAD_DAYS), hours=rng.choice(SLOT_HOURS)
        )
        end = start + SLOT_LENGTH
        created = start - self._minutes(6 * 60, 10 * 24 * 60)
        if created >= now:
            created = now - self._minutes(1, 3 * 24 * 60)
        status = self._status(start, end)
        wants_tech = status in ("assigned", "in_progress", "completed") or (
            status == "cancelled" and rng.random() < 0.4
        )
        tech = self._technician(c.zone, slug, start) if wants_tech else None
        if wants_tech and tech is None:
            status = "pending" if status != "cancelled" else status
        events: list[tuple[datetime, str, str, str | None, str, str | None]] = [
            (created, "customer", "created", None, "pending", None)
        ]
        desc = rng.choice(DESCRIPTIONS[slug])
        events[0] = (created, "customer", "created", None, "pending", desc)
        escalated = overdue = False
        assigned_at = started_at = completed_at = cancelled_at = rated_at = None
        notes, parts, rating, comment = None, "[]", None, None
        latest = min(start, now)
        if tech is not None:
            delay = (
                self._minutes(10, 180) if rng.random() < 0.92 else self._minutes(4 * 60, 12 * 60)
            )
            assigned_at = min(created + delay, latest - timedelta(minutes=1))
            if assigned_at <= created:
                assigned_at = created + (latest - created) / 2
            if assigned_at - created > ESCALATE_AFTER:
                escalated = True
                events.append(
                    (
                        created + ESCALATE_AFTER,
                        "workflow",
                        "escalated",
                        "pending",
                        "pending",
                        "not assigned within 4 h",
                    )
                )
            events.append(
                (
                    assigned_at,
                    f"admin:{self.admin}",
                    "assigned",
                    "pending",
                    "assigned",
                    f"assigned to {self.names[tech.id]}",
                )
            )
        elif status == "pending" and now - created > ESCALATE_AFTER:
            escalated = True
            events.append(
                (
                    created + ESCALATE_AFTER,
                    "workflow",
                    "escalated",
                    "pending",
                    "pending",
                    "not assigned within 4 h",
                )
            )
        was = "assigned" if tech is not None else "pending"
        if status in ("in_progress", "completed"):
            started_at = min(start + self._minutes(0, 40), now)
            events.append(
                (
                    started_at,
                    f"technician:{tech.id}" if tech else "workflow",
                    "started",
                    "assigned",
                    "in_progress",
                    None,
                )
            )
            was = "in_progress"
        if status == "completed":
            assert started_at is not None
            assert tech is not None
            completed_at = min(started_at + self._minutes(30, 150), now)
            notes = "Fixed and tested with the customer."
            if rng.random() < 0.3:
                parts = json.dumps([{"name": "washer", "quantity": 1, "amount_minor": 4000}])
            events.append(
                (
                    completed_at,
                    f"technician:{tech.id}",
                    "completed",
                    "in_progress",
                    "completed",
                    notes,
                )
            )
            if rng.random() < 0.55 and completed_at + timedelta(hours=1) < now:
                rating = rng.choices(RATINGS, RATING_WEIGHTS)[0]
                comment = "Quick and tidy." if rating >= 4 else "Came late."
                rated_at = min(completed_at + self._minutes(60, 3 * 24 * 60), now)
                events.append((rated_at, "customer", "rated", "completed", "completed", comment))
        if status == "cancelled":
            after = assigned_at or created
            cancelled_at = after + (latest - after) * rng.uniform(0.1, 0.9)
            events.append(
                (
                    cancelled_at,
                    "customer",
                    "cancelled",
                    was,
                    "cancelled",
                    "cancelled by the customer",
                )
            )
        if status in ("pending", "assigned", "in_progress") and end + OVERDUE_MARGIN < now:
            overdue = True
            events.append(
                (
                    end + OVERDUE_MARGIN,
                    "workflow",
                    "overdue",
                    status,
                    status,
                    "not completed by the end of its window",
                )
            )
        events.sort(key=lambda e: e[0])
        for n, (at, actor, kind, from_s, to_s, note) in enumerate(events):
            w.add(
                EVENTS,
                (rid, f"request:{rid}:{n}:{kind}", at, actor, kind, from_s, to_s, note, "{}"),
            )
            if kind == "assigned" and tech is not None:
                fit = {
                    "technician_id": str(tech.id),
                    "name": self.names[tech.id],
                    "eligible": True,
                    "score": 100.0,
                    "reasons": [f"serves {c.zone}"],
                    "problems": [],
                }
                w.add(
                    DECISIONS,
                    (
                        rid,
                        f"request:{rid}:{n}:assigned",
                        at,
                        actor,
                        tech.id,
                        None,
                        json.dumps([fit]),
                    ),
                )
        self.events += len(events)
        category = self.cat.categories[slug]
        w.add(
            REQUESTS,
            (
                rid,
                c.user,
                c.subscription,
                category,
                c.address,
                json.dumps(c.snapshot),
                c.zone,
                desc,
                start,
                end,
                status,
                tech.id if tech else None,
                escalated,
                overdue,
                assigned_at,
                started_at,
                completed_at,
                cancelled_at,
                notes,
                parts,
                rating,
                comment,
                rated_at,
                created,
                events[-1][0],
            ),
        )
        if tech is not None and status != "cancelled":
            w.add(BOOKINGS, (rid, tech.id, _range(start, end)))
            self.bookings += 1
        reservation = {"completed": "consumed", "cancelled": "released"}.get(status, "reserved")
        w.add(
            RESERVATIONS,
            (
                uuid.uuid4(),
                c.subscription,
                rid,
                1,
                category,
                reservation,
                created,
                completed_at or cancelled_at,
            ),
        )
        self.by_status[status] = self.by_status.get(status, 0) + 1
        self.escalated += escalated
        self.overdue += overdue
        return status != "cancelled"


FLUSH_ORDER = [
    USERS,
    ADDRESSES,
    ORDERS,
    ORDER_ITEMS,
    SUBSCRIPTIONS,
    PERIODS,
    TECHS,
    SKILLS,
    REQUESTS,
    EVENTS,
    DECISIONS,
    BOOKINGS,
    RESERVATIONS,
]
BATCH_CUSTOMERS = 5_000
TRIGGER = "service_request_events_notify"


async def _admin(conn: Any, password_hash: str) -> tuple[uuid.UUID, str]:
    admin, email = uuid.uuid4(), "bench-admin@example.com"
    await conn.execute(
        "INSERT INTO users (id, name, email, email_verified_at, password_hash, role) "
        "VALUES (%s, %s, %s, now(), %s, 'admin')",
        (admin, "Bench Admin", email, password_hash),
    )
    return admin, email


def _seeded_skills(k: int) -> list[str]:
    """Two of the categories, drawn per technician (a fixed draw: the same on every run)."""
    return random.Random(k).sample(list(CATEGORY_WEIGHTS), 2)


async def seed_history(database_url: str, *, count: int, password_hash: str, say: Any) -> Seeded:
    """The admin, the technicians, ceil(count / 4) customers and `count` requests with their
    history (see the module's docstring); the caller VACUUMs (`vacuum`)."""
    import psycopg

    cat = await catalog(database_url)
    rng = random.Random(20261203)
    now = datetime.now(UTC)
    start = now - timedelta(days=PAST_DAYS + 11)  # every request's window falls in the period
    customers = math.ceil(count / REQUESTS_PER_CUSTOMER)
    async with await psycopg.AsyncConnection.connect(conninfo(database_url)) as conn:
        admin, admin_email = await _admin(conn, password_hash)
        w = Writer(conn)
        techs = add_technicians(
            w,
            cat,
            count=TECHNICIANS,
            zones_of=lambda k: [
                ZONES[(4 * k + i) % len(ZONES)] for i in range(ZONES_PER_TECHNICIAN)
            ],
            skills_of=_seeded_skills,
            hours=KOLKATA_HOURS,
            timezone="Asia/Kolkata",
            phone_base=9_700_000_000,
            label="Technician",
        )
        await w.flush()
        await conn.commit()
        history = History(rng, now, cat, admin, techs)
        left = count
        for first in range(0, customers, BATCH_CUSTOMERS):
            batch = add_customers(
                w,
                cat,
                count=min(BATCH_CUSTOMERS, customers - first),
                zone_of=lambda n: rng.choice(ZONES),
                start=start,
                password_hash=None,
                prefix=f"bench-c{first}-",
            )
            used: dict[uuid.UUID, int] = {}
            for c in batch:
                for _ in range(min(REQUESTS_PER_CUSTOMER, left)):
                    left -= 1
                    used[c.subscription] = used.get(c.subscription, 0) + history.write(w, c)
            add_subscriptions(w, cat, batch, start=start, used=used)
            await conn.execute(f"ALTER TABLE service_request_events DISABLE TRIGGER {TRIGGER}")
            await w.flush()
            await conn.execute(f"ALTER TABLE service_request_events ENABLE TRIGGER {TRIGGER}")
            await conn.commit()
            say(f"seeded {count - left:,} of {count:,} requests")
    return Seeded(
        admin_email=admin_email,
        requests=count,
        customers=customers,
        technicians=[str(t.id) for t in techs],
        zones=ZONES,
        categories={slug: str(cid) for slug, cid in cat.categories.items()},
        events=history.events,
        bookings=history.bookings,
        by_status=history.by_status,
        escalated=history.escalated,
        overdue=history.overdue,
    )


async def seed_live(
    database_url: str, *, customers: int, technicians: int, password_hash: str
) -> Live:
    """Customers who sign in with `password_hash`'s password, each with an active subscription
    (its workflow is the driver's to start) and an address in LIVE_ZONE; technicians who do
    every category there, around the clock (UTC)."""
    import psycopg

    cat = await catalog(database_url)
    start = datetime.now(UTC) - timedelta(days=1)
    async with await psycopg.AsyncConnection.connect(conninfo(database_url)) as conn:
        w = Writer(conn)
        made = add_customers(
            w,
            cat,
            count=customers,
            zone_of=lambda n: LIVE_ZONE,
            start=start,
            password_hash=password_hash,
            prefix="bench-live-",
        )
        add_subscriptions(w, cat, made, start=start, used={})
        techs = add_technicians(
            w,
            cat,
            count=technicians,
            zones_of=lambda k: [LIVE_ZONE],
            skills_of=lambda k: list(CATEGORY_WEIGHTS),
            hours=ALWAYS,
            timezone="UTC",
            phone_base=9_600_000_000,
            label="Live Technician",
        )
        await w.flush()
        await conn.commit()
        await conn.execute("ANALYZE users, addresses, subscriptions, technicians")
        await conn.commit()
    return Live(
        customers=[LiveCustomer(str(c.user), c.email, str(c.subscription)) for c in made],
        technicians=[str(t.id) for t in techs],
    )


async def vacuum(database_url: str) -> None:
    """VACUUM ANALYZE: the visibility map and statistics autovacuum would leave after the load
    (without it, index-only scans still visit the heap)."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(
        conninfo(database_url), autocommit=True
    ) as conn:
        await conn.execute("VACUUM ANALYZE")
