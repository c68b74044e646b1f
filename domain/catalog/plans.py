"""Changing plans: create, edit, publish, archive, delete; the versioning rule.

Versioning rule
---------------
Everything a customer buys (name, description, categories, price, tax, validity, visit cap,
inclusions) is a plan version. A version is a draft until the plan is published with it: nobody
has seen or bought those terms, so an edit rewrites them in place (a plan drafted and edited five
times before it goes on sale is still version 1). Versions begin at publication: once a version
has been published (or sold) it never changes, and an edit makes the next version, which is
published at once if the plan is on sale (an archived plan's edit stays a draft until it is
published again). Every published version is kept, so the admin's versions panel shows the whole
history, and a version id always denotes one set of terms: the mobile app caches the catalog and
sends the version it showed; the cart compares it with the plan's current version and says
"price or terms changed" instead of silently charging other terms. The database enforces the rule
too: triggers refuse to change a published or sold version, its categories or its inclusions.

Merchandising (slug, badge) changes in place; the place in the catalog changes by
`domain.catalog.ordering`. A plan with a sold version cannot be deleted (archive it).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidField
from domain import timefmt
from domain.audit import service as audit
from domain.catalog.models import (
    Plan,
    PlanInclusion,
    PlanStatus,
    PlanVersion,
    ServiceCategory,
    plan_version_categories,
)
from domain.catalog.ordering import next_position
from domain.catalog.plan_views import admin_plan_out
from domain.catalog.queries import get_plan
from domain.catalog.revision import flush_or_conflict, touch_revision
from domain.catalog.schemas import TERM_FIELDS, PlanCreate, PlanTerms, PlanUpdate, terms_of
from domain.catalog.selling import price_breakdown

Loc = tuple[str | int, ...]


def _plan_snapshot(plan: Plan) -> dict[str, Any]:
    return admin_plan_out(plan).model_dump(
        mode="json", exclude={"created_at", "updated_at", "holders"}
    )


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


def _columns(terms: PlanTerms) -> dict[str, Any]:
    """A version row's term columns, the tax and total derived from the price."""
    tax, total = price_breakdown(
        amount_minor=terms.price.amount_minor,
        tax_rate_bps=terms.price.tax_rate_bps,
        includes_tax=terms.price.includes_tax,
    )
    return {
        "name": terms.name,
        "description": terms.description,
        "price_minor": terms.price.amount_minor,
        "currency": terms.price.currency,
        "tax_rate_bps": terms.price.tax_rate_bps,
        "prices_include_tax": terms.price.includes_tax,
        "tax_minor": tax,
        "total_minor": total,
        "validity_days": terms.validity_days,
        "visit_cap": terms.visit_cap,
    }


async def _add_children(
    db: AsyncSession,
    *,
    version_id: uuid.UUID,
    terms: PlanTerms,
    categories: list[ServiceCategory],
) -> None:
    """The version's categories, then its inclusions (whose composite foreign key points at
    those rows)."""
    await db.execute(
        insert(plan_version_categories),
        [{"version_id": version_id, "category_id": c.id} for c in categories],
    )
    if terms.inclusions:
        by_slug = {c.slug: c.id for c in categories}
        await db.execute(
            insert(PlanInclusion),
            [
                {
                    "version_id": version_id,
                    "category_id": by_slug[inc.category],
                    "visits": inc.visits,
                    "labour_covered": inc.labour_covered,
                    "parts_covered": inc.parts_covered,
                    "parts_cap_minor": inc.parts_cap_minor,
                    "details": inc.details,
                }
                for inc in terms.inclusions
            ],
        )


async def _add_version(
    db: AsyncSession,
    *,
    plan: Plan,
    number: int,
    terms: PlanTerms,
    categories: list[ServiceCategory],
    published: bool,
    actor_id: uuid.UUID | None,
) -> uuid.UUID:
    version_id = uuid.uuid4()
    await db.execute(
        insert(PlanVersion).values(
            id=version_id,
            plan_id=plan.id,
            number=number,
            created_by=actor_id,
            **_columns(terms),
        )
    )
    await _add_children(db, version_id=version_id, terms=terms, categories=categories)
    if published:
        await _publish_version(db, version_id=version_id)
    return version_id


async def _publish_version(db: AsyncSession, *, version_id: uuid.UUID | None) -> None:
    """Its terms are offered from now on: no longer a draft (a version published before keeps
    its first date). Its categories and inclusions are written before: then they are frozen."""
    await db.execute(
        update(PlanVersion)
        .where(PlanVersion.id == version_id, PlanVersion.published_at.is_(None))
        .values(published_at=func.now())
        .execution_options(synchronize_session=False)
    )


async def _rewrite_draft(
    db: AsyncSession,
    *,
    version: PlanVersion,
    terms: PlanTerms,
    categories: list[ServiceCategory],
) -> None:
    """Edit a draft version's terms in place: same id, same number. The plan's row lock keeps a
    publication out meanwhile, and a draft cannot be in a cart or sold."""
    await db.execute(delete(PlanInclusion).where(PlanInclusion.version_id == version.id))
    await db.execute(
        delete(plan_version_categories).where(plan_version_categories.c.version_id == version.id)
    )
    rewritten = await db.execute(
        update(PlanVersion)
        .where(
            PlanVersion.id == version.id,
            PlanVersion.published_at.is_(None),
            PlanVersion.sold_at.is_(None),
        )
        .values(**_columns(terms))
        .execution_options(synchronize_session=False)
    )
    if rewritten.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the plan was published meanwhile; reload it and edit again")
    await _add_children(db, version_id=version.id, terms=terms, categories=categories)


async def _ensure_plan_slug_free(
    db: AsyncSession, *, slug: str, except_id: uuid.UUID | None = None
) -> None:
    stmt = select(Plan.id).where(Plan.slug == slug)
    if except_id is not None:
        stmt = stmt.where(Plan.id != except_id)
    if (await db.execute(stmt)).first() is not None:
        raise Conflict(f"a plan with slug {slug!r} already exists")


async def create_plan(db: AsyncSession, *, data: PlanCreate, actor_id: uuid.UUID | None) -> Plan:
    """Add a plan (a draft, last in the catalog) with its first version, a draft too."""
    await _ensure_plan_slug_free(db, slug=data.slug)
    terms = PlanTerms.model_validate(data.model_dump(include=set(TERM_FIELDS)))
    categories = await _resolve_categories(db, terms=terms, given=set(data.model_fields_set))
    plan = Plan(
        slug=data.slug,
        status=PlanStatus.draft.value,
        display_order=await next_position(db, Plan),
        badge=data.badge,
    )
    db.add(plan)
    await flush_or_conflict(db, "a plan with that slug already exists")
    plan.current_version_id = await _add_version(
        db,
        plan=plan,
        number=1,
        terms=terms,
        categories=categories,
        published=False,
        actor_id=actor_id,
    )
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
    await touch_revision(db)
    return plan


async def update_plan(
    db: AsyncSession, *, plan_id: uuid.UUID, data: PlanUpdate, actor_id: uuid.UUID | None
) -> Plan:
    """Change merchandising in place; terms in place on a draft version, else by a new version
    (see the module's rule)."""
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
            if current.is_draft:
                await _rewrite_draft(db, version=current, terms=new_terms, categories=categories)
            else:
                plan.current_version_id = await _add_version(
                    db,
                    plan=plan,
                    number=max(v.number for v in plan.versions) + 1,
                    terms=new_terms,
                    categories=categories,
                    published=plan.status == PlanStatus.active.value,
                    actor_id=actor_id,
                )
                await db.flush()

    if "slug" in changes and changes["slug"] != plan.slug:
        await _ensure_plan_slug_free(db, slug=changes["slug"], except_id=plan.id)
        plan.slug = changes["slug"]
    if "badge" in changes:
        plan.badge = changes["badge"]
    await flush_or_conflict(db, "a plan with that slug already exists")

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
        await touch_revision(db)
    return plan


async def _set_status(
    db: AsyncSession, *, plan_id: uuid.UUID, status: PlanStatus, actor_id: uuid.UUID | None
) -> Plan:
    plan = await get_plan(db, plan_id=plan_id, for_update=True)
    if plan.status == status.value:
        return plan
    before = _plan_snapshot(plan)
    plan.status = status.value
    if status == PlanStatus.active:
        await _publish_version(db, version_id=plan.current_version_id)
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
    await touch_revision(db)
    return plan


async def publish_plan(db: AsyncSession, *, plan_id: uuid.UUID, actor_id: uuid.UUID | None) -> Plan:
    """Put a draft or archived plan on sale (idempotent)."""
    return await _set_status(db, plan_id=plan_id, status=PlanStatus.active, actor_id=actor_id)


async def archive_plan(db: AsyncSession, *, plan_id: uuid.UUID, actor_id: uuid.UUID | None) -> Plan:
    """Take a plan off sale for good; customers keep what they bought (idempotent)."""
    return await _set_status(db, plan_id=plan_id, status=PlanStatus.archived, actor_id=actor_id)


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
    await touch_revision(db)
