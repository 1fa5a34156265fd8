"""inbox scale

The inbox, the supervisors' `scope=all` and the escalation board read pages of open tasks in one order
(due, with the tasks without a due instant last, then created, then id). Partial indexes of the open
tasks in that order replace the (state, group, due) and (state, assignee) indexes, which no page could
read in order: per group, per assignee, all of them, and the late ones (escalation level 1 or above)
per group and all. The search of the inbox finds cases by number and work-order number (exact or
prefix), by a party's name or phone, and by a fragment of the title: on PostgreSQL with a trigram index
when the pg_trgm extension can be created (see the README, "Performance: the inbox at a million tasks").

Revision ID: 0013_inbox_scale
Revises: 0012_case_types
Create Date: 2026-11-30 05:00:00

"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0013_inbox_scale'
down_revision: Union[str, Sequence[str], None] = '0012_case_types'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = "state = 'open'"
LATE = "state = 'open' AND escalation_level >= 1"
# The inbox's order (app.models.tasks.due_order), as each database spells it.
_DUE = {"postgresql": "coalesce(due_at, 'infinity'::timestamptz)",
        "sqlite": "coalesce(due_at, '9999-12-31 23:59:59.999999')"}
_INBOX = (("ix_tasks_open_group", "group_name, ", OPEN), ("ix_tasks_open_assignee", "assignee, ", OPEN),
          ("ix_tasks_open_due", "", OPEN), ("ix_tasks_late_group", "group_name, ", LATE),
          ("ix_tasks_late_due", "", LATE))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index('ix_tasks_inbox_group', table_name='tasks')
    op.drop_index('ix_tasks_inbox_assignee', table_name='tasks')
    for name, leading, where in _INBOX:
        op.execute(f"CREATE INDEX {name} ON tasks ({leading}{_DUE[dialect]}, created_at, id) WHERE {where}")
    op.create_index('ix_parties_name', 'parties', ['name'])
    if dialect == "postgresql":
        # Prefix matches (LIKE 'GD2026%') read a pattern index under any collation; equality too.
        op.create_index('ix_cases_external_id', 'cases', ['external_id'],
                        postgresql_ops={'external_id': 'varchar_pattern_ops'})
        op.create_index('ix_cases_case_no_prefix', 'cases', ['case_no'], postgresql_ops={'case_no': 'varchar_pattern_ops'})
        _title_trigrams()
    else:  # SQLite compares texts bytewise: a prefix is a range of the plain index
        op.create_index('ix_cases_external_id', 'cases', ['external_id'])


def _title_trigrams() -> None:
    """A trigram index of the titles when pg_trgm is installed on the server and this login may create it
    (a trusted extension since PostgreSQL 13: the database's owner may); otherwise title fragments are
    matched by reading the titles (the search still answers, more slowly on a large database)."""
    bind = op.get_bind()
    if not bind.scalar(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")):
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        return
    op.execute("CREATE INDEX ix_cases_title_trgm ON cases USING gin (title gin_trgm_ops)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_cases_title_trgm")  # (the extension stays: others may use it)
        op.drop_index('ix_cases_case_no_prefix', table_name='cases')
    op.drop_index('ix_cases_external_id', table_name='cases')
    op.drop_index('ix_parties_name', table_name='parties')
    for name, _, _ in reversed(_INBOX):
        op.drop_index(name, table_name='tasks')
    op.create_index('ix_tasks_inbox_assignee', 'tasks', ['state', 'assignee'])
    op.create_index('ix_tasks_inbox_group', 'tasks', ['state', 'group_name', 'due_at'])
