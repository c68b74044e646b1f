"""human numbers for requests and orders (R-1042, O-2077); technicians' time off

- `service_requests.number` and `orders.number`: from their own sequences (starting at 1001),
  the rows already there numbered in the order they were made;
- `technician_time_off`: periods a technician is away (dispatch offers them nothing then);
- a prefix index on `service_requests.postal_code` (the staff list matches a code's beginning).

Revision ID: 3cf97d8edfc3
Revises: e2b7c4a91d53
Create Date: 2026-12-04 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "3cf97d8edfc3"
down_revision: str | None = "e2b7c4a91d53"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NUMBERED = (("service_requests", "service_request_numbers"), ("orders", "order_numbers"))
# The rows already there, numbered in the order they were made.
BACKFILL = (
    "UPDATE {table} SET number = numbered.n FROM ("
    "SELECT id, nextval('{sequence}') AS n FROM ("
    "SELECT id FROM {table} ORDER BY created_at, id) AS ordered) AS numbered "
    "WHERE {table}.id = numbered.id"
)


def upgrade() -> None:
    for table, sequence in NUMBERED:
        op.execute(f"CREATE SEQUENCE {sequence} START WITH 1001")
        op.add_column(table, sa.Column("number", sa.BigInteger(), nullable=True))
        op.execute(BACKFILL.format(table=table, sequence=sequence))
        op.alter_column(
            table,
            "number",
            nullable=False,
            server_default=sa.text(f"nextval('{sequence}'::regclass)"),
        )
        op.execute(f"ALTER SEQUENCE {sequence} OWNED BY {table}.number")
        op.create_unique_constraint(f"uq_{table}_number", table, ["number"])
    op.create_index(
        "ix_service_requests_postal_code_prefix",
        "service_requests",
        ["postal_code"],
        unique=False,
        postgresql_ops={"postal_code": "varchar_pattern_ops"},
    )
    op.create_table(
        "technician_time_off",
        sa.Column("technician_id", sa.Uuid(), nullable=False),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name=op.f("fk_technician_time_off_created_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["technician_id"],
            ["technicians.id"],
            name=op.f("fk_technician_time_off_technician_id_technicians"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technician_time_off")),
    )
    op.create_index(
        "ix_technician_time_off_during",
        "technician_time_off",
        ["technician_id", "during"],
        unique=False,
        postgresql_using="gist",
    )


def downgrade() -> None:
    op.drop_index(
        "ix_technician_time_off_during",
        table_name="technician_time_off",
        postgresql_using="gist",
    )
    op.drop_table("technician_time_off")
    op.drop_index(
        "ix_service_requests_postal_code_prefix",
        table_name="service_requests",
        postgresql_ops={"postal_code": "varchar_pattern_ops"},
    )
    for table, sequence in reversed(NUMBERED):
        op.drop_constraint(f"uq_{table}_number", table, type_="unique")
        op.drop_column(table, "number")  # the sequence it owns goes with it
        op.execute(f"DROP SEQUENCE IF EXISTS {sequence}")
