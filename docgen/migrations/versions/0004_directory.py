"""Recipient certificates and delivery records

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = ("directory",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipient_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("professional_id", sa.Integer(), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("fingerprint_sha256", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=500), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=False),
        sa.Column("not_after", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["professional_id"], ["professionals.id"], ondelete="CASCADE",
                                name=op.f("fk_recipient_certificates_professional_id_professionals")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recipient_certificates")),
        sa.UniqueConstraint("fingerprint_sha256", name=op.f("uq_recipient_certificates_fingerprint_sha256")),
    )
    op.create_index(op.f("ix_recipient_certificates_professional_id"), "recipient_certificates", ["professional_id"])
    op.create_table(
        "delivery_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("conference_reference", sa.String(length=64), nullable=False),
        sa.Column("document_kind", sa.String(length=40), nullable=False),
        sa.Column("audience", sa.String(length=80), nullable=False),
        sa.Column("recipient_key", sa.String(length=64), nullable=False),
        sa.Column("recipient_address", sa.String(length=254), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("transport", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("plaintext_sha256", sa.String(length=64), nullable=False),
        sa.Column("ciphertext_sha256", sa.String(length=64), nullable=False),
        sa.Column("archive_path", sa.String(length=500), nullable=False),
        sa.Column("passphrase_verifier", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_records")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_delivery_records_idempotency_key")),
    )
    op.create_index(op.f("ix_delivery_records_conference_reference"), "delivery_records", ["conference_reference"])


def downgrade() -> None:
    op.drop_table("delivery_records")
    op.drop_table("recipient_certificates")
