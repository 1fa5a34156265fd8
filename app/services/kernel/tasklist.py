"""Pages of open tasks with their cases' facts: the inbox (inbox) and the escalation board (escalation).

Every list is in one order — due (tasks without a due instant last), created, id — which partial
indexes of the open tasks hold (app.models.tasks, revision 0013_inbox_scale). A list over several
groups reads each group's index range and merges them, so that no page sorts more than a page per
group; a search reads its two alternatives (the case's number, work order or title; a party) apart and
merges them likewise. Totals count at most keyset.TOTAL_LIMIT + 1 rows, and a search's none beyond its page."""
from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.util import ClauseAdapter, find_tables

from app import clock
from app.errors import Bilingual, FieldError, ValidationFailed
from app.models import Case, Party, TaskRow, table_of
from app.models.base import UTCDateTime
from app.models.tasks import due_order, task_is_late, task_is_open
from app.services.kernel import keyset, policy
from app.services.kernel.paging import clamp
from app.services.kernel.principals import Principal

_T, _C, _P = table_of(TaskRow), table_of(Case), table_of(Party)
# The case's facts on every item (the task's own title stays `title`).
CASE_FACTS = (_C.c.title.label("case_title"), _C.c.category, _C.c.urgency, _C.c.source, _C.c.external_id)
_COLUMNS = (*_T.c, *CASE_FACTS)
MAX_BRANCHES = 40  # more groups than this: one index range filtered by group instead of one range each


@dataclass(frozen=True)
class Scope:
    """Which open tasks a list holds: those whose `column` is one of `values` (each value's range is
    read in order and merged), or every open task when `values` is None."""
    column: str | None = None
    values: tuple[str, ...] | None = None
    late: bool = False  # the board: escalation level 1 or above only


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    category: str | None = None
    level: int | None = None  # exactly this escalation level
    min_level: int | None = None  # this level or above
    due_before: datetime | None = None
    overdue: bool | None = None
    case_no: str | None = None
    name: str | None = None
    case_type: str | None = None
    extra: tuple[ColumnElement[bool], ...] = field(default=())


_RFC3339_EXTRAS = re.compile(r"(:60)?(\.\d{7,})?(?=Z|[+-]\d\d:\d\d$|$)")


def _python_iso(match: re.Match[str]) -> str:
    leap, fraction = match.groups()
    return (":59" if leap else "") + (fraction[:7] if fraction else "")


def parse_due_before(raw: str | None) -> datetime | None:
    """`due_before` as given: an instant with its offset, or a day (before the start of that day in the
    centre's time zone); the years 2000 to 2100."""
    if raw is None or raw == "":
        return None
    try:
        if len(raw) == 10:
            moment = datetime.combine(date.fromisoformat(raw), time(), clock.zone())
        else:  # RFC 3339 as well: fractions finer than microseconds, a leap second
            moment = datetime.fromisoformat(_RFC3339_EXTRAS.sub(_python_iso, raw.upper()))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=clock.zone())
        if not 2000 <= moment.year <= 2100:
            raise ValueError(raw)
        return moment.astimezone(timezone.utc)
    except (ValueError, OverflowError) as exc:
        raise ValidationFailed("due_before must be a date (2026-12-01) or an instant (2026-12-01T18:00:00+08:00) "
                               "of the years 2000 to 2100",
                               [FieldError("due_before", Bilingual("日期或时间格式不正确", "not a date or an instant"))]
                               ) from exc


def parse_q(raw: str | None) -> str | None:
    return (raw or "").strip() or None


def page_of(session: Session, principal: Principal, scope: Scope, filters: Filters, *, cursor: str | None,
            page: int, per_page: int, render: Callable[[Any], Any]) -> keyset.CursorPage:
    page, per_page = clamp(page, per_page)
    at = _cursor(cursor) if cursor else None
    conditions = _conditions(scope, filters)
    alternatives, walks = _search(session, principal, filters.q) if filters.q else ([[]], False)
    backwards = at is not None and at.direction == keyset.BEFORE
    offset = 0 if at else (page - 1) * per_page
    # A search that tests titles as it reads the list reads at most WALK tasks of it a request: the page
    # ends there, and its cursor goes on from there (fewer items, even none, but nothing skipped).
    edge = session.execute(_edge(scope, conditions, at, offset + WALK - 1)).first() if walks else None
    within = conditions
    if edge is not None:
        mark, key = _mark(_key(edge)), tuple_(*_sort_key(_T))
        within = [*conditions, key >= mark if backwards else key <= mark]
    read = session.execute(_ordered(scope, within, alternatives, at, per_page + 1, offset,
                                    walk=offset + WALK if walks else 0)).all()
    more = len(read) > per_page
    rows = list(reversed(read[:per_page])) if backwards else list(read[:per_page])
    cut = edge is not None and not more  # the walk ended before the page was full
    has_next = (not backwards and (more or cut)) or (backwards and bool(rows))
    has_prev = (backwards and (more or cut)) or (not backwards and bool(rows) and (at is not None or page > 1))
    if at is None and not more and not cut:
        total, exact = keyset.total_of(offset + len(rows))  # the list ends on this page
    elif filters.q:
        # A search counts no further than the page it read: "more than" what it has shown so far.
        total, exact = min(offset + len(rows), keyset.TOTAL_LIMIT), False
    else:
        total, exact = keyset.total_of(session.scalar(_count(conditions, scope, bool(filters.category))) or 0)
    last = _key(edge) if cut and not backwards and edge is not None else _key(rows[-1]) if rows else None
    first = _key(edge) if cut and backwards and edge is not None else _key(rows[0]) if rows else None
    return {"items": [render(row) for row in rows], "total": total, "total_is_exact": exact,
            "page": None if at else page, "per_page": per_page,
            "next_cursor": keyset.encode(last, keyset.AFTER) if has_next and last else None,
            "prev_cursor": keyset.encode(first, keyset.BEFORE) if has_prev and first else None}


def _edge(scope: Scope, conditions: list[ColumnElement[bool]], at: keyset.Cursor | None, offset: int) -> Any:
    """The key of the task `offset` tasks into the list as a search reads it: by the tasks' own conditions
    (those on the case are tested on what it read)."""
    on_tasks = [c for c in conditions if _C not in find_tables(c, check_columns=True)]
    page = _ordered(scope, on_tasks, [[]], at, 1, offset, walk=offset + 1, facts=False).subquery()
    return select(page.c.due_at, page.c.created_at, page.c.id)


def _mark(key: tuple[Any, ...]) -> Any:
    return tuple_(due_order(_bound(key[0])), _bound(key[1]), _bound(key[2], _T.c.id))


def _key(row: Any) -> tuple[Any, ...]:
    return (row.due_at, row.created_at, row.id)


def _sort_key(table: Any) -> tuple[Any, ...]:
    return (due_order(table.c.due_at), table.c.created_at, table.c.id)


def _ordered(scope: Scope, conditions: list[ColumnElement[bool]], alternatives: list[list[ColumnElement[bool]]],
             at: keyset.Cursor | None, limit: int, offset: int, walk: int = 0, facts: bool = True) -> Select[Any]:
    """The page: the rows of each group's range (or of the one range) that meet `conditions` and one of the
    `alternatives`, each range read in order and cut at what the page can use, then merged. `walk`: read
    the first `walk` tasks of each range first and test the cases' conditions on those only (left to
    itself, PostgreSQL would rather read every case for a condition no index answers)."""
    backwards = at is not None and at.direction == keyset.BEFORE
    if at is not None:
        mark, key = _mark(at.key), tuple_(*_sort_key(_T))
        conditions = [*conditions, key < mark if backwards else key > mark]

    def order(table: Any) -> list[Any]:
        return [column.desc() if backwards else column for column in _sort_key(table)]

    def branch(*more: ColumnElement[bool]) -> Select[Any]:
        if not walk:
            return (select(*_COLUMNS).select_from(_T.join(_C, _C.c.id == _T.c.case_id)).where(*conditions, *more)
                    .order_by(*order(_T)))
        on_tasks = [c for c in (*conditions, *more) if _C not in find_tables(c, check_columns=True)]
        on_cases = [c for c in (*conditions, *more) if _C in find_tables(c, check_columns=True)]
        stretch = select(_T).where(*on_tasks).order_by(*order(_T)).limit(walk).subquery()
        adapt = ClauseAdapter(stretch).traverse
        if not on_cases and not facts:
            return select(*stretch.c).order_by(*order(stretch))
        return (select(*stretch.c, *CASE_FACTS).select_from(stretch.join(_C, _C.c.id == stretch.c.case_id))
                .where(*(adapt(c) for c in on_cases)).order_by(*order(stretch)))

    values = scope.values
    if scope.column is None or values is None or len(values) > MAX_BRANCHES:
        ranges: list[list[ColumnElement[bool]]] = [[]]
    elif not values:
        return branch(false()).limit(limit)
    else:
        ranges = [[_T.c[scope.column] == value] for value in values]
    branches = [[*within, *alternative] for within in ranges for alternative in alternatives]
    if len(branches) == 1:
        return branch(*branches[0]).limit(limit).offset(offset)
    # SQLite wants each ordered member of a UNION wrapped in a SELECT of its own. (UNION, not UNION ALL,
    # when a task may meet more than one alternative.)
    parts = [select(*part.c).select_from(part) for part in (
        branch(*more).limit(limit + offset).subquery() for more in branches)]
    merged = (union(*parts) if len(alternatives) > 1 else union_all(*parts)).subquery()
    return select(merged).order_by(*order(merged)).limit(limit).offset(offset)


def _bound(value: Any, column: Any = None) -> Any:
    """A bound value typed as `column` (the due and created instants by default)."""
    return bindparam(None, value, type_=UTCDateTime() if column is None else column.type)


def _cursor(text: str) -> keyset.Cursor:
    at = keyset.decode(text, 3)
    due, created, task_id = at.key
    if not (due is None or isinstance(due, datetime)) or not isinstance(created, datetime) \
            or not isinstance(task_id, str):
        raise keyset.invalid()
    return at


def _count(conditions: list[ColumnElement[bool]], scope: Scope, by_case: bool) -> Select[Any]:
    within = [] if scope.column is None or scope.values is None else [_T.c[scope.column].in_(scope.values)]
    # (the join only when a condition reads the case: PostgreSQL keeps an inner join it could do without)
    source = _T.join(_C, _C.c.id == _T.c.case_id) if by_case else _T
    counted = (select(literal_column("1")).select_from(source).where(*conditions, *within)
               .limit(keyset.TOTAL_LIMIT + 1).subquery())
    return select(func.count()).select_from(counted)


def _conditions(scope: Scope, filters: Filters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [task_is_open(), *filters.extra]
    level = filters.level
    if scope.late or (level or 0) >= 1 or (filters.min_level or 0) >= 1:
        conditions.append(task_is_late())  # (the late tasks' own indexes)
    if level is not None:
        conditions.append(_T.c.escalation_level == level)
    if filters.min_level is not None and filters.min_level > 1:
        conditions.append(_T.c.escalation_level >= filters.min_level)
    if filters.due_before is not None:
        conditions.append(due_order(_T.c.due_at) < due_order(_bound(filters.due_before)))
    if filters.overdue is not None:
        late = _T.c.due_at < clock.now()
        conditions.append(late if filters.overdue else (_T.c.due_at.is_(None) | ~late))
    if filters.case_no:
        conditions.append(_T.c.case_no == filters.case_no)
    if filters.name:
        conditions.append(_T.c.bpmn_id == filters.name)
    if filters.case_type:
        conditions.append(_T.c.case_type == filters.case_type)
    if filters.category:
        conditions.append(_C.c.category == filters.category)
    return conditions


# A search first asks the cases' indexes for at most this many matches: fewer, and the list reads just
# their tasks; more (a common fragment), and the list is read in order, each case's number, work order and
# title tested as it comes, until the page is full.
FEW_CASES = 2000
WALK = 5000


def _search(session: Session, principal: Principal, q: str) -> tuple[list[list[ColumnElement[bool]]], bool]:
    """What `q` finds, as alternatives read apart and merged: the case by number or work-order number (exact
    or a prefix) or by a fragment of its title; and — only for cases whose personal data the caller may see —
    a party's name or phone (exact). True when titles are tested as the list is read (the walk is bounded)."""
    dialect = session.get_bind().dialect.name
    literal = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    fragment = f"%{literal}%"
    numbers = or_(_prefix(_C.c.case_no, q, literal, dialect), _prefix(_C.c.external_id, q, literal, dialect))
    # A trigram index (PostgreSQL with pg_trgm) finds a fragment of three characters or more; a shorter one
    # has no trigram, and the index would hand back every case.
    by_trigram = len(q) >= 3 and _has_title_trigrams(session)
    probe = or_(numbers, _C.c.title.like(fragment, escape="\\")) if by_trigram else numbers
    found = session.scalars(select(_C.c.id).where(probe).limit(FEW_CASES + 1)).all()
    # (`title || ''`: the same test, which no index answers: PostgreSQL must not read the trigram index for it)
    walked_title = (_C.c.title + "").like(fragment, escape="\\")
    if len(found) > FEW_CASES:
        by_case = [or_(numbers, walked_title)]
    elif by_trigram:
        by_case = [_T.c.case_id.in_(found)]
    else:
        by_case = [or_(_T.c.case_id.in_(found), walked_title)] if found else [walked_title]
    parties = select(_P.c.case_id).where(or_(_P.c.name == q, _P.c.phone == q),
                                         policy.personal_data_visible(principal, _P.c.case_id))
    return [by_case, [_T.c.case_id.in_(parties)]], not by_trigram or len(found) > FEW_CASES


_TRIGRAMS: dict[str, bool] = {}


def _has_title_trigrams(session: Session) -> bool:
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    key = str(bind.engine.url)
    if key not in _TRIGRAMS:
        _TRIGRAMS[key] = bool(session.scalar(text("SELECT 1 FROM pg_indexes WHERE indexname = 'ix_cases_title_trgm'")))
    return _TRIGRAMS[key]


def _prefix(column: Any, q: str, literal: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":  # a varchar_pattern_ops index reads LIKE 'prefix%'
        return column.like(f"{literal}%", escape="\\")
    # SQLite compares texts bytewise: the prefix's range of the plain index
    return and_(column >= q, column < q + "\U0010ffff")


def groups_scope(groups: Collection[str] | None, *, late: bool = False) -> Scope:
    return Scope("group_name", None if groups is None else tuple(sorted(groups)), late)
