"""sandbox client secret: approving or declining a sandbox payment needs what only the payer got

Until now the sandbox page approved or declined for anyone who knew the session id. Each session
now has a client secret (as Stripe's PaymentIntent has), handed to the payer by `POST /checkout`.
Sessions made before get a random one: nobody holds it, so they can no longer be approved on the
page; they expire as any unpaid checkout does.

Revision ID: c4d18e2b7a95
Revises: 7c1e2f9a4b10
Create Date: 2026-12-02 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d18e2b7a95"
down_revision: str | None = "7c1e2f9a4b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "sandbox_payments", sa.Column("client_secret", sa.String(length=100), nullable=True)
    )
    # The shape `create_session` makes (`{id}_secret_{random}`); gen_random_uuid() is built in
    # from PostgreSQL 13.
    op.execute(
        "UPDATE sandbox_payments "
        "SET client_secret = id || '_secret_' || replace(gen_random_uuid()::text, '-', '')"
    )
    op.alter_column("sandbox_payments", "client_secret", nullable=False)


def downgrade() -> None:
    op.drop_column("sandbox_payments", "client_secret")
