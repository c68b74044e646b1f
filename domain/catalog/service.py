"""Catalog: service categories, plans and their versions.

Keyword-only functions, the session first; they raise `core.errors` exceptions, never HTTP ones,
and never commit. Every function that changes the catalog writes an audit entry (who, before,
after) and replaces the catalog's revision token in the caller's transaction, so the change, its
record and the public caches' invalidation commit or roll back together.

Versioning rule
---------------
A plan version is never updated: any change to a plan's terms (name, description, categories,
price, tax, validity, visit cap, inclusions) inserts a new version and points
`plans.current_version_id` at it. The superseded version is then deleted if it was never sold, and
kept untouched forever if it was. We chose "always a new row" over "update unsold versions in
place" because then a version id always denotes one exact set of terms: the mobile app caches the
catalog offline and sends the `version_id` it showed to checkout, and the checkout can tell at once
whether those terms still exist (a superseded unsold version is gone) instead of silently charging
a price edited in place since. Pruning unsold versions keeps drafting from piling up rows nobody
bought. The database enforces the rule too: triggers refuse any UPDATE of a version other than
setting `sold_at` once, and any change to the categories or inclusions of a sold version.

"Sold" means `plan_versions.sold_at` is set, by `lock_version_for_sale` or `mark_versions_sold`
(which the checkout calls in the transaction that records the purchase). A plan with a sold
version cannot be deleted (archive).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, contains_eager, selectinload
from sqlalchemy.sql import ColumnElement, Select

from core.errors import Conflict, InvalidField, NotFound
from domain import timefmt
from domain.audit import service as audit
from domain.catalog.models import (
    CatalogState,
    Plan,
    PlanInclusion,
    PlanStatus,
    PlanVersion,
    ServiceCategory,
)
from domain.catalog.schemas import (
    TERM_FIELDS,
    AdminCategoryOut,
    CategoryCreate,
    CategoryUpdate,
    PlanCreate,
    PlanSort,
    PlanTerms,
    PlanUpdate,
    admin_plan_out,
    terms_of,
)

Loc = tuple[str | int, ...]


def price_breakdown(*, amount_minor: int, tax_rate_bps: int, includes_tax: bool) -> tuple[int, int]:
    """(tax_minor, total_minor) of a price, rounded half up to the minor unit (GST style: an
    inclusive price contains the tax; an exclusive one has it added)."""
    if includes_tax:
        divisor = 10_000 + tax_rate_bps
        net = (2 * amount_minor * 10_000 + divisor) // (2 * divisor)
        return amount_minor - net, amount_minor
    tax = (2 * amount_minor * tax_rate_bps + 10_000) // 20_000
    return tax, amount_minor + tax


# --- revision token (public caching) ------------------------------------------------------------


async def read_revision(db: AsyncSession) -> str:
    """Start a REPEATABLE READ snapshot and return the catalog's revision token in it, so what the
    caller reads next in this session is exactly the catalog that token names. Call first."""
    await db.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    token = (await db.execute(select(CatalogState.revision))).scalar_one_or_none()
    return token.hex if token is not None else "empty"


async def _changed(db: AsyncSession) -> None:
    stmt = pg_insert(CatalogState).values(id=1, revision=uuid.uuid4(), changed_at=func.now())
    stmt = stmt.on_conflict_do_update(
        index_elements=[CatalogState.id],
        set_={"revision": stmt.excluded.revision, "changed_at": stmt.excluded.changed_at},
    )
    await db.execute(stmt)


# --- categories ---------------------------------------------------------------------------------


async def list_categories(
    db: AsyncSession, *, include_inactive: bool = False
) -> list[ServiceCategory]:
    """Categories in display order; only active ones unless asked."""
    stmt = select(ServiceCategory).order_by(
        ServiceCategory.display_order, ServiceCategory.name, ServiceCategory.id
    )
    if not include_inactive:
        stmt = stmt.where(ServiceCategory.is_active.is_(True))
    return list((await db.execute(stmt)).scalars().all())


async def get_category(db: AsyncSession, *, category_id: uuid.UUID) -> ServiceCategory:
    category = await db.get(ServiceCategory, category_id)
    if category is None:
        raise NotFound("category not found")
    return category


def _category_snapshot(category: ServiceCategory) -> dict[str, Any]:
    return AdminCategoryOut.model_validate(category).model_dump(
        mode="json", exclude={"created_at", "updated_at"}
    )


async def _ensure_category_slug_free(
    db: AsyncSession, *, slug: str, except_id: uuid.UUID | None = None
) -> None:
    stmt = select(ServiceCategory.id).where(ServiceCategory.slug == slug)
    if except_id is not None:
        stmt = stmt.where(ServiceCategory.id != except_id)
    if (await db.execute(stmt)).first() is not None:
        raise Conflict(f"a category with slug {slug!r} already exists")


async def create_category(
    db: AsyncSession, *, data: CategoryCreate, actor_id: uuid.UUID | None
) -> ServiceCategory:
    """Add a category."""
    await _ensure_category_slug_free(db, slug=data.slug)
    category = ServiceCategory(**data.model_dump())
    db.add(category)
    await _flush_or_conflict(db, "a category with that slug already exists")
    await db.refresh(category)
    audit.record(
        db,
        actor_id=actor_id,
        action="category.create",
        entity_type="category",
        entity_id=category.id,
        after=_category_snapshot(category),
    )
    await _changed(db)
    return category


async def update_category(
    db: AsyncSession, *, category_id: uuid.UUID, data: CategoryUpdate, actor_id: uuid.UUID | None
) -> ServiceCategory:
    """Change a category's name, slug, description, icon, order or active flag."""
    category = await get_category(db, category_id=category_id)
    changes = data.model_dump(exclude_unset=True)
    if "slug" in changes:
        await _ensure_category_slug_free(db, slug=changes["slug"], except_id=category.id)
    before = _category_snapshot(category)
    for key, value in changes.items():
        setattr(category, key, value)
    after = _category_snapshot(category)
    if after == before:
        return category
    await _flush_or_conflict(db, "a category with that slug already exists")
    await db.refresh(category)
    action = "category.update"
    if set(changes) == {"is_active"}:
        action = "category.activate" if category.is_active else "category.deactivate"
    audit.record(
        db,
        actor_id=actor_id,
        action=action,
        entity_type="category",
        entity_id=category.id,
        before=before,
        after=after,
    )
    await _changed(db)
    return category


async def reorder_categories(
    db: AsyncSession, *, ids: Sequence[uuid.UUID], actor_id: uuid.UUID | None
) -> list[ServiceCategory]:
    """Put the given categories first, in that order; the rest follow in their old order."""
    rows = list(
        (
            await db.execute(
                select(ServiceCategory)
                .order_by(ServiceCategory.display_order, ServiceCategory.name, ServiceCategory.id)
                .with_for_update()
            )
        )
        .scalars()
        .all()
    )
    await _reorder(db, rows, ids, entity_type="category", actor_id=actor_id)
    return await list_categories(db, include_inactive=True)


class _Ordered(Protocol):
    id: Any
    display_order: int


_T = TypeVar("_T", bound=_Ordered)


async def _reorder(
    db: AsyncSession,
    rows: list[_T],
    ids: Sequence[uuid.UUID],
    *,
    entity_type: str,
    actor_id: uuid.UUID | None,
) -> None:
    """Renumber rows (given in their current order) 0, 10, 20, ...: `ids` first, then the rest.
    Each row whose place changed is audited; the catalog's ETag moves if any did."""
    by_id = {row.id: row for row in rows}
    for index, row_id in enumerate(ids):
        if row_id not in by_id:
            raise InvalidField(("ids", index), f"no such id: {row_id}")
    wanted = set(ids)
    ordered = [by_id[i] for i in ids] + [row for row in rows if row.id not in wanted]
    moved: list[tuple[_T, int]] = []
    for position, row in enumerate(ordered):
        new = position * 10  # gaps, so an admin can slot one in by hand later
        if row.display_order != new:
            moved.append((row, row.display_order))
            row.display_order = new
    for row, old in moved:
        audit.record(
            db,
            actor_id=actor_id,
            action=f"{entity_type}.reorder",
            entity_type=entity_type,
            entity_id=row.id,
            before={"display_order": old},
            after={"display_order": row.display_order},
        )
    if moved:
        await db.flush()
        await _changed(db)


# --- plans: reading -----------------------------------------------------------------------------


def _with_terms(stmt: Select[Plan], *, joined: bool = False) -> Select[Plan]:
    """Load each plan's current version (already joined, or by one more query) with its categories
    and inclusions: three or four queries for any number of plans, never one per plan."""
    load = contains_eager if joined else selectinload
    return stmt.options(
        load(Plan.current_version).selectinload(PlanVersion.categories),
        load(Plan.current_version).selectinload(PlanVersion.inclusions),
    )


async def list_public_plans(
    db: AsyncSession, *, category: str | None, sort: PlanSort, limit: int, offset: int
) -> tuple[list[Plan], int]:
    """Active plans with their current terms; filter by a category slug; sort by display order or
    by the price the customer pays (tax included)."""
    stmt = (
        select(Plan)
        .join(PlanVersion, Plan.current_version_id == PlanVersion.id)
        .where(Plan.status == PlanStatus.active.value)
    )
    if category:
        stmt = stmt.where(PlanVersion.categories.any(ServiceCategory.slug == category))
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    order: tuple[ColumnElement[Any] | InstrumentedAttribute[Any], ...]
    if sort == "price_asc":
        order = (PlanVersion.total_minor, Plan.display_order, Plan.slug)
    elif sort == "price_desc":
        order = (PlanVersion.total_minor.desc(), Plan.display_order, Plan.slug)
    else:
        order = (Plan.display_order, PlanVersion.total_minor, Plan.slug)
    stmt = _with_terms(stmt.order_by(*order).limit(limit).offset(offset), joined=True)
    return list((await db.execute(stmt)).scalars().all()), total


async def get_public_plan(db: AsyncSession, *, ref: str) -> Plan:
    """An active plan by id or slug; drafts and archived plans are NotFound."""
    try:
        condition = Plan.id == uuid.UUID(ref)
    except ValueError:
        condition = Plan.slug == ref.lower()
    stmt = _with_terms(
        select(Plan)
        .join(PlanVersion, Plan.current_version_id == PlanVersion.id)
        .where(condition, Plan.status == PlanStatus.active.value),
        joined=True,
    )
    plan = (await db.execute(stmt)).scalar_one_or_none()
    if plan is None:
        raise NotFound("plan not found")
    return plan


def _admin_query() -> Select[Plan]:
    return (
        _with_terms(select(Plan))
        .options(selectinload(Plan.versions))
        .execution_options(populate_existing=True)
    )


async def list_plans(
    db: AsyncSession, *, status: PlanStatus | None, limit: int, offset: int
) -> tuple[list[Plan], int]:
    """All plans (drafts and archived too) for the admin, in display order."""
    base = select(Plan)
    if status is not None:
        base = base.where(Plan.status == status.value)
    total = (await db.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    stmt = _admin_query()
    if status is not None:
        stmt = stmt.where(Plan.status == status.value)
    stmt = stmt.order_by(Plan.display_order, Plan.slug).limit(limit).offset(offset)
    return list((await db.execute(stmt)).scalars().all()), total


async def get_plan(db: AsyncSession, *, plan_id: uuid.UUID, for_update: bool = False) -> Plan:
    """A plan with its current terms and its versions (admin view)."""
    stmt = _admin_query().where(Plan.id == plan_id)
    if for_update:
        stmt = stmt.with_for_update(of=Plan)
    plan = (await db.execute(stmt)).scalar_one_or_none()
    if plan is None:
        raise NotFound("plan not found")
    return plan


async def list_versions(db: AsyncSession, *, plan_id: uuid.UUID) -> list[PlanVersion]:
    """Every kept version of a plan, newest first (sold ones, and the current one)."""
    await get_plan(db, plan_id=plan_id)
    stmt = (
        select(PlanVersion)
        .where(PlanVersion.plan_id == plan_id)
        .order_by(PlanVersion.number.desc())
        .options(selectinload(PlanVersion.categories), selectinload(PlanVersion.inclusions))
    )
    return list((await db.execute(stmt)).scalars().all())


async def get_version(db: AsyncSession, *, version_id: uuid.UUID) -> PlanVersion:
    """One version with its categories and inclusions (the exact terms bought)."""
    stmt = (
        select(PlanVersion)
        .where(PlanVersion.id == version_id)
        .options(selectinload(PlanVersion.categories), selectinload(PlanVersion.inclusions))
    )
    version = (await db.execute(stmt)).scalar_one_or_none()
    if version is None:
        raise NotFound("plan version not found")
    return version


# --- selling ------------------------------------------------------------------------------------


async def lock_version_for_sale(db: AsyncSession, *, version_id: uuid.UUID) -> PlanVersion:
    """Mark a version sold and return it with its terms; from then on it never changes and its
    plan can only be archived, not deleted. Idempotent (a retried checkout activity keeps the first
    `sold_at`). It does not check that the plan is still on sale: the checkout decides that before
    calling. A superseded unsold version no longer exists: NotFound, i.e. "the plan has changed".
    """
    # The UPDATE locks an unsold version until commit (an admin edit cannot prune it meanwhile);
    # a sold one can no longer be deleted at all.
    await mark_versions_sold(db, version_ids=[version_id])
    stmt = (
        select(PlanVersion)
        .where(PlanVersion.id == version_id)
        .options(selectinload(PlanVersion.categories), selectinload(PlanVersion.inclusions))
        .execution_options(populate_existing=True)
    )
    version = (await db.execute(stmt)).scalar_one_or_none()
    if version is None:
        raise NotFound("plan version not found; the plan has changed since it was shown")
    return version


async def mark_versions_sold(db: AsyncSession, *, version_ids: Sequence[uuid.UUID]) -> None:
    """Mark versions sold in one statement, without loading their terms (what settling an order
    needs: its foreign keys guarantee the versions exist). Versions already sold keep their first
    `sold_at`; the database refuses any other change to them."""
    await db.execute(
        update(PlanVersion)
        .where(PlanVersion.id.in_(set(version_ids)), PlanVersion.sold_at.is_(None))
        .values(sold_at=func.now())
        .execution_options(synchronize_session=False)
    )


# --- plans: changing ----------------------------------------------------------------------------


def _plan_snapshot(plan: Plan) -> dict[str, Any]:
    return admin_plan_out(plan).model_dump(mode="json", exclude={"created_at", "updated_at"})


async def _resolve_categories(
    db: AsyncSession, *, terms: PlanTerms, given: set[str]
) -> list[ServiceCategory]:
    """The categories named by the terms, checking the rules that need the database."""
    found = {
        c.slug: c
        for c in (
            await db.execute(
                select(ServiceCategory).where(ServiceCategory.slug.in_(terms.categories))
            )
        ).scalars()
    }
    for index, slug in enumerate(terms.categories):
        if slug not in found:
            loc: Loc = ("categories", index) if "categories" in given else ("categories",)
            raise InvalidField(loc, f"no category with slug {slug!r}")
    covered = set(terms.categories)
    for index, inclusion in enumerate(terms.inclusions):
        if inclusion.category not in covered:
            if "inclusions" in given:
                raise InvalidField(
                    ("inclusions", index, "category"),
                    f"the plan does not cover category {inclusion.category!r}",
                )
            raise InvalidField(
                ("categories",),
                f"category {inclusion.category!r} still has inclusions; send inclusions too",
            )
        if inclusion.visits > terms.visit_cap:
            loc = ("inclusions", index, "visits") if "inclusions" in given else ("visit_cap",)
            raise InvalidField(
                loc,
                f"{inclusion.category} allows {inclusion.visits} visits, more than the plan's "
                f"total of {terms.visit_cap}",
            )
    return [found[slug] for slug in terms.categories]


def _normalized(terms: PlanTerms) -> dict[str, Any]:
    data = terms.model_dump()
    data["categories"] = sorted(data["categories"])
    data["inclusions"] = sorted(data["inclusions"], key=lambda i: i["category"])
    return data


async def _add_version(
    db: AsyncSession,
    *,
    plan: Plan,
    number: int,
    terms: PlanTerms,
    categories: list[ServiceCategory],
    actor_id: uuid.UUID | None,
) -> PlanVersion:
    tax, total = price_breakdown(
        amount_minor=terms.price.amount_minor,
        tax_rate_bps=terms.price.tax_rate_bps,
        includes_tax=terms.price.includes_tax,
    )
    version = PlanVersion(
        plan_id=plan.id,
        number=number,
        name=terms.name,
        description=terms.description,
        price_minor=terms.price.amount_minor,
        currency=terms.price.currency,
        tax_rate_bps=terms.price.tax_rate_bps,
        prices_include_tax=terms.price.includes_tax,
        tax_minor=tax,
        total_minor=total,
        validity_days=terms.validity_days,
        visit_cap=terms.visit_cap,
        created_by=actor_id,
        categories=categories,
    )
    db.add(version)
    # Categories first: the inclusions' composite foreign key points at those rows.
    await db.flush()
    by_slug = {c.slug: c.id for c in categories}
    db.add_all(
        PlanInclusion(
            version_id=version.id,
            category_id=by_slug[inc.category],
            visits=inc.visits,
            labour_covered=inc.labour_covered,
            parts_covered=inc.parts_covered,
            parts_cap_minor=inc.parts_cap_minor,
            details=inc.details,
        )
        for inc in terms.inclusions
    )
    await db.flush()
    return version


async def _ensure_plan_slug_free(
    db: AsyncSession, *, slug: str, except_id: uuid.UUID | None = None
) -> None:
    stmt = select(Plan.id).where(Plan.slug == slug)
    if except_id is not None:
        stmt = stmt.where(Plan.id != except_id)
    if (await db.execute(stmt)).first() is not None:
        raise Conflict(f"a plan with slug {slug!r} already exists")


async def _flush_or_conflict(db: AsyncSession, message: str) -> None:
    try:
        await db.flush()
    except IntegrityError as exc:
        raise Conflict(message) from exc


async def create_plan(db: AsyncSession, *, data: PlanCreate, actor_id: uuid.UUID | None) -> Plan:
    """Add a plan (a draft) with its first version."""
    await _ensure_plan_slug_free(db, slug=data.slug)
    terms = PlanTerms.model_validate(data.model_dump(include=set(TERM_FIELDS)))
    categories = await _resolve_categories(db, terms=terms, given=set(data.model_fields_set))
    plan = Plan(
        slug=data.slug,
        status=PlanStatus.draft.value,
        display_order=data.display_order,
        badge=data.badge,
    )
    db.add(plan)
    await _flush_or_conflict(db, "a plan with that slug already exists")
    version = await _add_version(
        db, plan=plan, number=1, terms=terms, categories=categories, actor_id=actor_id
    )
    plan.current_version_id = version.id
    await db.flush()
    plan = await get_plan(db, plan_id=plan.id)
    audit.record(
        db,
        actor_id=actor_id,
        action="plan.create",
        entity_type="plan",
        entity_id=plan.id,
        after=_plan_snapshot(plan),
    )
    await _changed(db)
    return plan


async def update_plan(
    db: AsyncSession, *, plan_id: uuid.UUID, data: PlanUpdate, actor_id: uuid.UUID | None
) -> Plan:
    """Change merchandising in place and terms by a new version (see the module's rule)."""
    plan = await get_plan(db, plan_id=plan_id, for_update=True)
    current = plan.current_version
    assert current is not None
    before = _plan_snapshot(plan)
    changes = data.model_dump(exclude_unset=True)
    term_changes = set(changes) & set(TERM_FIELDS)

    if term_changes:
        old_terms = terms_of(current)
        new_terms = PlanTerms.model_validate(
            {**old_terms.model_dump(), **data.model_dump(include=set(term_changes))}
        )
        categories = await _resolve_categories(db, terms=new_terms, given=set(term_changes))
        if _normalized(new_terms) != _normalized(old_terms):
            number = max(v.number for v in plan.versions) + 1
            version = await _add_version(
                db,
                plan=plan,
                number=number,
                terms=new_terms,
                categories=categories,
                actor_id=actor_id,
            )
            plan.current_version_id = version.id
            await db.flush()
            # The superseded version goes unless it was sold; a concurrent sale that locked it
            # first wins (the condition is re-checked on the locked row), and it stays. An order
            # still awaiting payment also holds it (a RESTRICT foreign key): then it stays too,
            # and it is the version sold if that order is paid.
            try:
                async with db.begin_nested():
                    await db.execute(
                        delete(PlanVersion)
                        .where(PlanVersion.id == current.id, PlanVersion.sold_at.is_(None))
                        .execution_options(synchronize_session=False)
                    )
            except IntegrityError:
                pass

    if "slug" in changes and changes["slug"] != plan.slug:
        await _ensure_plan_slug_free(db, slug=changes["slug"], except_id=plan.id)
        plan.slug = changes["slug"]
    if "display_order" in changes:
        plan.display_order = changes["display_order"]
    if "badge" in changes:
        plan.badge = changes["badge"]
    await _flush_or_conflict(db, "a plan with that slug already exists")

    plan = await get_plan(db, plan_id=plan.id)
    after = _plan_snapshot(plan)
    if after != before:
        audit.record(
            db,
            actor_id=actor_id,
            action="plan.update",
            entity_type="plan",
            entity_id=plan.id,
            before=before,
            after=after,
        )
        await _changed(db)
    return plan


async def _set_status(
    db: AsyncSession, *, plan_id: uuid.UUID, status: PlanStatus, actor_id: uuid.UUID | None
) -> Plan:
    plan = await get_plan(db, plan_id=plan_id, for_update=True)
    if plan.status == status.value:
        return plan
    before = _plan_snapshot(plan)
    plan.status = status.value
    await db.flush()
    plan = await get_plan(db, plan_id=plan.id)
    audit.record(
        db,
        actor_id=actor_id,
        action="plan.publish" if status == PlanStatus.active else "plan.archive",
        entity_type="plan",
        entity_id=plan.id,
        before=before,
        after=_plan_snapshot(plan),
    )
    await _changed(db)
    return plan


async def publish_plan(db: AsyncSession, *, plan_id: uuid.UUID, actor_id: uuid.UUID | None) -> Plan:
    """Put a draft or archived plan on sale (idempotent)."""
    return await _set_status(db, plan_id=plan_id, status=PlanStatus.active, actor_id=actor_id)


async def archive_plan(db: AsyncSession, *, plan_id: uuid.UUID, actor_id: uuid.UUID | None) -> Plan:
    """Take a plan off sale for good; customers keep what they bought (idempotent)."""
    return await _set_status(db, plan_id=plan_id, status=PlanStatus.archived, actor_id=actor_id)


async def reorder_plans(
    db: AsyncSession, *, ids: Sequence[uuid.UUID], actor_id: uuid.UUID | None
) -> list[Plan]:
    """Put the given plans first, in that order; the rest follow in their old order."""
    rows = list(
        (
            await db.execute(
                select(Plan).order_by(Plan.display_order, Plan.slug, Plan.id).with_for_update()
            )
        )
        .scalars()
        .all()
    )
    await _reorder(db, rows, ids, entity_type="plan", actor_id=actor_id)
    plans, _ = await list_plans(db, status=None, limit=len(rows) or 1, offset=0)
    return plans


async def delete_plan(db: AsyncSession, *, plan_id: uuid.UUID, actor_id: uuid.UUID | None) -> None:
    """Delete a plan that was never sold; a sold plan is a Conflict that says to archive it."""
    plan = await get_plan(db, plan_id=plan_id, for_update=True)
    sold = [v for v in plan.versions if v.sold_at is not None]
    if sold:
        first = min(sold, key=lambda v: v.number)
        assert first.sold_at is not None
        raise Conflict(
            f"plan {plan.slug!r} cannot be deleted: version {first.number} was sold on "
            f"{timefmt.day(first.sold_at)} and customers hold its terms; archive it instead"
        )
    audit.record(
        db,
        actor_id=actor_id,
        action="plan.delete",
        entity_type="plan",
        entity_id=plan.id,
        before=_plan_snapshot(plan),
    )
    try:
        # The database cascades to versions, categories and inclusions; its trigger refuses if a
        # checkout locked a version since we looked.
        await db.execute(
            delete(Plan).where(Plan.id == plan.id).execution_options(synchronize_session=False)
        )
    except IntegrityError as exc:
        raise Conflict(
            f"plan {plan.slug!r} has just been sold and cannot be deleted; archive it instead"
        ) from exc
    db.expunge(plan)
    await _changed(db)
