"""Disclosure flags: the risks found in each family copy of the record and the chair's resolutions

Revision ID: 0006
Revises: 0002

On the governance branch, after the approvals and the audit trail. Not append-only like them: a
flag's status changes when the chair resolves it, and the audit trail keeps the history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosure_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_reference", sa.String(length=64), nullable=False),
        sa.Column("reader", sa.String(length=64), nullable=False),
        sa.Column("content_version", sa.Integer(), nullable=False),
        sa.Column("flag_key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("chair", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'shared', 'withheld')", name=op.f("ck_disclosure_flags_status")),
        sa.CheckConstraint("status = 'open' OR (reason IS NOT NULL AND chair IS NOT NULL)",
                           name=op.f("ck_disclosure_flags_resolved_with_reason")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure_flags")),
        sa.UniqueConstraint("conference_reference", "reader", "content_version", "flag_key",
                            name=op.f("uq_disclosure_flags_one_per_version")),
    )
    op.create_index(op.f("ix_disclosure_flags_conference_reference"), "disclosure_flags", ["conference_reference"])


def downgrade() -> None:
    op.drop_index(op.f("ix_disclosure_flags_conference_reference"), table_name="disclosure_flags")
    op.drop_table("disclosure_flags")
