"""The period a report covers, stated in every format so that a wrong window is seen.

Built from the Selection's bounds only (``since`` inclusive, ``until`` an
exclusive instant), however the command line spelled them. A bound at local
midnight reads as a date, the end as the last day included (``2026-11-01 to
2026-11-30`` for ``until`` = December 1st, 00:00); any other bound as an
instant. No bounds at all read "all history": the rows show the span they cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Optional

from hourly_hooks.core.markers import format_time
from hourly_hooks.core.timesheet import Selection

ALL_HISTORY = "all history"


@dataclass(frozen=True)
class Period:
    """start (inclusive) and end (exclusive) in the report's zone, None where open; text for people."""

    start: Optional[datetime]
    end: Optional[datetime]
    text: str

    def to_json(self) -> dict:
        return {"start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "text": self.text}


def of(selection: Selection) -> Period:
    tz = selection.tz
    start = selection.since.astimezone(tz) if selection.since else None
    end = selection.until.astimezone(tz) if selection.until else None
    return Period(start, end, _text(start, end))


def _midnight(moment: datetime) -> bool:
    return moment.timetz().replace(tzinfo=None) == time(0)


def _instant(moment: datetime) -> str:
    return format_time(moment, seconds=bool(moment.second or moment.microsecond))


def _first(start: datetime) -> str:
    return start.date().isoformat() if _midnight(start) else _instant(start)


def _last(end: datetime) -> str:
    """The end as the last day included when it is a midnight, else the instant it stops."""
    if _midnight(end):
        return (end.date() - timedelta(days=1)).isoformat()
    return _instant(end)


def _text(start: Optional[datetime], end: Optional[datetime]) -> str:
    if start is None and end is None:
        return ALL_HISTORY
    if end is None:
        return f"from {_first(start)}" if start else ALL_HISTORY
    last = _last(end)
    if start is None:
        return f"up to {last}" if _midnight(end) else f"until {last}"
    first = _first(start)
    if first == last:
        return first  # one whole day
    if _midnight(end):
        return f"{first} to {last}"
    return f"{first} until {last}"
