"""incidents

Steps that fail inside the engine (a script raising, the engine reaching Python's recursion limit on a long
history, a stored state that no longer loads) and timers that gave up become incidents the operators see.
A failure repeated while unresolved counts on its row instead of adding one: the partial unique index on
`fingerprint` holds one unresolved row per failure. Timers that had already given up (state `failed`) are
carried over as timer incidents.

Revision ID: 0008_incidents
Revises: 0007
Create Date: 2026-11-30 10:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0008_incidents'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = sa.text("resolved_at IS NULL")


def upgrade() -> None:
    op.create_table(
        'incidents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('operation', sa.String(length=32), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('instance_id', sa.Integer(), nullable=True),
        sa.Column('task_id', sa.String(length=36), nullable=True),
        sa.Column('timer_id', sa.Integer(), nullable=True),
        sa.Column('element', sa.String(length=255), nullable=False),
        sa.Column('element_name', sa.String(length=255), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('fingerprint', sa.String(length=80), nullable=False),
        sa.Column('occurrences', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_incidents_case_id_cases')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    )
    op.create_index('ix_incidents_case_id', 'incidents', ['case_id'])
    op.create_index('ix_incidents_open_fingerprint', 'incidents', ['fingerprint'], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)
    # Timers that gave up before this revision: incidents too (the row does not say when it gave up; its
    # fire_at, moved on by the last back-off, is the nearest instant it keeps).
    op.execute(
        "INSERT INTO incidents (kind, operation, case_id, instance_id, task_id, timer_id, element, element_name, "
        "error, detail, fingerprint, occurrences, created_at, last_seen_at) "
        "SELECT 'timer', 'timer', t.case_id, t.instance_id, t.task_id, t.id, t.bpmn_id, k.title, "
        "COALESCE(t.last_error, ''), '{}', 'timer:' || t.id, t.attempts, t.fire_at, t.fire_at "
        "FROM timers t LEFT JOIN tasks k ON k.id = t.task_id WHERE t.state = 'failed' ORDER BY t.id")


def downgrade() -> None:
    op.drop_index('ix_incidents_open_fingerprint', table_name='incidents')
    op.drop_index('ix_incidents_case_id', table_name='incidents')
    op.drop_table('incidents')
