"""Hot-path statements run straight on the driver's cursor.

Why: for the few statements every case step runs, SQLAlchemy's per-execution machinery (execution
context, parameter construction, result metadata) cost several times the database's own work
(measured: 60-150 µs a statement against 5-25 µs in SQLite). A `Prepared` statement is an ordinary
Core statement, compiled once per dialect and set of inserted columns; each run binds its
parameters through the same type processors SQLAlchemy would apply (so values are stored exactly
as the ORM stores them), executes on the DBAPI cursor of the caller's connection, inside the
caller's transaction, and hands rows back processed by the column types. Driver errors are
re-raised as SQLAlchemy's, so callers handle them as before. Statements with expanding IN
parameters are not supported (use Core for those).

Only the `queries` modules of the service domains use it: callers ask them for a named statement
(`queries.lock_task_for_completion(conn, task_id)`) and never see this mechanism.
"""
from __future__ import annotations

import logging
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert

Processor = Callable[[Any], Any]
_echo = logging.getLogger("sqlalchemy.engine.Engine")


@dataclass
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bind names, in the order of the SQL text for positional drivers
    positional: bool
    fixed: dict[str, Any]  # literal values the statement carries itself
    binders: dict[str, Processor]
    row_type: Any  # a namedtuple of the returned columns, or None
    returned: list[Any]  # the returned columns
    # (position, processor) of the returned columns that need one; set at the first run (drivers
    # report column types)
    readers: tuple[tuple[int, Processor], ...] | None = None
    plan: _Plan = field(init=False)

    def __post_init__(self) -> None:
        self.plan = _Plan(self.names, self.fixed, self.binders)


class _Plan:
    """How a statement's parameters are laid out, worked out once: which values come from the caller
    (fetched in one C-level itemgetter call), which the statement carries (spliced in at their place),
    and which positions need a type processor. Binding runs for every statement of every step."""

    __slots__ = ("fetch", "spliced", "processed")

    def __init__(self, names: tuple[str, ...], fixed: dict[str, Any], binders: dict[str, Processor]) -> None:
        given = tuple(name for name in names if name not in fixed)
        self.fetch: Callable[[Mapping[str, Any]], list[Any]] = lambda params: []
        if len(given) == 1:
            one = itemgetter(given[0])
            self.fetch = lambda params: [one(params)]
        elif given:
            many = itemgetter(*given)
            self.fetch = lambda params: list(many(params))
        self.spliced = tuple((n, name, fixed[name]) for n, name in enumerate(names) if name in fixed)
        self.processed = tuple((n, binders[name]) for n, name in enumerate(names) if name in binders)


class Rows:
    """The subset of SQLAlchemy's Result the hot path uses."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows, self.rowcount = rows, rowcount

    def __iter__(self) -> Any:
        return iter(self.rows)

    def one_or_none(self) -> Any:
        if len(self.rows) > 1:
            raise MultipleResultsFound("more than one row where at most one was expected")
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        row = self.one_or_none()
        if row is None:
            raise NoResultFound("no row where one was expected")
        return row

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]


class Prepared:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, tuple[str, ...]], _Compiled] = {}
        self._columns = frozenset(statement.table.columns.keys()) if isinstance(statement, Insert) else frozenset()

    def run(self, session: Session | Connection, params: Mapping[str, Any] | None = None) -> Rows:
        params = params or {}
        connection = _connection(session)
        compiled = self._for(connection.dialect, params)
        cursor = _executed(connection, compiled.sql, _bound(compiled, params))
        try:
            rows = _read(compiled, cursor, connection.dialect) if compiled.row_type is not None else []
            return Rows(rows, cursor.rowcount)
        finally:
            cursor.close()

    def run_many(self, session: Session | Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """One statement for many parameter sets (no rows returned)."""
        if not rows:
            return
        connection = _connection(session)
        compiled = self._for(connection.dialect, rows[0])
        _executed(connection, compiled.sql, [_bound(compiled, row) for row in rows], many=True).close()

    def defer(self, session: Session | Connection, params: Mapping[str, Any] | None = None) -> None:
        """Run this write later in the caller's transaction: on PostgreSQL it travels with the next
        statement of the transaction (or just before its commit) in the same round trip. Only for writes
        whose outcome the caller does not read (no rows, no row count); an error it meets surfaces at that
        next statement or the commit, within the same transaction. Elsewhere (SQLite) it runs at once."""
        params = params or {}
        connection = _connection(session)
        if connection.dialect.driver != "psycopg2":
            self.run(connection, params)
            return
        compiled = self._for(connection.dialect, params)
        _deferred(connection).append((compiled.sql, _bound(compiled, params)))

    def defer_many(self, session: Session | Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """`defer` for many parameter sets (see there)."""
        if not rows:
            return
        connection = _connection(session)
        if connection.dialect.driver != "psycopg2":
            self.run_many(connection, rows)
            return
        compiled = self._for(connection.dialect, rows[0])
        _deferred(connection).extend((compiled.sql, _bound(compiled, row)) for row in rows)

    def _for(self, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled:
        # A bare INSERT given column values renders only those columns, as Core's own execution does
        # (an INSERT with its own VALUES or SELECT takes bind parameters instead).
        columns = tuple(params) if params and self._columns.issuperset(params) else ()
        key = (dialect.name, columns)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = _compile(self.statement, dialect, columns)
        return compiled


def _executed(connection: Connection, sql: str, values: Any, many: bool = False) -> Any:
    """A driver cursor that ran `sql` (the caller closes it); driver errors come out as SQLAlchemy's."""
    if connection.engine.echo:
        # CONCORD_SQL_ECHO shows these too, on SQLAlchemy's own logger, beside the statements it runs.
        _echo.info("[prepared] %s %r", sql, values)
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        pending = connection.__dict__.pop(_DEFERRED, None)
        if pending or (many and connection.dialect.driver == "psycopg2"):
            # psycopg2's executemany sends one statement per round trip; joined, they travel in one (the
            # deferred writes first, in their order; the rows and row count are the last statement's).
            texts = [cursor.mogrify(text, bound) for text, bound in pending or ()]
            texts += [cursor.mogrify(sql, row) for row in values] if many else [cursor.mogrify(sql, values)]
            for start in range(0, len(texts), _BATCH):
                cursor.execute(b";".join(texts[start:start + _BATCH]))
        elif many:
            cursor.executemany(sql, values)
        else:
            cursor.execute(sql, values)
    except connection.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        # As SQLAlchemy's own execution does: a connection the error shows lost is invalidated (the pool
        # never hands it out again) and the error says so (app.database may run the request again).
        lost = connection.dialect.is_disconnect(exc, connection.connection.dbapi_connection, cursor)
        if lost:
            connection.invalidate(exc)
        raise _wrapped(connection.dialect, sql, values, exc, many, lost) from exc
    except BaseException:
        cursor.close()
        raise
    return cursor


_BATCH = 500  # statements a round trip at most
_DEFERRED = "_concord_deferred"  # on the Connection: (sql, parameters) of writes not sent yet


def _deferred(connection: Connection) -> list[tuple[str, Any]]:
    if connection.engine.echo:
        _echo.info("[prepared] (deferred)")
    pending: list[tuple[str, Any]] = connection.__dict__.setdefault(_DEFERRED, [])
    return pending


def _send_deferred(connection: Connection, cursor: Any = None) -> None:
    """Send the writes deferred on `connection`, before anything else reaches the server through it."""
    pending = connection.__dict__.pop(_DEFERRED, None)
    if not pending:
        return
    own = cursor is None
    if own:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        texts = [cursor.mogrify(text, bound) for text, bound in pending]
        for start in range(0, len(texts), _BATCH):
            cursor.execute(b";".join(texts[start:start + _BATCH]))
    except connection.dialect.loaded_dbapi.Error as exc:
        lost = connection.dialect.is_disconnect(exc, connection.connection.dbapi_connection, cursor)
        if lost:
            connection.invalidate(exc)
        raise _wrapped(connection.dialect, "(deferred writes)", None, exc, True, lost) from exc
    finally:
        if own:
            cursor.close()


# Whatever else runs on a connection (a Core or ORM statement, a savepoint, the commit) sends its deferred
# writes first, so that every statement sees them and the commit includes them; a rollback drops them.
@event.listens_for(Engine, "before_cursor_execute")
def _before_statement(conn: Connection, cursor: Any, *_args: Any) -> None:
    if _DEFERRED in conn.__dict__:
        _send_deferred(conn, cursor)


@event.listens_for(Engine, "commit")
def _before_commit(conn: Connection) -> None:
    if _DEFERRED in conn.__dict__:
        _send_deferred(conn)


@event.listens_for(Engine, "rollback")
def _on_rollback(conn: Connection) -> None:
    conn.__dict__.pop(_DEFERRED, None)


def _connection(session: Session | Connection) -> Connection:
    connection = session.connection() if isinstance(session, Session) else session
    if not connection.in_transaction():
        # The driver would otherwise autocommit: the hot path only ever runs inside a transaction.
        raise RuntimeError("prepared statements run inside the caller's transaction")
    return connection


def _compile(statement: ClauseElement, dialect: Dialect, columns: tuple[str, ...]) -> _Compiled:
    defaults = _insert_defaults(statement, columns) if columns else {}
    keys = [*columns, *defaults]
    compiled = statement.compile(dialect=dialect, column_keys=keys or None)
    assert isinstance(compiled, SQLCompiler)
    if compiled.implicit_returning:
        # PostgreSQL would return the new primary key nobody asked for (Core fetches it for the ORM).
        compiled = statement.compile(dialect=dialect, column_keys=keys or None, for_executemany=True)
        assert isinstance(compiled, SQLCompiler)
    bind_names = compiled.bind_names  # each bind parameter -> its name in the SQL text
    if any(bind.expanding for bind in bind_names):
        raise ValueError("expanding IN parameters are not supported by Prepared statements")
    positional = bool(compiled.positional)
    names = tuple(compiled.positiontup or ()) if positional else tuple(dict.fromkeys(bind_names.values()))
    binders: dict[str, Processor] = {}
    for bind, name in bind_names.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            binders[name] = processor
    fixed = {name: bind.effective_value for bind, name in bind_names.items() if not bind.required}
    fixed.update(defaults)
    returns_rows = getattr(statement, "is_select", False) or bool(compiled.effective_returning)
    returned = list(getattr(statement, "exported_columns", ())) if returns_rows else []
    row_type = namedtuple("Row", [column.key for column in returned], rename=True) if returned else None
    return _Compiled(compiled.string, names, positional, fixed, binders, row_type, returned)


def _insert_defaults(statement: ClauseElement, columns: tuple[str, ...]) -> dict[str, Any]:
    """The scalar Python-side defaults of the columns an INSERT is not given. Core supplies them while
    executing, not in the compiled statement, so the driver path binds them itself."""
    defaults = {}
    for column in statement.table.columns:  # type: ignore[attr-defined]
        if column.key in columns or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"give {column.key} explicitly: its default is computed")
        defaults[column.key] = column.default.arg
    return defaults


def _bound(compiled: _Compiled, params: Mapping[str, Any]) -> Any:
    plan = compiled.plan
    values = plan.fetch(params)
    for n, name, value in plan.spliced:  # in ascending positions: each lands where the SQL expects it
        values.insert(n, params[name] if name in params else value)
    for n, processor in plan.processed:
        values[n] = processor(values[n])
    return tuple(values) if compiled.positional else dict(zip(compiled.names, values, strict=True))


def _read(compiled: _Compiled, cursor: Any, dialect: Dialect) -> list[Any]:
    if compiled.readers is None:
        # Some result processors depend on the type the driver reports (PostgreSQL numerics).
        processors = [column.type.dialect_impl(dialect).result_processor(dialect, description[1])
                      for column, description in zip(compiled.returned, cursor.description, strict=True)]
        compiled.readers = tuple((n, reader) for n, reader in enumerate(processors) if reader is not None)
    readers, make, raw = compiled.readers, compiled.row_type._make, cursor.fetchall()
    if not readers:
        return [make(row) for row in raw]
    rows = []
    for row in raw:
        values = list(row)
        for n, reader in readers:  # only the few columns that need converting
            value = values[n]
            if value is not None:
                values[n] = reader(value)
        rows.append(make(values))
    return rows


def _wrapped(dialect: Dialect, sql: str, params: Any, exc: Exception, many: bool = False,
             lost: bool = False) -> Exception:
    return DBAPIError.instance(sql, params, exc, dialect.loaded_dbapi.Error, dialect=dialect, ismulti=many,
                               connection_invalidated=lost)
