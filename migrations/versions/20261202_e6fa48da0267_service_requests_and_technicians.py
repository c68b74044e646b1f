"""service requests and technicians: requests with their timeline, dispatch log and photos;
technicians with skills, zones and hours; bookings that never overlap; the technician role

`technician_bookings` refuses two bookings of one technician that overlap in time (an exclusion
constraint on the booked range: btree_gist lets it compare the technician id too). Every new
timeline entry is announced on the `service_request_events` channel (a trigger), for the API's
live streams.

Revision ID: e6fa48da0267
Revises: 5b18769c58f6
Create Date: 2026-12-02 04:05:46.283945+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "e6fa48da0267"
down_revision: str | None = "5b18769c58f6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.drop_constraint(op.f("ck_users_role_known"), "users", type_="check")
    op.create_check_constraint(
        "role_known", "users", "role IN ('customer', 'technician', 'support', 'admin')"
    )
    op.create_table(
        "technicians",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("zones", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("working_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
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
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_technicians_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technicians")),
        sa.UniqueConstraint("user_id", name=op.f("uq_technicians_user_id")),
    )
    op.create_table(
        "technician_skills",
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["service_categories.id"],
            name=op.f("fk_technician_skills_category_id_service_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_skills_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("technician_id", "category_id", name=op.f("pk_technician_skills")),
    )
    op.create_index(
        op.f("ix_technician_skills_category_id"), "technician_skills", ["category_id"], unique=False
    )
    op.create_table(
        "service_requests",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("address_id", sa.Uuid(), nullable=True),
        sa.Column("address", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=True),
        sa.Column("escalated", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("overdue", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completion_notes", sa.Text(), nullable=True),
        sa.Column("parts_used", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True),
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
            "status IN ('pending', 'assigned', 'in_progress', 'completed', 'cancelled')",
            name=op.f("ck_service_requests_status_known"),
        ),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 1 AND 5",
            name=op.f("ck_service_requests_rating_range"),
        ),
        sa.CheckConstraint(
            "window_end > window_start", name=op.f("ck_service_requests_window_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["address_id"],
            ["addresses.id"],
            name=op.f("fk_service_requests_address_id_addresses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["service_categories.id"],
            name=op.f("fk_service_requests_category_id_service_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_service_requests_subscription_id_subscriptions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_service_requests_technician_id_technicians"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_service_requests_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_requests")),
    )
    op.create_index(
        "ix_service_requests_category_window",
        "service_requests",
        ["category_id", "window_start"],
        unique=False,
    )
    op.create_index(
        "ix_service_requests_flagged",
        "service_requests",
        ["window_start"],
        unique=False,
        postgresql_where=sa.text("escalated OR overdue"),
    )
    op.create_index(
        "ix_service_requests_postal_code_window",
        "service_requests",
        ["postal_code", "window_start"],
        unique=False,
    )
    op.create_index(
        "ix_service_requests_status_window",
        "service_requests",
        ["status", "window_start"],
        unique=False,
    )
    op.create_index(
        op.f("ix_service_requests_subscription_id"),
        "service_requests",
        ["subscription_id"],
        unique=False,
    )
    op.create_index(
        "ix_service_requests_technician_window",
        "service_requests",
        ["technician_id", "window_start"],
        unique=False,
    )
    op.create_index(
        "ix_service_requests_user_created",
        "service_requests",
        ["user_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "dispatch_decisions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("decision_key", sa.String(length=200), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("suggested", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_dispatch_decisions_request_id_service_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_dispatch_decisions_technician_id_technicians"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dispatch_decisions")),
        sa.UniqueConstraint("decision_key", name=op.f("uq_dispatch_decisions_decision_key")),
    )
    op.create_index(
        op.f("ix_dispatch_decisions_request_id"), "dispatch_decisions", ["request_id"], unique=False
    )
    op.create_table(
        "service_request_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_service_request_events_request_id_service_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_request_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_service_request_events_event_key")),
    )
    op.create_index(
        op.f("ix_service_request_events_request_id"),
        "service_request_events",
        ["request_id"],
        unique=False,
    )
    op.create_table(
        "service_request_photos",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_service_request_photos_request_id_service_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["users.id"],
            name=op.f("fk_service_request_photos_uploaded_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_request_photos")),
    )
    op.create_index(
        op.f("ix_service_request_photos_request_id"),
        "service_request_photos",
        ["request_id"],
        unique=False,
    )
    op.create_table(
        "technician_bookings",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        postgresql.ExcludeConstraint(
            (sa.column("technician_id"), "="),
            (sa.column("during"), "&&"),
            using="gist",
            name="technician_bookings_no_overlap",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_requests.id"],
            name=op.f("fk_technician_bookings_request_id_service_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_bookings_technician_id_technicians"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_technician_bookings")),
    )
    op.create_index(
        op.f("ix_technician_bookings_technician_id"),
        "technician_bookings",
        ["technician_id"],
        unique=False,
    )
    op.execute(
        """
        CREATE FUNCTION service_request_event_notify() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('service_request_events', NEW.request_id::text || ' ' || NEW.id);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER service_request_events_notify AFTER INSERT ON service_request_events
        FOR EACH ROW EXECUTE FUNCTION service_request_event_notify()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER service_request_events_notify ON service_request_events")
    op.execute("DROP FUNCTION service_request_event_notify()")
    op.drop_index(op.f("ix_technician_bookings_technician_id"), table_name="technician_bookings")
    op.drop_table("technician_bookings")
    op.drop_index(op.f("ix_service_request_photos_request_id"), table_name="service_request_photos")
    op.drop_table("service_request_photos")
    op.drop_index(op.f("ix_service_request_events_request_id"), table_name="service_request_events")
    op.drop_table("service_request_events")
    op.drop_index(op.f("ix_dispatch_decisions_request_id"), table_name="dispatch_decisions")
    op.drop_table("dispatch_decisions")
    op.drop_index("ix_service_requests_user_created", table_name="service_requests")
    op.drop_index("ix_service_requests_technician_window", table_name="service_requests")
    op.drop_index(op.f("ix_service_requests_subscription_id"), table_name="service_requests")
    op.drop_index("ix_service_requests_status_window", table_name="service_requests")
    op.drop_index("ix_service_requests_postal_code_window", table_name="service_requests")
    op.drop_index(
        "ix_service_requests_flagged",
        table_name="service_requests",
        postgresql_where=sa.text("escalated OR overdue"),
    )
    op.drop_index("ix_service_requests_category_window", table_name="service_requests")
    op.drop_table("service_requests")
    op.drop_index(op.f("ix_technician_skills_category_id"), table_name="technician_skills")
    op.drop_table("technician_skills")
    op.drop_table("technicians")
    op.execute("UPDATE users SET role = 'customer' WHERE role = 'technician'")
    op.drop_constraint(op.f("ck_users_role_known"), "users", type_="check")
    op.create_check_constraint("role_known", "users", "role IN ('customer', 'support', 'admin')")
