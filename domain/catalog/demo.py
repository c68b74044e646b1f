"""A realistic demo catalog (INR, GST 18 % included), loaded on first start when the catalog is
empty. Goes through the service, so every row is validated and audited like an admin's."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.catalog import categories, plans
from domain.catalog.models import Plan, ServiceCategory
from domain.catalog.schemas import CategoryCreate, PlanCreate

# Any constant: two processes seeding at once queue on it instead of both inserting.
_ADVISORY_LOCK = 0x43415441_4C4F47  # "CATALOG"

CATEGORIES: list[dict[str, Any]] = [
    {
        "slug": "plumbing",
        "name": "Plumbing",
        "description": "Leaking taps and pipes, blocked drains, flush tanks, geysers, water tanks.",
        "icon": "mdi:pipe-wrench",
    },
    {
        "slug": "electrical",
        "name": "Electrical",
        "description": "Switches, sockets, wiring faults, MCBs, fans, lights and inverters.",
        "icon": "mdi:flash",
    },
    {
        "slug": "carpentry",
        "name": "Carpentry",
        "description": "Door and window repairs, hinges, locks, cabinets and furniture fixes.",
        "icon": "mdi:hand-saw",
    },
    {
        "slug": "appliance-care",
        "name": "Appliance care",
        "description": "Service and repair of ACs, washing machines, fridges and RO purifiers.",
        "icon": "mdi:washing-machine",
    },
    {
        "slug": "painting",
        "name": "Painting",
        "description": "Touch-ups, damp-patch treatment and repainting of single walls or rooms.",
        "icon": "mdi:format-paint",
    },
]


def _gst(amount_minor: int) -> dict[str, Any]:
    return {
        "amount_minor": amount_minor,
        "currency": "INR",
        "tax_rate_bps": 1800,
        "includes_tax": True,
    }


def _inc(
    category: str,
    visits: int,
    details: str,
    *,
    parts: bool = False,
    parts_cap_minor: int | None = None,
) -> dict[str, Any]:
    return {
        "category": category,
        "visits": visits,
        "labour_covered": True,
        "parts_covered": parts,
        "parts_cap_minor": parts_cap_minor,
        "details": details,
    }


PLANS: list[dict[str, Any]] = [
    {
        "slug": "plumbing-shield",
        "name": "Plumbing Shield",
        "description": "A year of leak and drain fixes for apartments.",
        "categories": ["plumbing"],
        "price": _gst(1_499_00),
        "validity_days": 365,
        "visit_cap": 3,
        "inclusions": [
            _inc("plumbing", 3, "Tap, pipe and flush-tank repairs; drain unblocking. Parts extra.")
        ],
    },
    {
        "slug": "essential-home-care",
        "name": "Essential Home Care",
        "description": "Plumbing and electrical repairs for everyday breakdowns.",
        "categories": ["plumbing", "electrical"],
        "price": _gst(2_999_00),
        "validity_days": 365,
        "visit_cap": 4,
        "inclusions": [
            _inc("plumbing", 2, "Leaks, taps, flush tanks and drains. Labour only."),
            _inc("electrical", 2, "Switches, sockets, fans, lights and MCB trips. Labour only."),
        ],
    },
    {
        "slug": "complete-home-care",
        "name": "Complete Home Care",
        "description": "Plumbing, electrical and carpentry, with small parts included.",
        "categories": ["plumbing", "electrical", "carpentry"],
        "price": _gst(5_999_00),
        "validity_days": 365,
        "visit_cap": 8,
        "badge": "Most popular",
        "inclusions": [
            _inc(
                "plumbing",
                3,
                "Leaks, taps, flush tanks, drains; washers and spindles included.",
                parts=True,
                parts_cap_minor=1_000_00,
            ),
            _inc(
                "electrical",
                3,
                "Wiring faults, switches, sockets, fans; switch plates and fuses included.",
                parts=True,
                parts_cap_minor=1_000_00,
            ),
            _inc("carpentry", 2, "Hinges, handles, locks and drawer channels. Labour only."),
        ],
    },
    {
        "slug": "appliance-care-plus",
        "name": "Appliance Care Plus",
        "description": "Yearly service and breakdown repairs for your big appliances.",
        "categories": ["appliance-care", "electrical"],
        "price": _gst(3_499_00),
        "validity_days": 365,
        "visit_cap": 5,
        "inclusions": [
            _inc(
                "appliance-care",
                4,
                "One AC service a year plus breakdown repairs of AC, washing machine, fridge "
                "and RO; spare parts up to ₹1,500.",
                parts=True,
                parts_cap_minor=1_500_00,
            ),
            _inc("electrical", 1, "Appliance points and dedicated-socket faults. Labour only."),
        ],
    },
    {
        "slug": "premium-home-care",
        "name": "Premium Home Care",
        "description": "Every service we offer, with parts included.",
        "categories": ["plumbing", "electrical", "carpentry", "appliance-care", "painting"],
        "price": _gst(11_999_00),
        "validity_days": 365,
        "visit_cap": 16,
        "badge": "Best value",
        "inclusions": [
            _inc(
                "plumbing",
                4,
                "All plumbing repairs; parts up to ₹2,000.",
                parts=True,
                parts_cap_minor=2_000_00,
            ),
            _inc(
                "electrical",
                4,
                "All electrical repairs; parts up to ₹2,000.",
                parts=True,
                parts_cap_minor=2_000_00,
            ),
            _inc(
                "carpentry",
                3,
                "Door, window and furniture repairs; fittings included.",
                parts=True,
                parts_cap_minor=1_000_00,
            ),
            _inc(
                "appliance-care",
                4,
                "Two AC services and appliance breakdowns; parts up to ₹2,500.",
                parts=True,
                parts_cap_minor=2_500_00,
            ),
            _inc(
                "painting",
                1,
                "Touch-up or damp-patch repair of one wall, paint included.",
                parts=True,
            ),
        ],
    },
    {
        "slug": "move-in-refresh",
        "name": "Move-in Refresh",
        "description": "Three months of fixes for a new home: painting touch-ups and carpentry.",
        "categories": ["painting", "carpentry"],
        "price": _gst(2_499_00),
        "validity_days": 90,
        "visit_cap": 3,
        "inclusions": [
            _inc("painting", 1, "Touch-ups of up to two walls. Paint extra."),
            _inc("carpentry", 2, "Doors, wardrobes, curtain rods and shelves. Labour only."),
        ],
    },
]


async def load_demo_catalog(db: AsyncSession, *, actor_id: uuid.UUID | None = None) -> bool:
    """Load the demo categories and plans (published) if the catalog is empty; returns whether it
    loaded. Safe to call on every start and from concurrent processes. The caller commits."""
    await db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK})
    has_any = (
        await db.execute(select(exists(select(ServiceCategory.id)) | exists(select(Plan.id))))
    ).scalar_one()
    if has_any:
        return False
    # Each goes last as it is added: the catalog shows them in the order listed here.
    for data in CATEGORIES:
        await categories.create_category(
            db, data=CategoryCreate.model_validate(data), actor_id=actor_id
        )
    for data in PLANS:
        plan = await plans.create_plan(db, data=PlanCreate.model_validate(data), actor_id=actor_id)
        await plans.publish_plan(db, plan_id=plan.id, actor_id=actor_id)
    return True
