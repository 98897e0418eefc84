"""The outbox: outbox items and breaches

Revision ID: 0003
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = ("outbox",)
depends_on = None

_STATES = ("waiting_for_content", "waiting_for_approval", "ready", "sending", "sent", "failed", "cancelled")


def upgrade() -> None:
    op.create_table(
        "outbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=254), nullable=False),
        sa.Column("conference_reference", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("document", sa.String(length=64), nullable=False),
        sa.Column("copy", sa.String(length=200), nullable=False),
        sa.Column("report", sa.String(length=64), nullable=True),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("audience_person", sa.String(length=64), nullable=True),
        sa.Column("family_copy", sa.Boolean(), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("recipient_address", sa.String(length=254), nullable=True),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=True),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("warn_at", sa.DateTime(), nullable=True),
        sa.Column("breach_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("notice_text", sa.Text(), nullable=True),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("late_by", sa.Integer(), nullable=True),
        sa.Column("warned_at", sa.DateTime(), nullable=True),
        sa.Column("transport", sa.String(length=32), nullable=True),
        sa.Column("delivery_reference", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("state IN ('" + "', '".join(_STATES) + "')", name=op.f("ck_outbox_items_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_items")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_items_idempotency_key")),
    )
    op.create_index("ix_outbox_items_due_at", "outbox_items", ["due_at"])
    op.create_index("ix_outbox_items_warn_at", "outbox_items", ["warn_at"])
    op.create_index("ix_outbox_items_breach_at", "outbox_items", ["breach_at"])
    op.create_index("ix_outbox_items_state_due_at", "outbox_items", ["state", "due_at"])
    op.create_index("ix_outbox_items_conference", "outbox_items", ["conference_reference", "document"])

    op.create_table(
        "outbox_breaches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("conference_reference", sa.String(length=64), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("deadline_on", sa.Date(), nullable=False),
        sa.Column("detected_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("working_days_late", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('distribution', 'booking')", name=op.f("ck_outbox_breaches_kind")),
        sa.ForeignKeyConstraint(["item_id"], ["outbox_items.id"], name=op.f("fk_outbox_breaches_item_id_outbox_items"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_breaches")),
        sa.UniqueConstraint("key", name=op.f("uq_outbox_breaches_key")),
    )
    op.create_index("ix_outbox_breaches_conference", "outbox_breaches", ["conference_reference"])


def downgrade() -> None:
    op.drop_index("ix_outbox_breaches_conference", table_name="outbox_breaches")
    op.drop_table("outbox_breaches")
    for name in ("ix_outbox_items_conference", "ix_outbox_items_state_due_at", "ix_outbox_items_breach_at",
                 "ix_outbox_items_warn_at", "ix_outbox_items_due_at"):
        op.drop_index(name, table_name="outbox_items")
    op.drop_table("outbox_items")
