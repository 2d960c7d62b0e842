"""Due dates in working days, as the MOFCOM guide counts them: pre-review (核验) within 2
working days of the check, re-review (复核) and production within 5 of the pre-review.

Working days are Monday to Friday. China's public holidays and the weekend days worked in
their place (调休) move every year by State Council notice; they are not modelled, so a
due date over a holiday comes out early, never late.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def beijing(moment: datetime | None, form: str = "%Y-%m-%d %H:%M") -> str:
    """A moment as a person here reads it: Beijing time (stored times are UTC; one without
    a zone is taken as UTC)."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(SHANGHAI).strftime(form)


PREREVIEW_DAYS = 2
REREVIEW_DAYS = 5


def add_working_days(start: datetime, days: int) -> datetime:
    """``days`` working days after ``start``, at the same time of day."""
    moment = start
    left = days
    while left > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            left -= 1
    return moment


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    count, moment = 0, start
    while moment + timedelta(days=1) <= end:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            count += 1
    return count
