"""possible duplicates

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 05:40:33.246514

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('possible_duplicates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('earlier_case_id', sa.Integer(), nullable=False),
    sa.Column('matched_on', sa.String(length=16), nullable=False),
    sa.Column('flagged_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_possible_duplicates_case_id_cases')),
    sa.ForeignKeyConstraint(['earlier_case_id'], ['cases.id'], name=op.f('fk_possible_duplicates_earlier_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_possible_duplicates')),
    sa.UniqueConstraint('case_id', 'earlier_case_id', name=op.f('uq_possible_duplicates_case_id_earlier_case_id'))
    )
    with op.batch_alter_table('possible_duplicates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_possible_duplicates_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_possible_duplicates_earlier_case_id'), ['earlier_case_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('possible_duplicates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_possible_duplicates_earlier_case_id'))
        batch_op.drop_index(batch_op.f('ix_possible_duplicates_case_id'))

    op.drop_table('possible_duplicates')
