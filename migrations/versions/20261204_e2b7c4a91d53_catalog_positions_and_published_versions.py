"""catalog: an explicit position for every plan and category; versions begin at publication

- `plans.display_order` and `service_categories.display_order` become an explicit position
  (1, 2, 3, ...): renumbered densely in today's order, new items take the next one (last).
- `plan_versions.published_at`: when the version was first shown for sale. A version that was
  neither published nor sold is a draft, and a draft's terms are edited in place; once published
  (or sold) its terms never change and an edit makes a new version. The triggers say so.
  Existing rows: a sold version, and the current version of a plan that is not a draft, count as
  published from their creation.

Revision ID: e2b7c4a91d53
Revises: 4c2a9e7d1f30
Create Date: 2026-12-04 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2b7c4a91d53"
down_revision: str | None = "4c2a9e7d1f30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A published or sold version never changes: only its sold_at and published_at are set, once
# each. A draft version (neither) may have its terms rewritten, never its identity.
VERSIONS_FROZEN_ONCE_PUBLISHED = """
CREATE OR REPLACE FUNCTION plan_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.sold_at IS NOT NULL THEN
            RAISE EXCEPTION 'plan version % has been sold and cannot be deleted', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF (OLD.sold_at IS NOT NULL AND NEW.sold_at IS DISTINCT FROM OLD.sold_at)
       OR (OLD.published_at IS NOT NULL AND NEW.published_at IS DISTINCT FROM OLD.published_at)
       OR NEW.id <> OLD.id OR NEW.plan_id <> OLD.plan_id OR NEW.number <> OLD.number THEN
        RAISE EXCEPTION 'plan version % is immutable; create a new version', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF (OLD.sold_at IS NOT NULL OR OLD.published_at IS NOT NULL)
       AND (to_jsonb(NEW) - 'sold_at' - 'published_at')
           IS DISTINCT FROM (to_jsonb(OLD) - 'sold_at' - 'published_at') THEN
        RAISE EXCEPTION 'plan version % is immutable; create a new version', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$
"""

# Categories and inclusions: never updated (a draft's are deleted and inserted anew); none added
# to a published or sold version; none removed from a sold one (deleting a plan never sold
# cascades through its published versions).
TERMS_FROZEN_ONCE_PUBLISHED = """
CREATE OR REPLACE FUNCTION plan_version_terms_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target uuid;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION '% rows are immutable; create a new plan version', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        target := OLD.version_id;
    ELSE
        target := NEW.version_id;
    END IF;
    IF EXISTS (SELECT 1 FROM plan_versions WHERE id = target AND sold_at IS NOT NULL) THEN
        RAISE EXCEPTION 'plan version % has been sold; its terms cannot change', target
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'INSERT' AND EXISTS (
        SELECT 1 FROM plan_versions WHERE id = target AND published_at IS NOT NULL
    ) THEN
        RAISE EXCEPTION 'plan version % has been published; its terms cannot change', target
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$
"""

# What the first catalog migration made (downgrade).
VERSIONS_FROZEN_ALWAYS = """
CREATE OR REPLACE FUNCTION plan_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.sold_at IS NOT NULL THEN
            RAISE EXCEPTION 'plan version % has been sold and cannot be deleted', OLD.id
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN OLD;
    END IF;
    IF (to_jsonb(NEW) - 'sold_at') IS DISTINCT FROM (to_jsonb(OLD) - 'sold_at')
       OR (OLD.sold_at IS NOT NULL AND NEW.sold_at IS DISTINCT FROM OLD.sold_at) THEN
        RAISE EXCEPTION 'plan version % is immutable; create a new version', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$
"""
TERMS_FROZEN_ONCE_SOLD = """
CREATE OR REPLACE FUNCTION plan_version_terms_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target uuid;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION '% rows are immutable; create a new plan version', TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        target := OLD.version_id;
    ELSE
        target := NEW.version_id;
    END IF;
    IF EXISTS (SELECT 1 FROM plan_versions WHERE id = target AND sold_at IS NOT NULL) THEN
        RAISE EXCEPTION 'plan version % has been sold; its terms cannot change', target
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.add_column(
        "plan_versions", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.execute(VERSIONS_FROZEN_ONCE_PUBLISHED)
    op.execute(TERMS_FROZEN_ONCE_PUBLISHED)
    op.execute(
        """
        UPDATE plan_versions v SET published_at = v.created_at
        WHERE v.sold_at IS NOT NULL
           OR v.id IN (SELECT current_version_id FROM plans WHERE status <> 'draft')
        """
    )
    op.execute(
        """
        UPDATE plans p SET display_order = ranked.position
        FROM (
            SELECT id, row_number() OVER (ORDER BY display_order, slug, id) AS position FROM plans
        ) ranked
        WHERE p.id = ranked.id
        """
    )
    op.execute(
        """
        UPDATE service_categories c SET display_order = ranked.position
        FROM (
            SELECT id, row_number() OVER (ORDER BY display_order, name, id) AS position
            FROM service_categories
        ) ranked
        WHERE c.id = ranked.id
        """
    )


def downgrade() -> None:
    op.execute(TERMS_FROZEN_ONCE_SOLD)
    op.execute(VERSIONS_FROZEN_ALWAYS)
    op.drop_column("plan_versions", "published_at")
