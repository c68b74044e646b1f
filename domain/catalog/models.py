"""Tables of the catalog: service categories, plans and their immutable versions.

A `plans` row is the plan's stable identity and merchandising (slug, status, position, badge);
everything a customer buys (name, description, price, tax, validity, visit cap, categories,
inclusions) lives in a `plan_versions` row and its children. A version is a draft until it is
published (or sold): then it never changes again. See `domain.catalog.plans` for the versioning
rule; the migrations add triggers that make the database itself refuse to change a published or
sold version, or to delete a sold one.

Plans and categories have an explicit position (1, 2, 3, ...; the column keeps its first name,
`display_order`): a new one goes last, an admin moves it (`domain.catalog.ordering`), and the
public catalog follows it.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship, synonym

from core.db import Base, Timestamps, UUIDPk


class PlanStatus(enum.StrEnum):
    draft = "draft"
    active = "active"
    archived = "archived"


class ServiceCategory(UUIDPk, Timestamps, Base):
    """A kind of service (Plumbing, Carpentry, ...). Never deleted once referenced by a plan
    version: deactivating hides it from the public catalog instead."""

    __tablename__ = "service_categories"

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A name in the app's icon set (e.g. "mdi:pipe-wrench") or an image URL.
    icon: Mapped[str | None] = mapped_column(String(300))
    display_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The API's name for it: the category's place in the catalog, 1 first.
    position = synonym("display_order")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


# The categories a version covers. Part of the version's terms, so as immutable as the version.
plan_version_categories = Table(
    "plan_version_categories",
    Base.metadata,
    Column(
        "version_id",
        ForeignKey("plan_versions.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "category_id",
        ForeignKey("service_categories.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Plan(UUIDPk, Timestamps, Base):
    __tablename__ = "plans"
    __table_args__ = (
        CheckConstraint("status IN ('draft', 'active', 'archived')", name="status_known"),
    )

    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(
        String(16), default=PlanStatus.draft.value, server_default=PlanStatus.draft.value
    )
    display_order: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    position = synonym("display_order")
    badge: Mapped[str | None] = mapped_column(String(40))
    # Set in the same transaction that creates the plan's first version; the terms sold from now on.
    current_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("plan_versions.id", use_alter=True)
    )

    current_version: Mapped[PlanVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True, lazy="raise"
    )
    versions: Mapped[list[PlanVersion]] = relationship(
        foreign_keys="PlanVersion.plan_id",
        back_populates="plan",
        order_by="PlanVersion.number",
        passive_deletes=True,
        lazy="raise",
    )


class PlanVersion(UUIDPk, Base):
    """One set of terms of a plan. While a draft (never published, never sold) its terms are
    edited in place; after that only `published_at` and `sold_at` are written, once each."""

    __tablename__ = "plan_versions"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint("tax_rate_bps BETWEEN 0 AND 10000", name="tax_rate_range"),
        CheckConstraint("validity_days BETWEEN 1 AND 3650", name="validity_range"),
        CheckConstraint("visit_cap >= 1", name="visit_cap_positive"),
    )

    plan_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plans.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Money: integer minor units (paise for INR) with an ISO-4217 code.
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    tax_rate_bps: Mapped[int] = mapped_column(Integer)  # basis points: 1800 = 18 %
    prices_include_tax: Mapped[bool]
    # Derived from the four above when the row is written (rows never change, so never drift):
    # what the customer pays and the tax inside it. Sorting by price uses total_minor.
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    validity_days: Mapped[int] = mapped_column(SmallInteger)
    visit_cap: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # When the terms were first offered for sale (the plan published with them current).
    published_at: Mapped[datetime | None]
    sold_at: Mapped[datetime | None]

    plan: Mapped[Plan] = relationship(
        foreign_keys=[plan_id], back_populates="versions", lazy="raise"
    )
    categories: Mapped[list[ServiceCategory]] = relationship(
        secondary=plan_version_categories,
        order_by=(ServiceCategory.display_order, ServiceCategory.name),
        lazy="raise",
    )
    inclusions: Mapped[list[PlanInclusion]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="raise"
    )

    @property
    def is_sold(self) -> bool:
        return self.sold_at is not None

    @property
    def is_draft(self) -> bool:
        """Never published nor sold: nobody has seen or bought these terms."""
        return self.published_at is None and self.sold_at is None


class PlanInclusion(Base):
    """What a version includes for one of its categories. The composite foreign key makes the
    database refuse an inclusion for a category the version does not cover."""

    __tablename__ = "plan_inclusions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["version_id", "category_id"],
            ["plan_version_categories.version_id", "plan_version_categories.category_id"],
            ondelete="CASCADE",
            name="fk_plan_inclusions_covered_category",
        ),
        CheckConstraint("visits >= 0", name="visits_not_negative"),
        CheckConstraint(
            "parts_cap_minor IS NULL OR (parts_covered AND parts_cap_minor >= 0)",
            name="parts_cap_needs_parts",
        ),
    )

    version_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plan_versions.id", ondelete="CASCADE"), primary_key=True
    )
    # Refers to the category through the composite foreign key above.
    category_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    visits: Mapped[int] = mapped_column(SmallInteger)
    labour_covered: Mapped[bool]
    parts_covered: Mapped[bool]
    # In the version's currency; None with parts_covered means parts are covered without a limit.
    parts_cap_minor: Mapped[int | None] = mapped_column(BigInteger)
    details: Mapped[str] = mapped_column(Text, default="", server_default="")


class CatalogState(Base):
    """One row: a random token replaced on every admin change to the catalog. The public API keys
    its response cache by it, so an unchanged catalog is answered without loading it."""

    __tablename__ = "catalog_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    revision: Mapped[uuid.UUID]
    changed_at: Mapped[datetime] = mapped_column(server_default=func.now())
