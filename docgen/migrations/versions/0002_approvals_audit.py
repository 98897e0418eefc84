"""Chair approvals, report sharing decisions and the append-only audit trail

Revision ID: 0002
Revises: 0001

The three tables only ever receive INSERTs. Triggers make the database refuse UPDATE and DELETE
on them (and TRUNCATE on PostgreSQL), so a bug or a stray script cannot rewrite a decision or an
audit entry; someone who can drop the triggers can still, which the audit chain makes detectable.
Note for later migrations: on SQLite, altering these tables in batch mode copies them into new
tables, which drops the triggers; create them again in that migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from docgen.errors import ConfigurationError

revision = "0002"
down_revision = "0001"
branch_labels = ("governance",)
depends_on = None

APPEND_ONLY = ("approvals", "report_sharing_decisions", "audit_events")

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION docgen_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed; record a new entry instead', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def _create_triggers(dialect: str, table: str) -> None:
    if dialect == "postgresql":
        op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                   "FOR EACH ROW EXECUTE FUNCTION docgen_refuse_change()")
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION docgen_refuse_change()")
    elif dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            message = f"{table} is append-only: {verb} is not allowed; record a new entry instead"
            op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
    else:
        # The audit trail's protection depends on these triggers: refuse a database without them.
        raise ConfigurationError(f"the {dialect} database is not supported: the audit trail needs append-only "
                                 "triggers, which exist for SQLite and PostgreSQL; use one of those")


def upgrade() -> None:
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_reference", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("document", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("chair", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("content_version", sa.Integer(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("view_sha256", sa.String(length=64), nullable=False),
        sa.Column("copy_sha256", sa.String(length=64), nullable=True),
        sa.Column("copy_format", sa.String(length=8), nullable=True),
        sa.Column("generated_on", sa.Date(), nullable=True),
        sa.CheckConstraint("decision IN ('approved', 'returned')", name=op.f("ck_approvals_decision")),
        sa.CheckConstraint("decision <> 'returned' OR comment IS NOT NULL",
                           name=op.f("ck_approvals_returned_with_comment")),
        sa.CheckConstraint("decision <> 'approved' OR copy_sha256 IS NOT NULL",
                           name=op.f("ck_approvals_approved_with_copy")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    op.create_index(op.f("ix_approvals_conference_reference"), "approvals", ["conference_reference"])
    op.create_table(
        "report_sharing_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conference_reference", sa.String(length=64), nullable=False),
        sa.Column("report", sa.String(length=64), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("chair", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("content_version", sa.Integer(), nullable=False),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_sharing_decisions")),
    )
    op.create_index(op.f("ix_report_sharing_decisions_conference_reference"), "report_sharing_decisions",
                    ["conference_reference"])
    op.create_table(
        "audit_events",
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("previous_sha256", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("previous_sha256", name=op.f("uq_audit_events_previous_sha256")),
        sa.UniqueConstraint("sha256", name=op.f("uq_audit_events_sha256")),
    )
    op.create_index(op.f("ix_audit_events_reference"), "audit_events", ["reference"])

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(POSTGRES_FUNCTION)
    for table in APPEND_ONLY:
        _create_triggers(dialect, table)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS docgen_refuse_change()")
    op.drop_index(op.f("ix_audit_events_reference"), table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_index(op.f("ix_report_sharing_decisions_conference_reference"), table_name="report_sharing_decisions")
    op.drop_table("report_sharing_decisions")
    op.drop_index(op.f("ix_approvals_conference_reference"), table_name="approvals")
    op.drop_table("approvals")
