"""Conferences, people, invitations, reports, record content, decisions and plans

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('key', name=op.f('uq_agencies_key'))
    )
    op.create_table('professionals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_professionals_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_professionals')),
    sa.UniqueConstraint('key', name=op.f('uq_professionals_key'))
    )
    op.create_table('conferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=True),
    sa.Column('strategy_discussion_on', sa.Date(), nullable=True),
    sa.Column('transfer_agreed_on', sa.Date(), nullable=True),
    sa.Column('previous_conference_on', sa.Date(), nullable=True),
    sa.Column('venue', sa.String(length=200), nullable=True),
    sa.Column('virtual_link', sa.String(length=500), nullable=True),
    sa.Column('chair_id', sa.Integer(), nullable=False),
    sa.Column('minute_taker', sa.String(length=200), nullable=True),
    sa.Column('quorate', sa.Boolean(), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('booking_delay_reason', sa.Text(), nullable=True),
    sa.Column('next_conference_on', sa.Date(), nullable=True),
    sa.Column('lead_social_worker_id', sa.Integer(), nullable=True),
    sa.Column('plan_contingency', sa.Text(), nullable=True),
    sa.Column('core_group_first_meeting_on', sa.Date(), nullable=True),
    sa.Column('content_version', sa.Integer(), nullable=False),
    sa.Column('source_sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['chair_id'], ['professionals.id'], name=op.f('fk_conferences_chair_id_professionals')),
    sa.ForeignKeyConstraint(['lead_social_worker_id'], ['professionals.id'], name=op.f('fk_conferences_lead_social_worker_id_professionals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conferences')),
    sa.UniqueConstraint('reference', name=op.f('uq_conferences_reference'))
    )
    op.create_table('children',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=True),
    sa.Column('expected_on', sa.Date(), nullable=True),
    sa.Column('gender', sa.String(length=16), nullable=True),
    sa.Column('subject', sa.Boolean(), nullable=False),
    sa.Column('first_language', sa.String(length=200), nullable=True),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('views', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('address_lines', sa.JSON(), nullable=True),
    sa.Column('address_postcode', sa.String(length=12), nullable=True),
    sa.Column('address_confidentiality', sa.String(length=16), nullable=True),
    sa.Column('address_withheld_from', sa.JSON(), nullable=True),
    sa.Column('address_withheld_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_children_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_id'], ['agencies.id'], name=op.f('fk_children_school_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children')),
    sa.UniqueConstraint('conference_id', 'key', name=op.f('uq_children_conference_id'))
    )
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_children_conference_id'), ['conference_id'], unique=False)

    op.create_table('family_members',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_in_own_script', sa.String(length=200), nullable=True),
    sa.Column('relationship_to_child', sa.String(length=200), nullable=False),
    sa.Column('parental_responsibility', sa.Boolean(), nullable=False),
    sa.Column('lives_with_child', sa.Boolean(), nullable=False),
    sa.Column('preferred_language', sa.String(length=200), nullable=True),
    sa.Column('interpreter_needed', sa.Boolean(), nullable=True),
    sa.Column('communication_needs', sa.Text(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('address_lines', sa.JSON(), nullable=True),
    sa.Column('address_postcode', sa.String(length=12), nullable=True),
    sa.Column('address_confidentiality', sa.String(length=16), nullable=True),
    sa.Column('address_withheld_from', sa.JSON(), nullable=True),
    sa.Column('address_withheld_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_family_members_conference_id_conferences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_members')),
    sa.UniqueConstraint('conference_id', 'key', name=op.f('uq_family_members_conference_id'))
    )
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_members_conference_id'), ['conference_id'], unique=False)

    op.create_table('plan_outcomes',
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_plan_outcomes_conference_id_conferences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_outcomes'))
    )
    with op.batch_alter_table('plan_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_outcomes_conference_id'), ['conference_id'], unique=False)

    op.create_table('reports',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=True),
    sa.Column('shared_with_parents', sa.String(length=16), nullable=False),
    sa.Column('sharing_note', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('confidentiality', sa.String(length=16), nullable=False),
    sa.Column('withheld_from', sa.JSON(), nullable=True),
    sa.Column('withheld_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_reports_agency_id_agencies')),
    sa.ForeignKeyConstraint(['author_id'], ['professionals.id'], name=op.f('fk_reports_author_id_professionals')),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_reports_conference_id_conferences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('conference_id', 'key', name=op.f('uq_reports_conference_id'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_conference_id'), ['conference_id'], unique=False)

    op.create_table('content_items',
    sa.Column('report_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('opinion_by', sa.String(length=64), nullable=True),
    sa.Column('columns', sa.JSON(), nullable=True),
    sa.Column('cells', sa.JSON(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('confidentiality', sa.String(length=16), nullable=False),
    sa.Column('withheld_from', sa.JSON(), nullable=True),
    sa.Column('withheld_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_content_items_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['content_items.id'], name=op.f('fk_content_items_parent_id_content_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['reports.id'], name=op.f('fk_content_items_report_id_reports'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_items'))
    )
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_items_conference_id'), ['conference_id'], unique=False)

    op.create_table('core_group_members',
    sa.Column('professional_id', sa.Integer(), nullable=True),
    sa.Column('family_member_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_core_group_members_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['family_member_id'], ['family_members.id'], name=op.f('fk_core_group_members_family_member_id_family_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['professional_id'], ['professionals.id'], name=op.f('fk_core_group_members_professional_id_professionals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_core_group_members'))
    )
    with op.batch_alter_table('core_group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_core_group_members_conference_id'), ['conference_id'], unique=False)

    op.create_table('decisions',
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('plan', sa.Boolean(), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=True),
    sa.Column('other_concerns', sa.Text(), nullable=True),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('dissent', sa.JSON(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_decisions_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_decisions_conference_id_conferences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decisions'))
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_conference_id'), ['conference_id'], unique=False)

    op.create_table('discharges',
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('discharged_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('continuing_support', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_discharges_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_discharges_conference_id_conferences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_discharges'))
    )
    with op.batch_alter_table('discharges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_discharges_conference_id'), ['conference_id'], unique=False)

    op.create_table('invitations',
    sa.Column('child_id', sa.Integer(), nullable=True),
    sa.Column('family_member_id', sa.Integer(), nullable=True),
    sa.Column('professional_id', sa.Integer(), nullable=True),
    sa.Column('attendance', sa.String(length=16), nullable=False),
    sa.Column('exclusion_reason', sa.Text(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('supporter', sa.String(length=200), nullable=True),
    sa.Column('invited_separately', sa.Boolean(), nullable=True),
    sa.Column('report_due_on', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('(CASE WHEN child_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN family_member_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN professional_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_invitations_one_invitee')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_invitations_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_invitations_conference_id_conferences'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['family_member_id'], ['family_members.id'], name=op.f('fk_invitations_family_member_id_family_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['professional_id'], ['professionals.id'], name=op.f('fk_invitations_professional_id_professionals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_conference_id'), ['conference_id'], unique=False)

    op.create_table('plan_actions',
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('who', sa.String(length=200), nullable=False),
    sa.Column('by_when', sa.Date(), nullable=False),
    sa.Column('progress_check', sa.Text(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conference_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('confidentiality', sa.String(length=16), nullable=False),
    sa.Column('withheld_from', sa.JSON(), nullable=True),
    sa.Column('withheld_reason', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_plan_actions_child_id_children'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['conference_id'], ['conferences.id'], name=op.f('fk_plan_actions_conference_id_conferences'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_actions'))
    )
    with op.batch_alter_table('plan_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_actions_conference_id'), ['conference_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('plan_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_actions_conference_id'))

    op.drop_table('plan_actions')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_conference_id'))

    op.drop_table('invitations')
    with op.batch_alter_table('discharges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_discharges_conference_id'))

    op.drop_table('discharges')
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decisions_conference_id'))

    op.drop_table('decisions')
    with op.batch_alter_table('core_group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_core_group_members_conference_id'))

    op.drop_table('core_group_members')
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_items_conference_id'))

    op.drop_table('content_items')
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reports_conference_id'))

    op.drop_table('reports')
    with op.batch_alter_table('plan_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_outcomes_conference_id'))

    op.drop_table('plan_outcomes')
    with op.batch_alter_table('family_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_family_members_conference_id'))

    op.drop_table('family_members')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_children_conference_id'))

    op.drop_table('children')
    op.drop_table('conferences')
    op.drop_table('professionals')
    op.drop_table('agencies')
