"""case reception time

A case imported from the 12345 / 110 / petition systems was received there before Concord
registered it; reports count cases by the time they were received. Existing cases were received
when they were registered.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:20:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('received_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE cases SET received_at = created_at")
    with op.batch_alter_table('cases') as batch:
        batch.alter_column('received_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_index('ix_cases_received_at', 'cases', ['received_at'])


def downgrade() -> None:
    op.drop_index('ix_cases_received_at', table_name='cases')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('received_at')
