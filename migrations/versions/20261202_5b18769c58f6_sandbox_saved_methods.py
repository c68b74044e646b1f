"""sandbox saved methods: an approved sandbox payment saves a method that renewals can charge

A sandbox session now carries the method token it saves for automatic renewal once approved, and
an off-session charge of a saved sandbox method (a renewal) records the token it debited. Sessions
made before have none: they save no method, as before.

Revision ID: 5b18769c58f6
Revises: 63ba21cecc40
Create Date: 2026-12-02 12:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5b18769c58f6"
down_revision: str | None = "63ba21cecc40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "sandbox_payments", sa.Column("saved_method_id", sa.String(length=100), nullable=True)
    )
    op.add_column(
        "sandbox_payments", sa.Column("charged_method_id", sa.String(length=100), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("sandbox_payments", "charged_method_id")
    op.drop_column("sandbox_payments", "saved_method_id")
