"""Random Message-IDs: every outbox item not yet sent gets a new, random Message-ID

Revision ID: 0011
Revises: 0003

On the outbox branch. Message-IDs were a hash of the conference reference, rule, copy and
recipient, so anyone who saw the headers could confirm a guess of which document went to whom.
New items get a random one when they are created (``docgen.domain.outbox.new_message_id``); this
gives every item not yet sent a random one too, keeping the domain after the '@'. Sent items keep
theirs: they are history, matched by the delivery records and the recipients' mailboxes.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0003"
branch_labels = None
depends_on = None

_items = sa.table("outbox_items", sa.column("id", sa.Integer), sa.column("state", sa.String),
                  sa.column("message_id", sa.String))


def _random_like(message_id: str) -> str:
    _, at, domain = message_id.strip().rstrip(">").rpartition("@")
    return f"<{secrets.token_hex(16)}@{domain if at and domain else 'docgen.invalid'}>"


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.select(_items.c.id, _items.c.message_id).where(_items.c.state != "sent")).all()
    for row in rows:
        connection.execute(sa.update(_items).where(_items.c.id == row.id)
                           .values(message_id=_random_like(row.message_id)))


def downgrade() -> None:
    # The old Message-IDs are not kept, and a random one is as good for sending: nothing to undo.
    pass
