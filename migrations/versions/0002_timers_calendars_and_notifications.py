"""timers, calendars and notifications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 05:30:56.143439

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('holidays', sa.JSON(), nullable=False),
    sa.Column('make_up_workdays', sa.JSON(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('imported_by', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=True),
    sa.Column('recipient_group', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False, server_default='engine'),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('case_no', sa.String(length=32), nullable=True),
    sa.Column('task_id', sa.String(length=36), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_notifications_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_group', ['recipient_group', 'id'], unique=False)
        batch_op.create_index('ix_notifications_recipient', ['recipient', 'id'], unique=False)

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_provisional', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('time_limit', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('limit_working', sa.Boolean(), nullable=False, server_default=sa.true()))

    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='engine'))
        batch_op.add_column(sa.Column('provisional', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('fired_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fired_by', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_timers_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_timers_task_id'), ['task_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_timers_case_id_cases'), 'cases', ['case_id'], ['id'])



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('timers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_timers_case_id_cases'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_timers_task_id'))
        batch_op.drop_index(batch_op.f('ix_timers_case_id'))
        batch_op.drop_column('fired_by')
        batch_op.drop_column('fired_at')
        batch_op.drop_column('provisional')
        batch_op.drop_column('kind')
        batch_op.drop_column('case_id')

    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_column('limit_working')
        batch_op.drop_column('time_limit')
        batch_op.drop_column('due_provisional')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_recipient')
        batch_op.drop_index('ix_notifications_group')

    op.drop_table('notifications')
    op.drop_table('calendar_years')
