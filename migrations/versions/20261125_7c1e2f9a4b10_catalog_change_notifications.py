"""catalog change notifications

Every write to `catalog_state` (the revision token every catalog change replaces, in the same
transaction) sends `NOTIFY catalog_changed` when it commits, whoever writes it: the API, the seed,
or an operator in psql. API processes LISTEN on that channel and drop their cached catalog bodies,
so a public read needs no database round trip while nothing changed (see `api.caching`).

Revision ID: 7c1e2f9a4b10
Revises: 36ea575cad87
Create Date: 2026-11-25 14:40:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7c1e2f9a4b10"
down_revision: str | None = "36ea575cad87"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "catalog_changed"  # api.caching.CATALOG_CHANNEL


def upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION catalog_state_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- Delivered at commit, never for a rolled-back change; identical notifications of
            -- one transaction are folded into one.
            PERFORM pg_notify('{CHANNEL}', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER catalog_state_notify
        AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catalog_state
        FOR EACH STATEMENT EXECUTE FUNCTION catalog_state_notify()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER catalog_state_notify ON catalog_state")
    op.execute("DROP FUNCTION catalog_state_notify()")
