"""login sessions

A token names the login it came from; logging out ends that login on the server, so a copied token
or session cookie stops working at once instead of when it expires. Tokens issued before this
revision name no login: their holders log in again.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 10:45:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'login_sessions',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_sessions')),
    )
    op.create_index('ix_login_sessions_username', 'login_sessions', ['username'])


def downgrade() -> None:
    op.drop_index('ix_login_sessions_username', table_name='login_sessions')
    op.drop_table('login_sessions')
