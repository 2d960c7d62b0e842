"""Dates as documents print them, normalised to ``YYYY-MM-DD``.

``2009年11月13日``, ``2009年 11 月 13 日``, ``2015.01.01``, ``2015-01-01``, ``20150101``;
periods ``2015.01.01-2035.01.01``, ``2015年03月12日至2045年03月11日``, ``…至长期``.
"""

from __future__ import annotations

import re
from datetime import date

LONG_TERM = "长期"
_DATE = re.compile(r"((?:19|20)\d{2})\s*[年./\-]?\s*(\d{1,2})\s*[月./\-]?\s*(\d{1,2})\s*日?")


def _to_iso(match: re.Match[str]) -> str | None:
    year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(text: str) -> str | None:
    match = _DATE.search(text.replace(" ", ""))
    return _to_iso(match) if match else None


_BETWEEN = re.compile(r"至|到|～|~|—|－")


def parse_period(text: str) -> tuple[str | None, str | None]:
    """(from, to) of a validity or operating period; ``to`` is ``长期`` for no end. Each
    side is read on its own, so a misread start (``2005年日月27日至…``) never turns the
    end into the start."""
    compact = text.replace(" ", "")
    sides = _BETWEEN.split(compact, maxsplit=1)
    if len(sides) == 2:
        start, end = parse_date(sides[0]), parse_date(sides[1])
    else:
        dates = [_to_iso(m) for m in _DATE.finditer(compact)]
        start = dates[0] if dates else None
        end = dates[1] if len(dates) > 1 else None
    if LONG_TERM in compact or "长久" in compact or "永久" in compact:
        return start, LONG_TERM
    return start, end
