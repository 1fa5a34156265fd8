"""case attachments

Files attached to a case (mediation agreements, photos, court documents): the bytes are kept in the
attachment directory under their SHA-256, this table says which case has which, under what name.

Revision ID: 0018_attachments
Revises: 0017_task_drafts
Create Date: 2026-11-30 06:10:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0018_attachments'
down_revision: Union[str, Sequence[str], None] = '0017_task_drafts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('media_type', sa.String(length=100), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('uploaded_by', sa.String(length=64), nullable=False),
        sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_attachments_case_id_cases')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    )
    op.create_index('ix_attachments_case', 'attachments', ['case_id', 'id'])


def downgrade() -> None:
    op.drop_index('ix_attachments_case', table_name='attachments')
    op.drop_table('attachments')
