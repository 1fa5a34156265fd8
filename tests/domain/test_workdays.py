"""Working-day arithmetic across holidays, make-up days, year ends and time zones."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.workdays import CalendarFileError, Limit, LimitError, WorkCalendar, parse_year_file

SHIPPED = Path(__file__).resolve().parents[2] / "app" / "calendars"
SH = ZoneInfo("Asia/Shanghai")
CAL = WorkCalendar({y: parse_year_file((SHIPPED / f"{y}.json").read_text(encoding="utf-8")) for y in (2025, 2026)},
                   SH)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def test_national_day_2025_is_off_and_its_make_up_days_are_worked() -> None:
    assert not any(CAL.is_working_day(date(2025, 10, d)) for d in range(1, 9))
    assert CAL.is_working_day(date(2025, 9, 28))  # Sunday, worked
    assert CAL.is_working_day(date(2025, 10, 11))  # Saturday, worked
    assert not CAL.is_working_day(date(2025, 10, 12))


def test_one_working_day_from_the_eve_of_national_day_skips_the_holiday() -> None:
    # Registered Tuesday 30 September 2025: the next working day is Thursday 9 October.
    due = CAL.add(at(2025, 9, 30, 10, 0), "P1D")
    assert due.at == at(2025, 10, 10, 0, 0) and not due.provisional


def test_make_up_saturday_counts() -> None:
    # Friday 10 October 2025 + 1 working day = Saturday 11 October (调休上班).
    assert CAL.add(at(2025, 10, 10, 9), "P1D").at == at(2025, 10, 12)


def test_seven_working_days_skip_weekends() -> None:
    # Tuesday 1 December 2026 + 7 working days = Thursday 10 December, end of day.
    assert CAL.add(at(2026, 12, 1, 9, 30), "P7D").at == at(2026, 12, 11)


def test_calendar_days_ignore_weekends_and_holidays() -> None:
    assert CAL.add(at(2025, 9, 30, 10), "P15D", working=False).at == at(2025, 10, 16)


def test_working_hours_skip_the_weekend() -> None:
    # Friday 5 December 2026 20:00 + 8 working hours: 4 on Friday, then Monday 04:00.
    assert CAL.add(at(2026, 12, 4, 20), "PT8H").at == at(2026, 12, 7, 4)


def test_a_year_without_data_counts_weekends_only_and_is_provisional() -> None:
    due = CAL.add(at(2026, 12, 30, 9), "P3D")  # Wed 30 Dec 2026 -> Thu 31, Fri 1 Jan 2027, Mon 4 Jan
    assert due.at == at(2027, 1, 5) and due.provisional
    assert not CAL.add(at(2026, 12, 1, 9), "P3D").provisional


def test_spring_festival_2026_across_the_make_up_saturday() -> None:
    # Friday 13 Feb 2026 + 1 working day = Saturday 14 February (春节调休); + 2 = Tuesday 24 February.
    assert CAL.add(at(2026, 2, 13, 9), "P1D").at == at(2026, 2, 15)
    assert CAL.add(at(2026, 2, 13, 9), "P2D").at == at(2026, 2, 25)


def test_time_zone_of_the_start_instant_does_not_change_the_day_counted() -> None:
    utc_start = datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)  # 09:30 in Shanghai
    assert CAL.add(utc_start, "P1D").at == CAL.add(at(2026, 12, 1, 9, 30), "P1D").at


def test_months_are_calendar_months() -> None:
    assert CAL.add(at(2026, 1, 31, 9), "P3M", working=False).at == at(2026, 5, 1)
    with pytest.raises(LimitError):
        CAL.add(at(2026, 1, 31, 9), "P3M")


def test_fraction_points_count_working_time_only() -> None:
    start = at(2026, 12, 4, 9)  # Friday
    due = CAL.add(start, "P2D").at  # end of Tuesday 8 December
    warning = CAL.point_between(start, due, 0.8)
    assert at(2026, 12, 8) <= warning < due  # lands on Tuesday, not on the weekend


def _working_seconds_by_the_minute(start: datetime, end: datetime) -> int:
    """An independent count: every minute from start to end that falls on a working day."""
    minutes, moment = 0, start.astimezone(SH)
    while moment < end:
        minutes += CAL.is_working_day(moment.date())
        moment += timedelta(minutes=1)
    return minutes * 60


@pytest.mark.parametrize(("start", "limit"), [
    (at(2025, 9, 29, 15, 17), "P7D"), (at(2025, 12, 30, 8, 5), "P3D"), (at(2026, 2, 13, 23, 40), "P5D"),
    (at(2025, 10, 11, 6, 0), "PT30H"), (at(2026, 5, 1, 12, 0), "P2DT4H")])
def test_escalation_points_use_their_share_of_the_working_time(start: datetime, limit: str) -> None:
    due = CAL.add(start, limit).at
    total = _working_seconds_by_the_minute(start, due)
    warning, listed = CAL.points_between(start, due, (0.8, 1.5))
    assert warning == CAL.point_between(start, due, 0.8) and listed == CAL.point_between(start, due, 1.5)
    assert abs(_working_seconds_by_the_minute(start, warning) - 0.8 * total) <= 60
    assert abs(_working_seconds_by_the_minute(start, listed) - 1.5 * total) <= 60
    assert CAL.is_working_day((listed - timedelta(seconds=1)).astimezone(SH).date())


@pytest.mark.parametrize("text", ["7D", "P", "PT", "P1Y", "P-1D", "", "P1.5D"])
def test_limits_that_are_not_iso_durations_are_refused(text: str) -> None:
    with pytest.raises(LimitError):
        Limit.parse(text)


def test_calendar_file_errors_name_the_line() -> None:
    good = (SHIPPED / "2026.json").read_text(encoding="utf-8")
    with pytest.raises(CalendarFileError) as caught:
        parse_year_file(good.replace('"2026-02-23"', '"2026-02-30"'))
    assert caught.value.line == good.splitlines().index('      "to": "2026-02-23"') + 1
    with pytest.raises(CalendarFileError, match="overlaps"):
        parse_year_file(good.replace('"2026-04-04"', '"2026-02-20"'))
    with pytest.raises(CalendarFileError, match="unknown"):
        parse_year_file(good.replace('"source"', '"sauce"'))
    with pytest.raises(CalendarFileError, match="inside a holiday"):
        parse_year_file(good.replace('"2026-02-14"', '"2026-02-16"'))


def test_a_deadline_date_is_due_at_the_end_of_that_day_whatever_day_the_task_opens() -> None:
    # An instruction due on Thursday 10 December 2026, opened on Tuesday 1 December or on the day itself.
    assert CAL.add(at(2026, 12, 1, 9, 30), "2026-12-10", working=False).at == at(2026, 12, 11)
    assert CAL.add(at(2026, 12, 10, 17), "2026-12-10").at == at(2026, 12, 11)
    assert Limit.parse("2026-12-10") == Limit(until=date(2026, 12, 10))


def test_a_deadline_that_has_passed_is_due_at_the_end_of_the_day_the_task_opens() -> None:
    # A report returned to a department after the deadline: due the same day (and late already).
    due = CAL.add(at(2026, 12, 14, 10), "2026-12-10", working=False)
    assert due.at == at(2026, 12, 15) and not due.provisional


def test_a_deadline_in_a_year_without_calendar_is_provisional_when_counted_in_working_days() -> None:
    assert CAL.add(at(2026, 12, 1, 10), "2027-01-08").provisional
    assert not CAL.add(at(2026, 12, 1, 10), "2027-01-08", working=False).provisional


@pytest.mark.parametrize("text", ["2026-02-30", "2026-13-01"])
def test_dates_that_do_not_exist_are_refused(text: str) -> None:
    with pytest.raises(LimitError):
        Limit.parse(text)


def test_a_deadline_further_away_than_the_longest_limit_is_refused() -> None:
    with pytest.raises(LimitError):
        CAL.add(at(2026, 12, 1, 10), "9999-12-31", working=False)
