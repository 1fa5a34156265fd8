"""notification reads

Which user has read which notification: the officer's notifications page marks them read and the
navigation counts the unread. A note addressed to a group while nobody holds its task is read by each
member for themselves, so one row per (notification, user). Notes are looked up by task too (an index).

Revision ID: 0015_notification_reads
Revises: 0014_operations
Create Date: 2026-12-01 10:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0015_notification_reads'
down_revision: Union[str, Sequence[str], None] = '0014_operations'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'notification_reads',
        sa.Column('notification_id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'],
                                name=op.f('fk_notification_reads_notification_id_notifications')),
        sa.PrimaryKeyConstraint('notification_id', 'username', name=op.f('pk_notification_reads')),
    )
    # The task page shows a task's urges and the inbox marks urged rows: both look notes up by task.
    op.create_index('ix_notifications_task', 'notifications', ['task_id'])


def downgrade() -> None:
    op.drop_index('ix_notifications_task', table_name='notifications')
    op.drop_table('notification_reads')
