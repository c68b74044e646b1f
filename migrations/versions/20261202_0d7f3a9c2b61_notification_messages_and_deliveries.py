"""notification messages and deliveries, devices, preferences, quiet hours, unsubscribe uses

The outbox (`notifications`, one row per message and address) becomes two tables: the message a
user is told (`notification_messages`, shown in the app's inbox) and its deliveries on each
channel (`notification_deliveries`: an email address, each device token, a phone number), so a
message can go by email and push at once and each answer is kept. Existing rows are copied: each
becomes a message (its key gains the recipient's id, as new keys do) with one delivery.

Revision ID: 0d7f3a9c2b61
Revises: e6fa48da0267
Create Date: 2026-12-02 06:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0d7f3a9c2b61"
down_revision: str | None = "e6fa48da0267"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.TextClause:
    return sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "notification_messages",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("push_title", sa.String(length=300), nullable=True),
        sa.Column("push_body", sa.String(length=300), nullable=True),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("campaign_id", sa.Uuid(), nullable=True),
        sa.Column("in_inbox", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_messages_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_messages")),
        sa.UniqueConstraint("key", name=op.f("uq_notification_messages_key")),
    )
    op.create_index(
        op.f("ix_notification_messages_campaign_id"), "notification_messages", ["campaign_id"]
    )
    op.create_index(
        "ix_notification_messages_inbox",
        "notification_messages",
        ["user_id", sa.text("created_at DESC")],
        postgresql_where=sa.text("in_inbox"),
    )
    op.create_index(
        "ix_notification_messages_unread",
        "notification_messages",
        ["user_id"],
        postgresql_where=sa.text("in_inbox AND read_at IS NULL"),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("destination", sa.String(length=512), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'retrying', 'sent', 'delivered', 'failed', 'suppressed')",
            name=op.f("ck_notification_deliveries_status_known"),
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'push', 'sms')",
            name=op.f("ck_notification_deliveries_channel_known"),
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["notification_messages.id"],
            name=op.f("fk_notification_deliveries_message_id_notification_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint(
            "message_id",
            "channel",
            "destination",
            name=op.f("uq_notification_deliveries_message_id_channel_destination"),
        ),
    )
    op.create_index(
        "ix_notification_deliveries_open",
        "notification_deliveries",
        ["created_at"],
        postgresql_where=sa.text("status IN ('pending', 'retrying')"),
    )
    op.create_index(
        "ix_notification_deliveries_destination",
        "notification_deliveries",
        ["destination", sa.text("created_at DESC")],
    )
    op.create_table(
        "device_tokens",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token", sa.String(length=512), nullable=False),
        sa.Column("platform", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column(
            "last_seen_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "platform IN ('android', 'ios', 'web')", name=op.f("ck_device_tokens_platform_known")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_device_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_tokens")),
        sa.UniqueConstraint("token", name=op.f("uq_device_tokens_token")),
    )
    op.create_index(op.f("ix_device_tokens_user_id"), "device_tokens", ["user_id"])
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "topic", "channel", name=op.f("pk_notification_preferences")
        ),
    )
    op.create_table(
        "notification_quiet_hours",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("starts", sa.Time(), nullable=True),
        sa.Column("ends", sa.Time(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_quiet_hours_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_quiet_hours")),
    )
    op.create_table(
        "unsubscribe_uses",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_unsubscribe_uses_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_unsubscribe_uses")),
    )
    # The outbox's rows, kept: each a message with its one delivery.
    op.execute(
        """
        INSERT INTO notification_messages
            (id, key, user_id, kind, topic, subject, text, data, in_inbox, read_at, created_at)
        SELECT n.id,
               left(n.idempotency_key || coalesce(':' || n.user_id::text, ''), 200),
               n.user_id,
               CASE
                   WHEN n.template = 'otp_login' THEN 'account.sign_in_code'
                   WHEN n.template LIKE 'otp_%' THEN 'account.verification_code'
                   WHEN n.template = 'order_receipt' THEN 'order.receipt'
                   WHEN n.template LIKE 'subscription_%'
                       THEN 'subscription.' || substr(n.template, 14)
                   WHEN n.template LIKE 'service_request_%'
                       THEN 'request.' || substr(n.template, 17)
                   ELSE n.template
               END,
               CASE
                   WHEN n.template LIKE 'otp_%' THEN 'security'
                   WHEN n.template = 'order_receipt' THEN 'orders'
                   WHEN n.template LIKE 'subscription_%' THEN 'plan_reminders'
                   ELSE 'service_updates'
               END,
               n.subject, n.body, n.data, n.template NOT LIKE 'otp_%', n.read_at, n.created_at
        FROM notifications n
        """
    )
    op.execute(
        """
        INSERT INTO notification_deliveries
            (id, message_id, channel, destination, provider, status, attempts,
             provider_message_id, created_at, updated_at)
        SELECT gen_random_uuid(), n.id, CASE WHEN n.channel = 'sms' THEN 'sms' ELSE 'email' END,
               n.destination, n.provider,
               CASE WHEN n.status IN ('delivered', 'sent', 'failed') THEN n.status ELSE 'pending' END,
               CASE WHEN n.status IN ('delivered', 'sent') THEN 1 ELSE 0 END,
               n.provider_message_id, n.created_at, n.created_at
        FROM notifications n
        """
    )
    op.drop_index(op.f("ix_notifications_user_id"), table_name="notifications")
    op.drop_table("notifications")


def downgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("destination", sa.String(length=320), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "data", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=_now(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notifications_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notifications_idempotency_key")),
    )
    op.create_index(op.f("ix_notifications_user_id"), "notifications", ["user_id"], unique=False)
    # Back to one row per message and address (a message's first delivery; the inbox-only
    # messages had no address and are not kept).
    op.execute(
        """
        INSERT INTO notifications
            (id, idempotency_key, user_id, channel, destination, template, subject, body, data,
             provider, provider_message_id, status, created_at, read_at)
        SELECT DISTINCT ON (m.id) m.id, m.key, m.user_id, d.channel, left(d.destination, 320),
               m.kind, m.subject, m.text, m.data, d.provider, d.provider_message_id,
               CASE WHEN d.status IN ('delivered', 'sent', 'failed') THEN d.status ELSE 'pending' END,
               m.created_at, m.read_at
        FROM notification_messages m JOIN notification_deliveries d ON d.message_id = m.id
        WHERE d.channel IN ('email', 'sms')
        ORDER BY m.id, d.created_at
        """
    )
    op.drop_table("unsubscribe_uses")
    op.drop_table("notification_quiet_hours")
    op.drop_table("notification_preferences")
    op.drop_index(op.f("ix_device_tokens_user_id"), table_name="device_tokens")
    op.drop_table("device_tokens")
    op.drop_index("ix_notification_deliveries_destination", table_name="notification_deliveries")
    op.drop_index("ix_notification_deliveries_open", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_index("ix_notification_messages_unread", table_name="notification_messages")
    op.drop_index("ix_notification_messages_inbox", table_name="notification_messages")
    op.drop_index(op.f("ix_notification_messages_campaign_id"), table_name="notification_messages")
    op.drop_table("notification_messages")
