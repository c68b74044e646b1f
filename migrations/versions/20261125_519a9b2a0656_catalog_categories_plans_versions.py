"""catalog: categories, plans, versions

Revision ID: 519a9b2a0656
Revises: bdef03963a43
Create Date: 2026-11-25 12:17:42.282086+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "519a9b2a0656"
down_revision: str | None = "bdef03963a43"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A version's terms never change once written, and a sold version is never deleted: the database
# refuses, whatever the code above it does. The only update allowed is setting sold_at, once.
IMMUTABILITY_TRIGGERS = (
    """
    CREATE FUNCTION plan_versions_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
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
    """,
    """
    CREATE TRIGGER plan_versions_immutable BEFORE UPDATE OR DELETE ON plan_versions
    FOR EACH ROW EXECUTE FUNCTION plan_versions_immutable()
    """,
    # Categories and inclusions are part of the terms: never updated, and not added or removed
    # once their version is sold (a cascade from deleting an unsold version passes).
    """
    CREATE FUNCTION plan_version_terms_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
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
    """,
    """
    CREATE TRIGGER plan_version_categories_frozen
    BEFORE INSERT OR UPDATE OR DELETE ON plan_version_categories
    FOR EACH ROW EXECUTE FUNCTION plan_version_terms_frozen()
    """,
    """
    CREATE TRIGGER plan_inclusions_frozen BEFORE INSERT OR UPDATE OR DELETE ON plan_inclusions
    FOR EACH ROW EXECUTE FUNCTION plan_version_terms_frozen()
    """,
)
DROP_IMMUTABILITY_TRIGGERS = (
    "DROP TRIGGER plan_inclusions_frozen ON plan_inclusions",
    "DROP TRIGGER plan_version_categories_frozen ON plan_version_categories",
    "DROP FUNCTION plan_version_terms_frozen()",
    "DROP TRIGGER plan_versions_immutable ON plan_versions",
    "DROP FUNCTION plan_versions_immutable()",
)


def upgrade() -> None:
    op.create_table(
        "catalog_state",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("revision", sa.Uuid(), nullable=False),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalog_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_state")),
    )
    op.create_table(
        "plans",
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("display_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("badge", sa.String(length=40), nullable=True),
        sa.Column("current_version_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'active', 'archived')", name=op.f("ck_plans_status_known")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("slug", name=op.f("uq_plans_slug")),
    )
    op.create_table(
        "service_categories",
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("icon", sa.String(length=300), nullable=True),
        sa.Column("display_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_service_categories_slug")),
    )
    op.create_table(
        "plan_versions",
        sa.Column("plan_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("tax_rate_bps", sa.Integer(), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("validity_days", sa.SmallInteger(), nullable=False),
        sa.Column("visit_cap", sa.SmallInteger(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("sold_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_plan_versions_currency_code")),
        sa.CheckConstraint("price_minor >= 0", name=op.f("ck_plan_versions_price_not_negative")),
        sa.CheckConstraint(
            "tax_rate_bps BETWEEN 0 AND 10000", name=op.f("ck_plan_versions_tax_rate_range")
        ),
        sa.CheckConstraint(
            "validity_days BETWEEN 1 AND 3650", name=op.f("ck_plan_versions_validity_range")
        ),
        sa.CheckConstraint("visit_cap >= 1", name=op.f("ck_plan_versions_visit_cap_positive")),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_plan_versions_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["plans.id"],
            name=op.f("fk_plan_versions_plan_id_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_versions")),
        sa.UniqueConstraint("plan_id", "number", name=op.f("uq_plan_versions_plan_id_number")),
    )
    op.create_index(op.f("ix_plan_versions_plan_id"), "plan_versions", ["plan_id"], unique=False)
    # plans <-> plan_versions refer to each other: this side is added once both tables exist.
    op.create_foreign_key(
        op.f("fk_plans_current_version_id_plan_versions"),
        "plans",
        "plan_versions",
        ["current_version_id"],
        ["id"],
    )
    op.create_table(
        "plan_version_categories",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["service_categories.id"],
            name=op.f("fk_plan_version_categories_category_id_service_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["plan_versions.id"],
            name=op.f("fk_plan_version_categories_version_id_plan_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "version_id", "category_id", name=op.f("pk_plan_version_categories")
        ),
    )
    op.create_index(
        op.f("ix_plan_version_categories_category_id"),
        "plan_version_categories",
        ["category_id"],
        unique=False,
    )
    op.create_table(
        "plan_inclusions",
        sa.Column("version_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("visits", sa.SmallInteger(), nullable=False),
        sa.Column("labour_covered", sa.Boolean(), nullable=False),
        sa.Column("parts_covered", sa.Boolean(), nullable=False),
        sa.Column("parts_cap_minor", sa.BigInteger(), nullable=True),
        sa.Column("details", sa.Text(), server_default="", nullable=False),
        sa.CheckConstraint(
            "parts_cap_minor IS NULL OR (parts_covered AND parts_cap_minor >= 0)",
            name=op.f("ck_plan_inclusions_parts_cap_needs_parts"),
        ),
        sa.CheckConstraint("visits >= 0", name=op.f("ck_plan_inclusions_visits_not_negative")),
        sa.ForeignKeyConstraint(
            ["version_id", "category_id"],
            ["plan_version_categories.version_id", "plan_version_categories.category_id"],
            name="fk_plan_inclusions_covered_category",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["plan_versions.id"],
            name=op.f("fk_plan_inclusions_version_id_plan_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "category_id", name=op.f("pk_plan_inclusions")),
    )
    for statement in IMMUTABILITY_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    for statement in DROP_IMMUTABILITY_TRIGGERS:
        op.execute(statement)
    op.drop_table("plan_inclusions")
    op.drop_index(
        op.f("ix_plan_version_categories_category_id"), table_name="plan_version_categories"
    )
    op.drop_table("plan_version_categories")
    op.drop_index(op.f("ix_plan_versions_plan_id"), table_name="plan_versions")
    op.drop_constraint(
        op.f("fk_plans_current_version_id_plan_versions"), "plans", type_="foreignkey"
    )
    op.drop_table("plan_versions")
    op.drop_table("plans")
    op.drop_table("service_categories")
    op.drop_table("catalog_state")
