"""subscription lifecycle: periods, a timeline, the visit ledger, auto-renewal, renewal orders

Subscriptions get the states SubscriptionWorkflow moves them through (past_due, grace, expired,
cancelled besides active), the number of their current period and what auto-renewal charges.
`subscription_periods` holds every period with the order that paid for it, `subscription_events`
the timeline (each entry once, by its key), `visit_reservations` the visits held for service
requests. An order item may renew a subscription instead of creating one. Subscriptions made
before get their first period and their activation in the timeline.

Revision ID: 63ba21cecc40
Revises: b8aba5dabe5b
Create Date: 2026-12-02 03:18:39.414579+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "63ba21cecc40"
down_revision: str | None = "b8aba5dabe5b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subscription_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.SmallInteger(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_events_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_subscription_events_event_key")),
    )
    op.create_index(
        op.f("ix_subscription_events_subscription_id"),
        "subscription_events",
        ["subscription_id"],
        unique=False,
    )
    op.create_table(
        "subscription_periods",
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan_version_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('initial', 'renewal', 'auto_renewal')",
            name=op.f("ck_subscription_periods_kind_known"),
        ),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_subscription_periods_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name=op.f("fk_subscription_periods_order_id_orders"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_version_id"],
            ["plan_versions.id"],
            name=op.f("fk_subscription_periods_plan_version_id_plan_versions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_subscription_periods_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("subscription_id", "number", name=op.f("pk_subscription_periods")),
    )
    op.create_index(
        op.f("ix_subscription_periods_order_id"), "subscription_periods", ["order_id"], unique=False
    )
    op.create_table(
        "visit_reservations",
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.SmallInteger(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('reserved', 'consumed', 'released')",
            name=op.f("ck_visit_reservations_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["service_categories.id"],
            name=op.f("fk_visit_reservations_category_id_service_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_visit_reservations_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_reservations")),
        sa.UniqueConstraint(
            "subscription_id",
            "request_id",
            name=op.f("uq_visit_reservations_subscription_id_request_id"),
        ),
    )
    op.add_column("order_items", sa.Column("renews_subscription_id", sa.Uuid(), nullable=True))
    op.create_index(
        op.f("ix_order_items_renews_subscription_id"),
        "order_items",
        ["renews_subscription_id"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_order_items_renews_subscription_id_subscriptions"),
        "order_items",
        "subscriptions",
        ["renews_subscription_id"],
        ["id"],
        ondelete="RESTRICT",
        use_alter=True,
    )
    op.add_column(
        "subscriptions", sa.Column("period", sa.SmallInteger(), server_default="1", nullable=False)
    )
    op.add_column(
        "subscriptions", sa.Column("grace_ends_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "subscriptions",
        sa.Column("auto_renew", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("subscriptions", sa.Column("payment_method_id", sa.Uuid(), nullable=True))
    op.add_column(
        "subscriptions", sa.Column("next_reminder_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "subscriptions", sa.Column("next_charge_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "subscriptions", sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("subscriptions", sa.Column("cancel_reason", sa.Text(), nullable=True))
    op.add_column(
        "subscriptions",
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.drop_constraint(op.f("ck_subscriptions_status_known"), "subscriptions", type_="check")
    op.create_check_constraint(
        "status_known",
        "subscriptions",
        "status IN ('active', 'past_due', 'grace', 'expired', 'cancelled')",
    )
    op.create_check_constraint("period_positive", "subscriptions", "period >= 1")
    op.execute(
        """
        INSERT INTO subscription_periods
            (subscription_id, number, kind, starts_at, ends_at, plan_version_id, order_id)
        SELECT id, 1, 'initial', starts_at, ends_at, plan_version_id, order_id FROM subscriptions
        """
    )
    op.execute(
        """
        INSERT INTO subscription_events
            (subscription_id, event_key, at, actor, kind, period, to_status, detail)
        SELECT id, 'sub:' || id || ':period:1:activated', starts_at, 'workflow', 'activated', 1,
               'active', 'paid with order ' || order_id
        FROM subscriptions
        """
    )
    op.create_index(
        "ix_subscriptions_status_ends_at", "subscriptions", ["status", "ends_at"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_subscriptions_payment_method_id_payment_methods"),
        "subscriptions",
        "payment_methods",
        ["payment_method_id"],
        ["id"],
        ondelete="SET NULL",
    )


def downgrade() -> None:
    # Statuses this revision added cannot stay; the subscriptions themselves do.
    op.execute("UPDATE subscriptions SET status = 'active' WHERE status <> 'active'")
    op.drop_constraint(op.f("ck_subscriptions_period_positive"), "subscriptions", type_="check")
    op.drop_constraint(op.f("ck_subscriptions_status_known"), "subscriptions", type_="check")
    op.create_check_constraint("status_known", "subscriptions", "status IN ('active')")
    op.drop_constraint(
        op.f("fk_subscriptions_payment_method_id_payment_methods"),
        "subscriptions",
        type_="foreignkey",
    )
    op.drop_index("ix_subscriptions_status_ends_at", table_name="subscriptions")
    op.drop_column("subscriptions", "updated_at")
    op.drop_column("subscriptions", "cancel_reason")
    op.drop_column("subscriptions", "cancelled_at")
    op.drop_column("subscriptions", "next_charge_at")
    op.drop_column("subscriptions", "next_reminder_at")
    op.drop_column("subscriptions", "payment_method_id")
    op.drop_column("subscriptions", "auto_renew")
    op.drop_column("subscriptions", "grace_ends_at")
    op.drop_column("subscriptions", "period")
    op.drop_constraint(
        op.f("fk_order_items_renews_subscription_id_subscriptions"),
        "order_items",
        type_="foreignkey",
    )
    op.drop_index(op.f("ix_order_items_renews_subscription_id"), table_name="order_items")
    op.drop_column("order_items", "renews_subscription_id")
    op.drop_table("visit_reservations")
    op.drop_index(op.f("ix_subscription_periods_order_id"), table_name="subscription_periods")
    op.drop_table("subscription_periods")
    op.drop_index(op.f("ix_subscription_events_subscription_id"), table_name="subscription_events")
    op.drop_table("subscription_events")
