"""Inputs and outputs of the catalog API.

Inputs forbid unknown fields at every level. Rules about one field live here (a negative price, an
unknown currency, a validity outside 1..3650 days, a price of 0 not confirmed as free); rules
that need the database or the plan's current terms (unknown category, an inclusion for a category
the plan does not cover) live in the service and raise `InvalidField`, which the API reports in
the same shape as these.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.errors import FieldProblem
from domain.catalog.models import PlanVersion

# One page shape for every list in the API (defined with the accounts API, which came first).
from domain.money import iso4217_code
from domain.types import Flag, numbers_not_text, omit_null
from domain.types import Page as Page

MAX_PRICE_MINOR = 10**12
MAX_VALIDITY_DAYS = 3650


SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SLUG = re.compile(SLUG_PATTERN)


def _slug(value: str) -> str:
    """A slug, or an error a person can act on (not the regular expression)."""
    if not _SLUG.match(value):
        raise PydanticCustomError(
            "slug",
            "use lowercase letters and digits, words joined by single hyphens (as in "
            "'deep-cleaning'): no spaces, other signs, or hyphen at either end",
        )
    return value


Slug = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, min_length=2, max_length=80),
    AfterValidator(_slug),
    WithJsonSchema({"type": "string", "minLength": 2, "maxLength": 80, "pattern": SLUG_PATTERN}),
]
CurrencyCode = Annotated[
    str, StringConstraints(min_length=3, max_length=3), AfterValidator(iso4217_code)
]
PlanName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
CategoryName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
Icon = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Badge = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
PlanSort = Literal["featured", "price_asc", "price_desc"]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A count or an amount is a JSON number (940, or 940.0: the same number), not "940" or true.
    _numbers_not_text = field_validator("*", mode="before")(numbers_not_text)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _no_nulls(value: Any) -> Any:
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


# --- categories ---------------------------------------------------------------------------------


class CategoryCreate(In):
    slug: Slug
    name: CategoryName
    description: LongText = ""
    icon: Icon | None = Field(
        default=None, description="A name in the app's icon set (e.g. mdi:pipe-wrench) or a URL"
    )
    is_active: Flag = True

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "slug": "pest-control",
                    "name": "Pest control",
                    "description": "Cockroach, ant and termite treatment.",
                    "icon": "mdi:bug",
                }
            ]
        },
    )


class CategoryUpdate(In):
    """What changes; fields left out stay (`icon: null` removes the icon; the others cannot be
    null, which the document says by not offering it)."""

    slug: Slug | None = Field(default=None, json_schema_extra=omit_null)
    name: CategoryName | None = Field(default=None, json_schema_extra=omit_null)
    description: LongText | None = Field(default=None, json_schema_extra=omit_null)
    icon: Icon | None = None
    is_active: Flag | None = Field(default=None, json_schema_extra=omit_null)

    @field_validator("slug", "name", "description", "is_active")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _no_nulls(value)


class CategoryOut(Out):
    id: uuid.UUID
    slug: str
    name: str
    description: str
    icon: str | None
    position: int = Field(description="Place in the catalog, 1 first")

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "5b0f3c1e-8a43-4c1d-9a57-0c7f8f1f2a11",
                    "slug": "plumbing",
                    "name": "Plumbing",
                    "description": "Leaks, taps, drains, geysers and water tanks.",
                    "icon": "mdi:pipe-wrench",
                    "position": 1,
                }
            ]
        },
    )


CategoryList = RootModel[list[CategoryOut]]


class AdminCategoryOut(CategoryOut):
    # Counted apart from the row (`domain.catalog.impact`); always in an answer.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    is_active: bool
    active_plans: int = Field(
        default=0, description="Plans on sale whose current terms cover this category"
    )
    created_at: datetime
    updated_at: datetime


class MoveIn(In):
    direction: Literal["up", "down"] = Field(
        description="One place towards the top (up) or the bottom (down) of the catalog, past "
        "the next item shown beside it (a plan of the same status; a category shown or hidden "
        "alike)"
    )


class ReorderIn(In):
    ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=1000,
        description="Ids in the new display order; the ones left out follow, in their old order",
        json_schema_extra={"uniqueItems": True},
    )

    @field_validator("ids")
    @classmethod
    def _unique(cls, ids: list[uuid.UUID]) -> list[uuid.UUID]:
        if len(set(ids)) != len(ids):
            raise ValueError("an id is listed twice")
        return ids


# --- plans: input -------------------------------------------------------------------------------


class PriceIn(In):
    amount_minor: int = Field(
        ge=0,
        le=MAX_PRICE_MINOR,
        description="Integer amount in the currency's minor unit (paise for INR)",
    )
    currency: CurrencyCode = Field(description="ISO 4217 code, e.g. INR")
    tax_rate_bps: int = Field(ge=0, le=10_000, description="Tax rate in basis points: 1800 = 18 %")
    includes_tax: Flag = Field(description="Whether amount_minor already includes the tax (GST)")


class InclusionIn(In):
    category: Slug = Field(description="Slug of one of the plan's categories")
    visits: int = Field(ge=0, le=1000, description="Visits allowed in this category")
    labour_covered: Flag = True
    parts_covered: Flag = False
    parts_cap_minor: int | None = Field(
        default=None,
        ge=0,
        le=MAX_PRICE_MINOR,
        description="Parts covered up to this amount (minor units); null = no limit",
    )
    details: LongText = Field(default="", description="What exactly is covered, in words")

    @field_validator("parts_cap_minor")
    @classmethod
    def _cap_needs_parts(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and not info.data.get("parts_covered", False):
            raise ValueError("a parts cap needs parts_covered to be true")
        return value


def _unique_categories(slugs: list[str]) -> list[str]:
    seen: set[str] = set()
    for slug in slugs:
        if slug in seen:
            raise ValueError(f"category {slug!r} is listed twice")
        seen.add(slug)
    return slugs


def _one_inclusion_per_category(items: list[InclusionIn]) -> list[InclusionIn]:
    _unique_categories([item.category for item in items])
    return items


Categories = Annotated[
    list[Slug],
    Field(min_length=1, max_length=50, json_schema_extra={"uniqueItems": True}),
    AfterValidator(_unique_categories),
]
Inclusions = Annotated[
    list[InclusionIn], Field(max_length=50), AfterValidator(_one_inclusion_per_category)
]
ValidityDays = Annotated[int, Field(ge=1, le=MAX_VALIDITY_DAYS)]
VisitCap = Annotated[int, Field(ge=1, le=1000, description="Visits in total")]


class PlanTerms(In):
    """Everything a customer buys; a change to any of it on a sold plan makes a new version."""

    name: PlanName
    description: LongText = ""
    categories: Categories = Field(description="Slugs of the categories the plan covers")
    price: PriceIn
    validity_days: ValidityDays
    visit_cap: VisitCap
    inclusions: Inclusions = []


_PLAN_EXAMPLE: dict[str, Any] = {
    "slug": "complete-home-care",
    "name": "Complete Home Care",
    "description": "Plumbing, electrical and carpentry visits for a year.",
    "categories": ["plumbing", "electrical", "carpentry"],
    "price": {
        "amount_minor": 599900,
        "currency": "INR",
        "tax_rate_bps": 1800,
        "includes_tax": True,
    },
    "validity_days": 365,
    "visit_cap": 8,
    "inclusions": [
        {
            "category": "plumbing",
            "visits": 3,
            "labour_covered": True,
            "parts_covered": True,
            "parts_cap_minor": 100000,
            "details": "Leaks, taps, flush tanks; parts up to ₹1,000 a year.",
        }
    ],
    "badge": "Most popular",
}

FREE_WITHOUT_CONFIRMATION = (
    "a price of 0 gives the plan away: customers get it free. If that is meant, confirm it "
    "(send confirm_free: true)"
)


def _free_needs_confirmation(price: PriceIn | None, confirm_free: bool) -> None:
    if price is not None and price.amount_minor == 0 and not confirm_free:
        raise FieldProblem(("price", "amount_minor"), FREE_WITHOUT_CONFIRMATION)


ConfirmFree = Annotated[
    Flag,
    Field(description="Must be true to save a price of 0: the plan is then free to customers"),
]


class PlanCreate(PlanTerms):
    """A new plan: a draft, placed last in the catalog."""

    slug: Slug
    badge: Badge | None = None
    confirm_free: ConfirmFree = False

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_PLAN_EXAMPLE]})

    @model_validator(mode="after")
    def _free_is_deliberate(self) -> PlanCreate:
        _free_needs_confirmation(self.price, self.confirm_free)
        return self


TERM_FIELDS = tuple(PlanTerms.model_fields)


class PlanUpdate(In):
    """Any subset. Merchandising (slug, badge) changes in place; so do the terms of a draft
    version; a change of terms once they were published or sold makes a new version and leaves
    the old one untouched. The place in the catalog changes by the move routes."""

    slug: Slug | None = Field(default=None, json_schema_extra=omit_null)
    badge: Badge | None = None
    name: PlanName | None = Field(default=None, json_schema_extra=omit_null)
    description: LongText | None = Field(default=None, json_schema_extra=omit_null)
    categories: Categories | None = Field(default=None, json_schema_extra=omit_null)
    price: PriceIn | None = Field(default=None, json_schema_extra=omit_null)
    validity_days: ValidityDays | None = Field(default=None, json_schema_extra=omit_null)
    visit_cap: VisitCap | None = Field(default=None, json_schema_extra=omit_null)
    inclusions: Inclusions | None = Field(default=None, json_schema_extra=omit_null)
    confirm_free: ConfirmFree = False

    @field_validator(
        "slug",
        "name",
        "description",
        "categories",
        "price",
        "validity_days",
        "visit_cap",
        "inclusions",
    )
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        return _no_nulls(value)

    @model_validator(mode="after")
    def _free_is_deliberate(self) -> PlanUpdate:
        _free_needs_confirmation(self.price, self.confirm_free)
        return self

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"price": {**_PLAN_EXAMPLE["price"], "amount_minor": 649900}},
                {"badge": "Best value"},
            ]
        },
    )


def terms_of(version: PlanVersion) -> PlanTerms:
    """A version's terms as input, so an edit can be merged onto them and compared."""
    by_id = {c.id: c.slug for c in version.categories}
    return PlanTerms.model_construct(
        name=version.name,
        description=version.description,
        categories=[c.slug for c in version.categories],
        price=PriceIn.model_construct(
            amount_minor=version.price_minor,
            currency=version.currency,
            tax_rate_bps=version.tax_rate_bps,
            includes_tax=version.prices_include_tax,
        ),
        validity_days=version.validity_days,
        visit_cap=version.visit_cap,
        inclusions=[
            InclusionIn.model_construct(
                category=by_id[i.category_id],
                visits=i.visits,
                labour_covered=i.labour_covered,
                parts_covered=i.parts_covered,
                parts_cap_minor=i.parts_cap_minor,
                details=i.details,
            )
            for i in version.inclusions
        ],
    )
