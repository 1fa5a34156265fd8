"""task drafts

An officer may save an open task's form half filled (暂存) and come back to it: one draft per task, kept
until the task is completed.

Revision ID: 0017_task_drafts
Revises: 0016_designer_drafts
Create Date: 2026-11-30 06:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0017_task_drafts'
down_revision: Union[str, Sequence[str], None] = '0016_designer_drafts'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'task_drafts',
        sa.Column('task_id', sa.String(length=36), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('saved_by', sa.String(length=64), nullable=False),
        sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_drafts_task_id_tasks')),
        sa.PrimaryKeyConstraint('task_id', name=op.f('pk_task_drafts')),
    )


def downgrade() -> None:
    op.drop_table('task_drafts')
