"""designer drafts

The designer workbench keeps work in progress on the server, per designer: a draft is a set of files
(diagrams, decision tables, forms) with a revision number that makes a stale editor's save a conflict.

Revision ID: 0016_designer_drafts
Revises: 0015_notification_reads
Create Date: 2026-11-30 05:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0016_designer_drafts'
down_revision: Union[str, Sequence[str], None] = '0015_notification_reads'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'designer_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner', sa.String(length=64), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('based_on', sa.String(length=160), nullable=True),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_designer_drafts')),
    )
    op.create_index('ix_designer_drafts_owner', 'designer_drafts', ['owner'])


def downgrade() -> None:
    op.drop_index('ix_designer_drafts_owner', table_name='designer_drafts')
    op.drop_table('designer_drafts')
