"""Due dates in working days, as the MOFCOM guide counts them: pre-review (核验) within 2
working days of the check, re-review (复核) and production within 5 of the pre-review.

Working days are China's: the statutory holidays and the weekend days worked in their
place (调休), which the State Council announces each year, from the chinesecalendar
package (kept up to date yearly), counted on the Beijing date. For a year the package does
not know yet, Monday to Friday: a due date over an unknown holiday comes out early, never
late.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")


MINUTE = "%Y-%m-%d %H:%M %z"
"""A time for a command's output: Beijing time, its offset said (+0800)."""
SECOND = "%Y-%m-%d %H:%M:%S %z"


def beijing(moment: datetime | None, form: str = "%Y-%m-%d %H:%M") -> str:
    """A moment as a person here reads it: Beijing time (stored times are UTC; one without
    a zone is taken as UTC)."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(SHANGHAI).strftime(form)


PREREVIEW_DAYS = 2
REREVIEW_DAYS = 5


@cache
def is_working_day(day: date) -> bool:
    """Whether offices in China work on ``day`` (a Beijing date)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year not yet announced (or before 2004)
        return day.weekday() < 5


def _working(moment: datetime) -> bool:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return is_working_day(aware.astimezone(SHANGHAI).date())


def add_working_days(start: datetime, days: int) -> datetime:
    """``days`` working days after ``start``, at the same time of day."""
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if _working(moment):
            left -= 1
    return moment


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    count, moment = 0, start
    while moment + timedelta(days=1) <= end:
        moment += timedelta(days=1)
        if _working(moment):
            count += 1
    return count
