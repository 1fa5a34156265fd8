"""Working-day arithmetic in the centre's calendar: time limits count working days, skipping weekends
and public holidays, and counting official make-up working days (调休) as working days.

Pure domain code: no database, no engine. A year without calendar data counts weekends only and
every result that touched such a year is marked provisional, so it can be recomputed once the year's
calendar is imported.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

_DURATION = re.compile(r"^P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?)?$")
_MONTHS = re.compile(r"^P(?P<months>\d+)M$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DAY = timedelta(days=1)
_DAY_SECONDS = 86400.0


# No statutory limit in the roadmap comes near ten years; a longer one is a typing error, and counting
# it working day by working day would run past the calendar years Concord knows.
MAX_LIMIT_DAYS = 3660


class LimitError(ValueError):
    """A time limit that is not an ISO 8601 duration (or a deadline date) this calendar can count."""


@dataclass(frozen=True)
class YearCalendar:
    year: int
    holidays: frozenset[date]
    make_up_workdays: frozenset[date]
    source: str = ""


@dataclass(frozen=True)
class Due:
    at: datetime  # aware, UTC
    provisional: bool  # a year without calendar data was counted with weekends only


@dataclass(frozen=True)
class Limit:
    """A parsed time limit: whole days/hours, calendar months (statutory limits such as 3 months), or a
    deadline date (`until`: an instruction due on a given day, whatever day the task opens)."""

    days: int = 0
    seconds: int = 0
    months: int = 0
    until: date | None = None

    @staticmethod
    def is_months(text: str) -> bool:
        return bool(_MONTHS.match((text or "").strip().upper()))

    @staticmethod
    def parse(text: str) -> Limit:
        return _parsed_limit(text)


@lru_cache(maxsize=256)
def _parsed_limit(text: str) -> Limit:
    """Limits come from a diagram's few time-limit expressions: each text is parsed once (a Limit is frozen)."""
    text = (text or "").strip().upper()
    if _DATE.match(text):
        try:
            return Limit(until=date.fromisoformat(text))
        except ValueError:
            raise LimitError(f"{text!r} is not a date such as 2026-12-31") from None
    months = _MONTHS.match(text)
    if months:
        if int(months["months"]) > MAX_LIMIT_DAYS // 30:
            raise LimitError(f"{text!r} is longer than the longest limit counted ({MAX_LIMIT_DAYS // 30} months)")
        return Limit(months=int(months["months"]))
    match = _DURATION.match(text)
    if not match or text in ("P", "PT") or not any(match.groupdict().values()):
        raise LimitError(f"{text!r} is not an ISO 8601 duration such as P7D, PT4H or P3M, nor a date such as "
                         "2026-12-31")
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    limit = Limit(days=parts["weeks"] * 7 + parts["days"], seconds=parts["hours"] * 3600 + parts["minutes"] * 60)
    if limit.days + limit.seconds // 86400 > MAX_LIMIT_DAYS:
        raise LimitError(f"{text!r} is longer than the longest limit counted ({MAX_LIMIT_DAYS} days)")
    return limit


class WorkCalendar:
    def __init__(self, years: dict[int, YearCalendar], zone: str | ZoneInfo) -> None:
        self.years = dict(years)
        self.zone = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
        # Answers per day: the walks below ask about each day of a limit several times for every task
        # a case step opens. A calendar is never changed in place (an import builds a new one).
        self._working: dict[date, bool] = {}

    def knows(self, year: int) -> bool:
        return year in self.years

    def is_working_day(self, day: date) -> bool:
        answer = self._working.get(day)
        if answer is None:
            answer = self._working[day] = self._is_working_day(day)
        return answer

    def _is_working_day(self, day: date) -> bool:
        known = self.years.get(day.year)
        if known is not None:
            if day in known.make_up_workdays:
                return True
            if day in known.holidays:
                return False
        return day.weekday() < 5

    def add(self, start: datetime, limit: str | Limit, *, working: bool = True) -> Due:
        """The due instant of `limit` counted from `start`.

        Days: the limit ends at the end (24:00) of the N-th (working) day after the start day — the
        day of registration is not counted, as in administrative time limits. Hours: elapsed hours,
        counting only the hours of working days when `working`. Months: calendar months, end of day.
        A deadline date: the end of that day — or of the start day, when the deadline has passed already
        (a report returned after the deadline is due the same day, and late)."""
        limit = limit if isinstance(limit, Limit) else Limit.parse(limit)
        local = start.astimezone(self.zone)
        provisional = False
        if limit.until is not None:
            end_day = max(limit.until, local.date())
            if (end_day - local.date()).days > MAX_LIMIT_DAYS:
                raise LimitError(f"{limit.until.isoformat()} is further away than the longest limit counted "
                                 f"({MAX_LIMIT_DAYS} days)")
            return Due(self._end_of(end_day), working and not all(
                self.knows(year) for year in range(local.year, end_day.year + 1)))
        if limit.months:
            if working:
                raise LimitError("month limits are calendar limits; use days for working-day limits")
            end_day = _add_months(local.date(), limit.months)
            provisional = not self.knows(end_day.year)
            return Due(self._end_of(end_day), provisional)
        day = local.date()
        if limit.days:
            remaining = limit.days
            while remaining:
                day += DAY
                provisional |= working and not self.knows(day.year)
                if not working or self.is_working_day(day):
                    remaining -= 1
            at = self._end_of(day)
            if limit.seconds:
                due = self._add_seconds(at, limit.seconds, working)
                return Due(due.at, provisional or due.provisional)
            return Due(at, provisional)
        return self._add_seconds(start, limit.seconds, working)

    def point_between(self, start: datetime, due: datetime, fraction: float, *, working: bool = True) -> datetime:
        """The instant at which `fraction` of the time from `start` to `due` has been used, counting only
        working-day time when `working` (80% of a 7-working-day limit does not fall on a Sunday)."""
        return self.points_between(start, due, (fraction,), working=working)[0]

    def points_between(self, start: datetime, due: datetime, fractions: tuple[float, ...], *,
                       working: bool = True) -> list[datetime]:
        """point_between for several fractions, counting the time from `start` to `due` once."""
        if not working:
            return [start + (due - start) * fraction for fraction in fractions]
        total = self._working_seconds(start, due)
        return [self._add_seconds(start, int(total * fraction), True).at for fraction in fractions]

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """The working-day time from `start` to `end` (0 when `end` is not later): what "time left" counts,
        and a suspension's working time."""
        return self._working_seconds(start, end)

    def later_by(self, instant: datetime, seconds: float, *, working: bool = True) -> datetime:
        """`instant` moved later by `seconds` of working-day time (of any time when not `working`)."""
        return self._add_seconds(instant, int(round(seconds)), working).at if seconds > 0 else instant

    def _end_of(self, day: date) -> datetime:
        return datetime.combine(day + DAY, time(0), self.zone).astimezone(ZoneInfo("UTC"))

    # Both walks go a day at a time. Differences of two times in the centre's zone are wall-clock
    # differences (Python ignores the offset when both share the zone), so every whole day counts
    # 86400 seconds and only the first and the last day need clock arithmetic.
    def _add_seconds(self, start: datetime, seconds: int, working: bool) -> Due:
        if not working:
            return Due(start + timedelta(seconds=seconds), False)
        local, left = start.astimezone(self.zone), float(seconds)
        day = local.date()
        provisional = day.year not in self.years
        if self.is_working_day(day):
            room = (datetime.combine(day + DAY, time(0), self.zone) - local).total_seconds()
            if left <= room:
                return Due((local + timedelta(seconds=left)).astimezone(ZoneInfo("UTC")), provisional)
            left -= room
        while True:
            day += DAY
            provisional |= day.year not in self.years
            if self.is_working_day(day):
                if left <= _DAY_SECONDS:
                    midnight = datetime.combine(day, time(0), self.zone)
                    return Due((midnight + timedelta(seconds=left)).astimezone(ZoneInfo("UTC")), provisional)
                left -= _DAY_SECONDS

    def _working_seconds(self, start: datetime, end: datetime) -> float:
        local, end_local = start.astimezone(self.zone), end.astimezone(self.zone)
        if local >= end_local:
            return 0.0
        day, last = local.date(), end_local.date()
        if day == last:
            return (end_local - local).total_seconds() if self.is_working_day(day) else 0.0
        total = 0.0
        if self.is_working_day(day):
            total += (datetime.combine(day + DAY, time(0), self.zone) - local).total_seconds()
        day += DAY
        while day < last:
            if self.is_working_day(day):
                total += _DAY_SECONDS
            day += DAY
        if self.is_working_day(last):
            total += (end_local - datetime.combine(last, time(0), self.zone)).total_seconds()
        return total


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):  # the same day of the month, or the month's last day
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise AssertionError("unreachable")


class CalendarFileError(ValueError):
    """A calendar file that cannot be imported; names the line (1-based) when it can."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _date(text: str, raw: object, where: str) -> date:
    if not isinstance(raw, str):
        raise CalendarFileError(f"{where}: dates are written as YYYY-MM-DD text", _line_of(text, where))
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CalendarFileError(f"{where}: {raw!r} is not a valid date", _line_of(text, f'"{raw}"')) from None


def parse_year_file(text: str) -> YearCalendar:
    """Parse and check one year's arrangements (the format of shared/data/calendar): every date valid and
    inside the year, holiday ranges in order and not overlapping, make-up days outside the holidays,
    no unknown keys. Nothing is partially accepted."""
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CalendarFileError(f"not valid JSON: {exc.msg}", exc.lineno) from None
    if not isinstance(data, dict):
        raise CalendarFileError("the file must contain one JSON object", 1)
    unknown = set(data) - {"year", "source", "holidays", "make_up_workdays", "notes"}
    if unknown:
        key = sorted(unknown)[0]
        raise CalendarFileError(f"unknown entry {key!r}", _line_of(text, f'"{key}"'))
    year = data.get("year")
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise CalendarFileError("'year' must be a year such as 2027", _line_of(text, '"year"'))
    holidays: set[date] = set()
    spans: list[tuple[date, date, str]] = []
    for item in data.get("holidays", []):
        allowed = {"name", "from", "to"}
        if not isinstance(item, dict) or set(item) - allowed:
            extra = sorted(set(item) - allowed)[0] if isinstance(item, dict) else str(item)
            raise CalendarFileError(f"unknown holiday entry {extra!r}", _line_of(text, f'"{extra}"'))
        name = str(item.get("name", "?"))
        first, last = _date(text, item.get("from"), name), _date(text, item.get("to"), name)
        if last < first or first.year != year or last.year != year:
            raise CalendarFileError(f"{name}: {first}..{last} is not a range inside {year}",
                                    _line_of(text, f'"{item.get("to")}"'))
        for other_first, other_last, other in spans:
            if first <= other_last and other_first <= last:
                raise CalendarFileError(f"{name} overlaps {other}", _line_of(text, f'"{item.get("from")}"'))
        spans.append((first, last, name))
        holidays.update(first + DAY * i for i in range((last - first).days + 1))
    workdays: set[date] = set()
    for item in data.get("make_up_workdays", []):
        if not isinstance(item, dict) or set(item) - {"name", "date"}:
            raise CalendarFileError(f"unknown make-up day entry {item!r}", None)
        name = str(item.get("name", "?"))
        day = _date(text, item.get("date"), name)
        if day.year != year or day in holidays or day in workdays:
            raise CalendarFileError(f"{name}: {day} is outside {year}, inside a holiday or listed twice",
                                    _line_of(text, f'"{item.get("date")}"'))
        workdays.add(day)
    return YearCalendar(year, frozenset(holidays), frozenset(workdays), str(data.get("source", "")))
