"""audit hash chain

The audit log becomes tamper-evident. Every entry is a link of a hash chain: the entries of one case
form that case's chain, the entries without a case (logins, users, deployments, calendars) the system
chain. `seq` is an entry's place in its chain, `prev_hash` the hash of the entry before it (64 zeros for
the first) and `hash` the SHA-256 of its canonical fields and `prev_hash`. `audit_heads` records the last
link of each chain. Existing entries are chained here in the order they were written (by id).

Triggers: on SQLite, UPDATE and DELETE of an audit row are refused (PostgreSQL refuses them since 0001);
on PostgreSQL, TRUNCATE of either table is refused too. Heads may only move forward, never be deleted.

Note for later revisions: a SQLite batch migration of audit_log or audit_heads that recreates the table
drops its triggers with it; such a revision must create them again (`create_sqlite_triggers`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:00:00

"""
import hashlib
import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Sequence, Union

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision: str = '0011'
down_revision: Union[str, Sequence[str], None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GENESIS = "0" * 64
SYSTEM_CHAIN = 0
CHUNK = 5000

_audit = sa.table('audit_log', sa.column('id', sa.Integer), sa.column('at', UTCDateTime()),
                  sa.column('actor', sa.String), sa.column('action', sa.String), sa.column('case_id', sa.Integer),
                  sa.column('instance_id', sa.Integer), sa.column('task_id', sa.String),
                  sa.column('detail', sa.JSON), sa.column('seq', sa.Integer), sa.column('prev_hash', sa.String),
                  sa.column('hash', sa.String))
_heads = sa.table('audit_heads', sa.column('chain', sa.Integer), sa.column('seq', sa.Integer),
                  sa.column('hash', sa.String))


def chain_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, case_id: int | None,
               instance_id: int | None, task_id: str | None, detail: Any) -> str:
    """The link hash as this revision defines it (a frozen copy of app.services.kernel.audit.chain_hash)."""
    fields = {"prev": prev_hash, "seq": seq, "at": at.astimezone(timezone.utc).isoformat(timespec="microseconds"),
              "actor": actor, "action": action, "case_id": case_id, "instance_id": instance_id,
              "task_id": task_id, "detail": detail}
    text = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_heads_forward BEFORE UPDATE ON audit_heads "
    "WHEN NEW.chain IS NOT OLD.chain OR NEW.seq <= OLD.seq "
    "BEGIN SELECT RAISE(ABORT, 'audit_heads only move forward'); END",
    "CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads "
    "BEGIN SELECT RAISE(ABORT, 'audit_heads only move forward'); END",
)
SQLITE_TRIGGER_NAMES = ("audit_log_no_update", "audit_log_no_delete", "audit_heads_forward", "audit_heads_no_delete")

POSTGRESQL_TRIGGERS = (
    """CREATE FUNCTION audit_refuse_truncate() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION '% is append-only: TRUNCATE is refused', TG_TABLE_NAME; END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate()",
    "CREATE TRIGGER audit_heads_no_truncate BEFORE TRUNCATE ON audit_heads "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate()",
    """CREATE FUNCTION audit_heads_forward_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit_heads only move forward'; END $$ LANGUAGE plpgsql""",
    # The condition is tested before any function is called: a head moving forward costs no call.
    "CREATE TRIGGER audit_heads_forward BEFORE UPDATE ON audit_heads FOR EACH ROW "
    "WHEN (NEW.chain <> OLD.chain OR NEW.seq <= OLD.seq) EXECUTE FUNCTION audit_heads_forward_only()",
    "CREATE TRIGGER audit_heads_no_delete BEFORE DELETE ON audit_heads FOR EACH ROW "
    "EXECUTE FUNCTION audit_heads_forward_only()",
)


def create_sqlite_triggers() -> None:
    for statement in SQLITE_TRIGGERS:
        op.execute(statement)


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        'audit_heads',
        sa.Column('chain', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('chain', name=op.f('pk_audit_heads')),
    )
    op.add_column('audit_log', sa.Column('seq', sa.Integer(), nullable=True))
    op.add_column('audit_log', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('hash', sa.String(length=64), nullable=True))
    if postgresql:  # the rows written so far get their links: the append-only trigger waits meanwhile
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")
    _backfill()
    if postgresql:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")
    op.drop_index('ix_audit_log_case', table_name='audit_log')
    with op.batch_alter_table('audit_log') as batch:
        batch.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
    op.create_index('ix_audit_log_case', 'audit_log', ['case_id', 'seq'], unique=True)
    system = sa.text("case_id IS NULL")
    op.create_index('ix_audit_log_system', 'audit_log', ['seq'], unique=True, sqlite_where=system,
                    postgresql_where=system)
    if postgresql:
        for statement in POSTGRESQL_TRIGGERS:
            op.execute(statement)
    else:
        create_sqlite_triggers()


def _backfill() -> None:
    """Chain the existing rows, chain by chain in id order, a chunk of rows at a time."""
    connection = op.get_bind()
    columns = (_audit.c.id, _audit.c.at, _audit.c.actor, _audit.c.action, _audit.c.case_id, _audit.c.instance_id,
               _audit.c.task_id, _audit.c.detail)
    heads: list[dict[str, Any]] = []
    system = _link(connection, _chunks(connection, sa.select(*columns).where(_audit.c.case_id.is_(None)),
                                       lambda row: _audit.c.id > row.id, (_audit.c.id,)), heads)
    if not system:
        heads.append({"chain": SYSTEM_CHAIN, "seq": 0, "hash": GENESIS})
    _link(connection, _chunks(connection, sa.select(*columns).where(_audit.c.case_id.is_not(None)),
                              lambda row: sa.tuple_(_audit.c.case_id, _audit.c.id) > sa.tuple_(row.case_id, row.id),
                              (_audit.c.case_id, _audit.c.id)), heads)
    if heads:
        connection.execute(_heads.insert(), heads)


def _chunks(connection: sa.Connection, query: sa.Select[Any], after: Any, order: tuple[Any, ...]) -> Iterable[Any]:
    last = None
    while True:
        page = query if last is None else query.where(after(last))
        rows = connection.execute(page.order_by(*order).limit(CHUNK)).all()
        yield from rows
        if len(rows) < CHUNK:
            return
        last = rows[-1]


def _link(connection: sa.Connection, rows: Iterable[Any], heads: list[dict[str, Any]]) -> bool:
    """Give `rows` (ordered by chain, then id) their links; True when there was any."""
    update = (_audit.update().where(_audit.c.id == sa.bindparam("b_id"))
              .values(seq=sa.bindparam("b_seq"), prev_hash=sa.bindparam("b_prev"), hash=sa.bindparam("b_hash")))
    chain, seq, prev, pending, seen = None, 0, GENESIS, [], False
    for row in rows:
        seen = True
        key = SYSTEM_CHAIN if row.case_id is None else row.case_id
        if key != chain:
            if chain is not None:
                heads.append({"chain": chain, "seq": seq, "hash": prev})
            chain, seq, prev = key, 0, GENESIS
        seq += 1
        link = chain_hash(prev, seq, row.at, row.actor, row.action, row.case_id, row.instance_id, row.task_id,
                          row.detail)
        pending.append({"b_id": row.id, "b_seq": seq, "b_prev": prev, "b_hash": link})
        prev = link
        if len(pending) >= CHUNK:
            connection.execute(update, pending)
            pending = []
    if pending:
        connection.execute(update, pending)
    if chain is not None:
        heads.append({"chain": chain, "seq": seq, "hash": prev})
    return seen


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_heads_no_delete ON audit_heads")
        op.execute("DROP TRIGGER IF EXISTS audit_heads_forward ON audit_heads")
        op.execute("DROP TRIGGER IF EXISTS audit_heads_no_truncate ON audit_heads")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_heads_forward_only()")
        op.execute("DROP FUNCTION IF EXISTS audit_refuse_truncate()")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index('ix_audit_log_system', table_name='audit_log')
    op.drop_index('ix_audit_log_case', table_name='audit_log')
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_column('hash')
        batch.drop_column('prev_hash')
        batch.drop_column('seq')
    op.create_index('ix_audit_log_case', 'audit_log', ['case_id', 'id'])
    op.drop_table('audit_heads')
