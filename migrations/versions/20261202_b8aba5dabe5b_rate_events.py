"""rate events: the failure counter becomes the counter of every rate limit

`auth_failures` counted failed sign-ins per key. Codes sent and sign-ups are limited too now, with
the same sliding-window count, so the table is renamed for what it holds (`rate_events`, keys like
`fail:ip:...`, `send:destination:...`) and gets an index on the time, for pruning old events.
Rows keyed the old way (`ip:...`) are never matched again and leave with the pruning.

Revision ID: b8aba5dabe5b
Revises: c4d18e2b7a95
Create Date: 2026-12-02 12:00:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b8aba5dabe5b"
down_revision: str | None = "c4d18e2b7a95"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.rename_table("auth_failures", "rate_events")
    op.execute("ALTER TABLE rate_events RENAME CONSTRAINT pk_auth_failures TO pk_rate_events")
    op.execute("ALTER INDEX ix_auth_failures_key_at RENAME TO ix_rate_events_key_at")
    op.execute("ALTER SEQUENCE auth_failures_id_seq RENAME TO rate_events_id_seq")
    op.create_index("ix_rate_events_created_at", "rate_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_rate_events_created_at", table_name="rate_events")
    op.execute("ALTER SEQUENCE rate_events_id_seq RENAME TO auth_failures_id_seq")
    op.execute("ALTER INDEX ix_rate_events_key_at RENAME TO ix_auth_failures_key_at")
    op.execute("ALTER TABLE rate_events RENAME CONSTRAINT pk_rate_events TO pk_auth_failures")
    op.rename_table("rate_events", "auth_failures")
