"""service request list indexes: the admin list over 100,000 requests within its 50 ms target

Found by the service-requests benchmark (`python -m bench requests`, EXPLAIN ANALYZE of the
slow filter combinations):

- the unfiltered list and date-range-only filters (`ORDER BY window_start, id`) sorted the whole
  table (a parallel seq scan and a top-N sort: 30-65 ms at 100,000): an index on
  `(window_start, id)` reads the page in index order;
- `escalated` / `overdue` used the partial index `WHERE escalated OR overdue`, which holds
  neither flag, so every count rechecked the heap (5,000 pages, ~33 ms): one partial index per
  flag answers the count from the index alone (~1.5 ms) and the page in order.

Revision ID: a3c5e7f90b12
Revises: d0cec9233e04
Create Date: 2026-12-03 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a3c5e7f90b12"
down_revision: str | None = "d0cec9233e04"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_service_requests_window", "service_requests", ["window_start", "id"], unique=False
    )
    op.create_index(
        "ix_service_requests_escalated",
        "service_requests",
        ["window_start", "id"],
        unique=False,
        postgresql_where=sa.text("escalated"),
    )
    op.create_index(
        "ix_service_requests_overdue",
        "service_requests",
        ["window_start", "id"],
        unique=False,
        postgresql_where=sa.text("overdue"),
    )
    op.drop_index(
        "ix_service_requests_flagged",
        table_name="service_requests",
        postgresql_where=sa.text("escalated OR overdue"),
    )


def downgrade() -> None:
    op.create_index(
        "ix_service_requests_flagged",
        "service_requests",
        ["window_start"],
        unique=False,
        postgresql_where=sa.text("escalated OR overdue"),
    )
    op.drop_index(
        "ix_service_requests_overdue",
        table_name="service_requests",
        postgresql_where=sa.text("overdue"),
    )
    op.drop_index(
        "ix_service_requests_escalated",
        table_name="service_requests",
        postgresql_where=sa.text("escalated"),
    )
    op.drop_index("ix_service_requests_window", table_name="service_requests")
