"""received messages

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 05:38:39.356953

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('received_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('document_no', sa.String(length=128), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('sender', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_received_messages_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_received_messages')),
    sa.UniqueConstraint('case_id', 'name', 'document_no', name=op.f('uq_received_messages_case_id_name_document_no'))
    )
    with op.batch_alter_table('received_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_received_messages_case_id'), ['case_id'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('received_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_received_messages_case_id'))

    op.drop_table('received_messages')
