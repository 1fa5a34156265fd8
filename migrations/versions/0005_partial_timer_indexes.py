"""partial timer indexes

Timers are written once per escalation rung and cancelled or fired soon after: index only the
states that are searched (waiting, by fire time; failed, for the incident list), and drop the
instance and case indexes no query uses. Each case step then writes far fewer index pages.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 08:20:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

WAITING = sa.text("state = 'waiting'")
FAILED = sa.text("state = 'failed'")


def upgrade() -> None:
    op.drop_index('ix_timers_due', table_name='timers')
    op.drop_index('ix_timers_instance_id', table_name='timers')
    op.drop_index('ix_timers_case_id', table_name='timers')
    op.create_index('ix_timers_waiting', 'timers', ['fire_at', 'id'], sqlite_where=WAITING, postgresql_where=WAITING)
    op.create_index('ix_timers_failed', 'timers', ['id'], sqlite_where=FAILED, postgresql_where=FAILED)


def downgrade() -> None:
    op.drop_index('ix_timers_failed', table_name='timers')
    op.drop_index('ix_timers_waiting', table_name='timers')
    op.create_index('ix_timers_case_id', 'timers', ['case_id'])
    op.create_index('ix_timers_instance_id', 'timers', ['instance_id'])
    op.create_index('ix_timers_due', 'timers', ['state', 'fire_at'])
