"""Conference versions: every save of a conference kept whole, with who saved it and when

Revision ID: 0005
Revises: 0001

Each conference already stored is carried over as one version with its current content version
number, rebuilt from its rows and validated exactly as docgen read it before this migration, so
the SHA-256 its approvals bind stays the same and they keep applying. This uses the row reader of
the time (``case_rows.read_rows``) rather than a copy of it, because the carried-over case must
hash exactly as docgen read it. Note for later migrations: on SQLite, altering conference_versions
in batch mode copies it into a new table, which drops its triggers; create them again there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from docgen.errors import ConfigurationError

revision = "0005"
down_revision = "0001"
branch_labels = ("versions",)
depends_on = None

TABLE = "conference_versions"
# Its own function rather than 0002's docgen_refuse_change(): depending on 0002 would make Alembic
# drop 0002 from the database's heads, and 0002's downgrade would fail on triggers using its function.
POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION docgen_refuse_version_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed; save a new version instead', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""
CARRIED_OVER_BY = "docgen 0005 (imported before versions were kept)"


def _create_triggers(dialect: str) -> None:
    if dialect == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(f"CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE ON {TABLE} "
                   "FOR EACH ROW EXECUTE FUNCTION docgen_refuse_version_change()")
        op.execute(f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION docgen_refuse_version_change()")
    elif dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            message = f"{TABLE} is append-only: {verb} is not allowed; save a new version instead"
            op.execute(f"CREATE TRIGGER {TABLE}_no_{verb.lower()} BEFORE {verb} ON {TABLE} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")
    else:
        raise ConfigurationError(f"the {dialect} database is not supported: conference versions need append-only "
                                 "triggers, which exist for SQLite and PostgreSQL; use one of those")


def _carry_over(versions: sa.Table) -> None:
    # Imported here, not at the top: only this step needs the product's code, and only on upgrade.
    from docgen.adapters.case_rows import read_rows
    from docgen.adapters.case_store import content_hash
    from docgen.adapters.casefile import validate_case
    from docgen.adapters.orm import Conference

    session = Session(bind=op.get_bind())
    rows = []
    for conference in session.scalars(sa.select(Conference).order_by(Conference.id)):
        case = validate_case(read_rows(session, conference.reference), source=f"conference {conference.reference}")
        rows.append({"reference": conference.reference, "version": conference.content_version, "content": case,
                     "content_sha256": content_hash(case), "saved_by": CARRIED_OVER_BY,
                     "saved_at": conference.imported_at, "source_sha256": conference.source_sha256})
    session.close()
    if rows:
        op.bulk_insert(versions, rows)


def upgrade() -> None:
    versions = op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("saved_by", sa.String(length=200), nullable=False),
        sa.Column("saved_at", sa.DateTime(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conference_versions")),
        sa.UniqueConstraint("reference", "version", name=op.f("uq_conference_versions_reference")),
    )
    _carry_over(versions)
    _create_triggers(op.get_bind().dialect.name)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}")
        op.execute("DROP FUNCTION IF EXISTS docgen_refuse_version_change()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")
    op.drop_table(TABLE)
