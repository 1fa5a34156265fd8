"""case types

Every deployed process whose start event names a form is a case type: a case remembers which one it was
registered as, and so does each of its inbox rows (denormalised like `case_no`, so that the inbox and the
board filter by it without a join). Until this revision Concord could only start `dispute_case`, so every
existing case and task is one.

Deployments remember where they came from: `repository` (`concord deploy`, as `make run` does) or `pages`
(a designer, through the pages or the API), so that deploying unchanged repository files never supersedes
what a designer deployed. Earlier deployments by the command line (`cli`) came from the repository.

Revision ID: 0012_case_types
Revises: 0011
Create Date: 2026-12-02 09:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0012_case_types'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DEFAULT = 'dispute_case'


def upgrade() -> None:
    for table in ('cases', 'tasks'):
        op.add_column(table, sa.Column('case_type', sa.String(64), nullable=True))
        op.execute(sa.table(table, sa.column('case_type', sa.String)).update().values(case_type=DEFAULT))
        with op.batch_alter_table(table) as batch:
            batch.alter_column('case_type', existing_type=sa.String(64), nullable=False)
    op.create_index('ix_cases_case_type', 'cases', ['case_type'])
    op.add_column('deployments', sa.Column('origin', sa.String(16), nullable=True))
    deployments = sa.table('deployments', sa.column('origin', sa.String), sa.column('deployed_by', sa.String))
    op.execute(deployments.update().values(
        origin=sa.case((deployments.c.deployed_by == 'cli', 'repository'), else_='pages')))
    with op.batch_alter_table('deployments') as batch:
        batch.alter_column('origin', existing_type=sa.String(16), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('deployments') as batch:
        batch.drop_column('origin')
    op.drop_index('ix_cases_case_type', table_name='cases')
    for table in ('tasks', 'cases'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('case_type')
