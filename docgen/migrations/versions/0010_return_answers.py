"""Business support's answers to the chair's comments on returned family copies

Revision ID: 0010
Revises: 0007

On the web branch: the answer names the chair's decision by its id and the conference by its
reference, with no foreign key into the case tables (as the rest of the branch).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "return_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("approval", sa.Integer(), nullable=False),
        sa.Column("conference_reference", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.String(length=64), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_answers")),
        sa.UniqueConstraint("approval", name=op.f("uq_return_answers_approval")),
    )
    op.create_index("ix_return_answers_reference", "return_answers", ["conference_reference"])


def downgrade() -> None:
    op.drop_index("ix_return_answers_reference", table_name="return_answers")
    op.drop_table("return_answers")
