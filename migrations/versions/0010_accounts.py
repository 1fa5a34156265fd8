"""centres, groups, integration keys, login throttling

Centres (综治中心) form a tree and every group belongs to one; users may be asked to change their
password; feeds get integration keys; failed logins are counted in the database. Groups that existing
users and tasks name are created in one centre, "本中心", with their keys as names, so that an upgraded
installation keeps working until an administrator names and places them.

Revision ID: 0010
Revises: 0008_incidents
Create Date: 2026-11-30 02:10:00

"""
import json
from datetime import datetime, timezone
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: Union[str, Sequence[str], None] = '0008_incidents'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The groups of route.md, by kind, for an upgraded installation (others become departments).
_KINDS = {"intake": "window", "dispatch": "dispatch", "supervisor": "supervision", "mediation": "mediation",
          "family": "mediation", "labor": "mediation", "property": "mediation", "consumer": "mediation"}


def upgrade() -> None:
    op.create_table(
        'centres',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['parent_id'], ['centres.id'], name=op.f('fk_centres_parent_id_centres')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_centres')),
        sa.UniqueConstraint('key', name=op.f('uq_centres_key')),
    )
    op.create_table(
        'groups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('name_en', sa.String(length=100), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('centre_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['centre_id'], ['centres.id'], name=op.f('fk_groups_centre_id_centres')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_groups')),
        sa.UniqueConstraint('key', name=op.f('uq_groups_key')),
    )
    op.create_index('ix_groups_centre_id', 'groups', ['centre_id'])
    op.create_table(
        'integration_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_keys')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_integration_keys_key_hash')),
    )
    op.create_table(
        'login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures')),
    )
    op.create_index('ix_login_failures_username', 'login_failures', ['username', 'failed_at'])
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    _backfill_groups()


def _backfill_groups() -> None:
    conn = op.get_bind()
    keys: set[str] = set()
    for (groups,) in conn.execute(sa.text("SELECT groups FROM users")):
        if isinstance(groups, str):  # SQLite hands JSON back as text
            groups = json.loads(groups)
        keys.update(g for g in groups or [] if isinstance(g, str))
    keys.update(g for (g,) in conn.execute(sa.text("SELECT DISTINCT group_name FROM tasks")) if g)
    if not keys:
        return
    now = datetime.now(timezone.utc)
    conn.execute(sa.text("INSERT INTO centres (key, name, parent_id, created_at) VALUES ('centre', '本中心', NULL, :at)"),
                 {"at": now})
    centre_id = conn.execute(sa.text("SELECT id FROM centres WHERE key = 'centre'")).scalar_one()
    conn.execute(sa.text("INSERT INTO groups (key, name, kind, centre_id, created_at) "
                         "VALUES (:key, :key, :kind, :centre, :at)"),
                 [{"key": key, "kind": _KINDS.get(key, "department"), "centre": centre_id, "at": now}
                  for key in sorted(keys)])


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('must_change_password')
    op.drop_index('ix_login_failures_username', table_name='login_failures')
    op.drop_table('login_failures')
    op.drop_table('integration_keys')
    op.drop_index('ix_groups_centre_id', table_name='groups')
    op.drop_table('groups')
    op.drop_table('centres')
