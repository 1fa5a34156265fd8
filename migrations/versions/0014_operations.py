"""operations on running cases

A process instance can be suspended (中止) by an operator: `suspended_at` is when, and
`status_before_suspension` the case status it resumes to. Cancelled and suspended are new texts of the
existing status columns (cases, process_instances, timers), which need no change.

Revision ID: 0014_operations
Revises: 0013_inbox_scale
Create Date: 2026-12-01 10:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision: str = '0014_operations'
down_revision: Union[str, Sequence[str], None] = '0013_inbox_scale'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch): recreating process_instances on SQLite is not needed for nullable columns.
    op.add_column('process_instances', sa.Column('suspended_at', UTCDateTime(), nullable=True))
    op.add_column('process_instances', sa.Column('status_before_suspension', sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('process_instances', schema=None) as batch_op:
        batch_op.drop_column('status_before_suspension')
        batch_op.drop_column('suspended_at')
