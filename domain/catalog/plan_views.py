"""Outputs of the catalog's plans: what the public catalog and the admin's screens read of a plan,
its versions, prices and inclusions, built from the models (inputs: domain/catalog/schemas.py)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from domain.catalog.models import Plan, PlanInclusion, PlanStatus, PlanVersion, ServiceCategory
from domain.catalog.schemas import Out
from domain.money import minor_units


class CategoryRef(Out):
    id: uuid.UUID
    slug: str
    name: str
    icon: str | None


class PriceOut(BaseModel):
    amount_minor: int
    currency: str
    minor_units: int = Field(description="Digits after the decimal point, for display")
    tax_rate_bps: int
    includes_tax: bool
    tax_minor: int = Field(description="The tax within total_minor")
    total_minor: int = Field(description="What the customer pays, tax included")


class InclusionOut(BaseModel):
    category: str
    category_id: uuid.UUID
    visits: int
    labour_covered: bool
    parts_covered: bool
    parts_cap_minor: int | None
    details: str


class PlanOut(BaseModel):
    """A plan as the app shows it: the current version's terms. `version_id` is what a checkout
    buys; it always denotes exactly these terms."""

    id: uuid.UUID
    slug: str
    name: str
    description: str
    badge: str | None
    position: int = Field(description="Place in the catalog, 1 first")
    version_id: uuid.UUID
    version: int
    price: PriceOut
    validity_days: int
    visit_cap: int
    categories: list[CategoryRef]
    inclusions: list[InclusionOut]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0d3c0b8e-6a0e-4c55-8d0c-4c9b1f7b9e21",
                    "slug": "complete-home-care",
                    "name": "Complete Home Care",
                    "description": "Plumbing, electrical and carpentry visits for a year.",
                    "badge": "Most popular",
                    "position": 2,
                    "version_id": "7f9e2a34-1c55-4f0e-b8a4-5d2b0c1e9f10",
                    "version": 1,
                    "price": {
                        "amount_minor": 599900,
                        "currency": "INR",
                        "minor_units": 2,
                        "tax_rate_bps": 1800,
                        "includes_tax": True,
                        "tax_minor": 91510,
                        "total_minor": 599900,
                    },
                    "validity_days": 365,
                    "visit_cap": 8,
                    "categories": [
                        {
                            "id": "5b0f3c1e-8a43-4c1d-9a57-0c7f8f1f2a11",
                            "slug": "plumbing",
                            "name": "Plumbing",
                            "icon": "mdi:pipe-wrench",
                        }
                    ],
                    "inclusions": [
                        {
                            "category": "plumbing",
                            "category_id": "5b0f3c1e-8a43-4c1d-9a57-0c7f8f1f2a11",
                            "visits": 3,
                            "labour_covered": True,
                            "parts_covered": True,
                            "parts_cap_minor": 100000,
                            "details": "Leaks, taps, flush tanks; parts up to ₹1,000 a year.",
                        }
                    ],
                }
            ]
        }
    )


class PlanVersionOut(BaseModel):
    id: uuid.UUID
    number: int
    name: str
    description: str
    price: PriceOut
    validity_days: int
    visit_cap: int
    categories: list[CategoryRef]
    inclusions: list[InclusionOut]
    created_at: datetime
    published_at: datetime | None = Field(
        description="When these terms were first offered for sale; null: a draft, edited in place"
    )
    sold_at: datetime | None


class AdminPlanOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    id: uuid.UUID
    slug: str
    status: PlanStatus
    position: int = Field(description="Place in the catalog, 1 first")
    badge: str | None
    sold: bool = Field(description="Whether any version has been sold (then it cannot be deleted)")
    holders: int = Field(
        default=0,
        description="Customers holding this plan now (active, renewing or in grace): archiving "
        "takes it off sale, and they keep it until it ends",
    )
    current_version: PlanVersionOut
    created_at: datetime
    updated_at: datetime


# --- building outputs from rows -----------------------------------------------------------------


def price_out(version: PlanVersion) -> PriceOut:
    return PriceOut(
        amount_minor=version.price_minor,
        currency=version.currency,
        minor_units=minor_units(version.currency),
        tax_rate_bps=version.tax_rate_bps,
        includes_tax=version.prices_include_tax,
        tax_minor=version.tax_minor,
        total_minor=version.total_minor,
    )


def _inclusions_out(version: PlanVersion) -> list[InclusionOut]:
    # Ordered like the categories; slugs come from the already-loaded categories (no extra query).
    by_id: dict[uuid.UUID, ServiceCategory] = {c.id: c for c in version.categories}
    found: dict[uuid.UUID, PlanInclusion] = {i.category_id: i for i in version.inclusions}
    return [
        InclusionOut(
            category=by_id[category_id].slug,
            category_id=category_id,
            visits=inc.visits,
            labour_covered=inc.labour_covered,
            parts_covered=inc.parts_covered,
            parts_cap_minor=inc.parts_cap_minor,
            details=inc.details,
        )
        for category_id in by_id
        if (inc := found.get(category_id)) is not None
    ]


def _categories_out(version: PlanVersion) -> list[CategoryRef]:
    return [CategoryRef(id=c.id, slug=c.slug, name=c.name, icon=c.icon) for c in version.categories]


def plan_out(plan: Plan) -> PlanOut:
    version = plan.current_version
    assert version is not None
    return PlanOut(
        id=plan.id,
        slug=plan.slug,
        name=version.name,
        description=version.description,
        badge=plan.badge,
        position=plan.display_order,
        version_id=version.id,
        version=version.number,
        price=price_out(version),
        validity_days=version.validity_days,
        visit_cap=version.visit_cap,
        categories=_categories_out(version),
        inclusions=_inclusions_out(version),
    )


def version_out(version: PlanVersion) -> PlanVersionOut:
    return PlanVersionOut(
        id=version.id,
        number=version.number,
        name=version.name,
        description=version.description,
        price=price_out(version),
        validity_days=version.validity_days,
        visit_cap=version.visit_cap,
        categories=_categories_out(version),
        inclusions=_inclusions_out(version),
        created_at=version.created_at,
        published_at=version.published_at,
        sold_at=version.sold_at,
    )


def admin_plan_out(plan: Plan, *, holders: int = 0) -> AdminPlanOut:
    assert plan.current_version is not None
    return AdminPlanOut(
        id=plan.id,
        slug=plan.slug,
        status=PlanStatus(plan.status),
        position=plan.display_order,
        badge=plan.badge,
        sold=any(v.sold_at is not None for v in plan.versions),
        holders=holders,
        current_version=version_out(plan.current_version),
        created_at=plan.created_at,
        updated_at=plan.updated_at,
    )
