"""The recipient portal: links, their documents (encrypted), one-time codes, sessions and events

Revision ID: 0012
Revises: 0011

On the outbox branch, after the random Message-IDs: a portal document names the outbox item it was
published for (by id, with no foreign key, as the outbox's own history does not depend on it) and
the Message-ID's random part, which makes publishing idempotent.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_reference", sa.String(length=64), nullable=False),
        sa.Column("recipient_key", sa.String(length=64), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("token_seed", sa.String(length=64), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("live_for", sa.String(length=140), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("recalled_at", sa.DateTime(), nullable=True),
        sa.Column("recalled_by", sa.String(length=64), nullable=True),
        sa.Column("recall_reason", sa.Text(), nullable=True),
        sa.Column("code_channel", sa.String(length=8), nullable=False),
        sa.Column("code_address", sa.String(length=254), nullable=False),
        sa.Column("announced_by", sa.String(length=8), nullable=False),
        sa.Column("locked_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("code_channel IN ('sms', 'email')", name=op.f("ck_portal_links_code_channel")),
        sa.CheckConstraint("announced_by IN ('sms', 'email')", name=op.f("ck_portal_links_announced_by")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_links")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_portal_links_token_sha256")),
        sa.UniqueConstraint("live_for", name=op.f("uq_portal_links_live_for")),
    )
    op.create_index("ix_portal_links_person", "portal_links", ["conference_reference", "recipient_key"])
    op.create_table(
        "portal_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("message_token", sa.String(length=64), nullable=False),
        sa.Column("outbox_item_id", sa.Integer(), nullable=True),
        sa.Column("document_kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("corrections_by", sa.Date(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("plaintext_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("recalled_at", sa.DateTime(), nullable=True),
        sa.Column("recalled_by", sa.String(length=64), nullable=True),
        sa.Column("recall_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["link_id"], ["portal_links.id"], name=op.f("fk_portal_documents_link_id_portal_links")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_documents")),
        sa.UniqueConstraint("message_token", name=op.f("uq_portal_documents_message_token")),
    )
    op.create_index(op.f("ix_portal_documents_link_id"), "portal_documents", ["link_id"])
    op.create_index("ix_portal_documents_outbox_item", "portal_documents", ["outbox_item_id"])
    op.create_table(
        "portal_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["link_id"], ["portal_links.id"], name=op.f("fk_portal_codes_link_id_portal_links")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_codes")),
    )
    op.create_index("ix_portal_codes_link_created", "portal_codes", ["link_id", "created_at"])
    op.create_table(
        "portal_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["portal_links.id"], name=op.f("fk_portal_sessions_link_id_portal_links")),
        sa.PrimaryKeyConstraint("token_sha256", name=op.f("pk_portal_sessions")),
    )
    op.create_index(op.f("ix_portal_sessions_link_id"), "portal_sessions", ["link_id"])
    op.create_table(
        "portal_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('viewed', 'downloaded', 'code_sent', 'code_refused', 'locked', 'recalled')",
                           name=op.f("ck_portal_events_kind")),
        sa.ForeignKeyConstraint(["link_id"], ["portal_links.id"], name=op.f("fk_portal_events_link_id_portal_links")),
        sa.ForeignKeyConstraint(["document_id"], ["portal_documents.id"],
                                name=op.f("fk_portal_events_document_id_portal_documents")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_events")),
    )
    op.create_index("ix_portal_events_link", "portal_events", ["link_id", "kind"])
    op.create_index("ix_portal_events_document", "portal_events", ["document_id", "kind"])


def downgrade() -> None:
    op.drop_index("ix_portal_events_document", table_name="portal_events")
    op.drop_index("ix_portal_events_link", table_name="portal_events")
    op.drop_table("portal_events")
    op.drop_index(op.f("ix_portal_sessions_link_id"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
    op.drop_index("ix_portal_codes_link_created", table_name="portal_codes")
    op.drop_table("portal_codes")
    op.drop_index("ix_portal_documents_outbox_item", table_name="portal_documents")
    op.drop_index(op.f("ix_portal_documents_link_id"), table_name="portal_documents")
    op.drop_table("portal_documents")
    op.drop_index("ix_portal_links_person", table_name="portal_links")
    op.drop_table("portal_links")
