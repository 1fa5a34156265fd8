"""case reception time

A case imported from the 12345 / 110 / petition systems was received there before Concord
registered it; reports count cases by the time they were received. Cases registered at a window or
by a live feed were received when they were registered. Work orders imported before this revision
carry their source's reception time only in a note at the end of their description
(`（12345热线受理时间：2026-11-27 10:02）`, in the centre's time zone): that time is theirs.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 10:20:00

"""
import re
from datetime import datetime
from typing import Sequence, Union
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from app.config import load_config
from app.models.base import UTCDateTime

revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_IMPORT_NOTE = re.compile(r"（[^（）]*受理时间：(\d{4}-\d{2}-\d{2} \d{2}:\d{2})）\s*$")
# The application's own instant type: UTC on both databases, as the rows were written.
_cases = sa.table('cases', sa.column('id', sa.Integer), sa.column('description', sa.Text),
                  sa.column('created_by', sa.String), sa.column('created_at', UTCDateTime()),
                  sa.column('received_at', UTCDateTime()))


def upgrade() -> None:
    op.add_column('cases', sa.Column('received_at', sa.DateTime(timezone=True), nullable=True))
    op.execute(_cases.update().values(received_at=_cases.c.created_at))
    _backfill_imported()
    with op.batch_alter_table('cases') as batch:
        batch.alter_column('received_at', existing_type=sa.DateTime(timezone=True), nullable=False)
    op.create_index('ix_cases_received_at', 'cases', ['received_at'])


def _backfill_imported() -> None:
    zone = ZoneInfo(load_config()["TIMEZONE"])
    connection = op.get_bind()
    rows = connection.execute(sa.select(_cases.c.id, _cases.c.description, _cases.c.created_at)
                              .where(_cases.c.created_by.like('import:%'))).all()
    for case_id, description, created_at in rows:
        match = _IMPORT_NOTE.search(description or "")
        if match is None:
            continue
        received = datetime.strptime(match.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=zone)
        connection.execute(_cases.update().where(_cases.c.id == case_id)
                           .values(received_at=min(received, created_at)))


def downgrade() -> None:
    op.drop_index('ix_cases_received_at', table_name='cases')
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('received_at')
