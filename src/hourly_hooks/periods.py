"""Dates as people type them, time zones, and named periods (pure but for the clock)."""

from __future__ import annotations

import os
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Optional, Tuple

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PERIODS = ("today", "yesterday", "this-week", "last-week", "this-month", "last-month",
           "this-year", "last-year")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%b %d, %Y", "%B %d, %Y", "%b %d %Y", "%B %d %Y",
                 "%d %b %Y", "%d %B %Y")


def zone(name: Optional[str]) -> tzinfo:
    """A time zone by IANA name ("America/New_York", "UTC"); the local zone for None."""
    if not name or name == "local":
        return local_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {name!r} (expected an IANA name like Europe/Paris or UTC)") from None


def local_zone() -> tzinfo:
    """The machine's zone with its DST rules when it can be named, else its current offset."""
    for name in (os.environ.get("TZ", "").lstrip(":"), _localtime_link()):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return datetime.now().astimezone().tzinfo


def _localtime_link() -> str:
    try:
        target = os.path.realpath("/etc/localtime")
    except OSError:  # pragma: no cover
        return ""
    marker = "zoneinfo/"
    return target.split(marker, 1)[1] if marker in target else ""


def parse_when(text: str, tz: tzinfo, now: Optional[datetime] = None) -> datetime:
    """``2020-01-06``, ``Jan 6, 2020``, ISO timestamps, ``today``, ``yesterday`` -> aware datetime.

    A date means its midnight in tz; a timestamp without an offset is read in tz.
    """
    text = text.strip()
    today = (now or datetime.now(tz)).astimezone(tz).date()
    if text.lower() in ("today", "yesterday"):
        day = today if text.lower() == "today" else today - timedelta(days=1)
        return midnight(day, tz)
    for fmt in _DATE_FORMATS:
        try:
            return midnight(datetime.strptime(text, fmt).date(), tz)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
    except ValueError:
        raise ValueError(f"not a date: {text!r} (try 2020-01-06, \"Jan 6, 2020\" or 2020-01-06T09:30-05:00)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def period(name: str, tz: tzinfo, now: Optional[datetime] = None) -> Tuple[datetime, datetime]:
    """[start, end) of a named period around now, in tz. Weeks start on Monday."""
    name = name.lower()
    if name not in PERIODS:
        raise ValueError(f"unknown period {name!r} (expected one of {', '.join(PERIODS)})")
    today = (now or datetime.now(tz)).astimezone(tz).date()
    if name in ("today", "yesterday"):
        day = today - timedelta(days=0 if name == "today" else 1)
        return midnight(day, tz), midnight(day + timedelta(days=1), tz)
    if name.endswith("-week"):
        monday = today - timedelta(days=today.weekday())
        if name == "last-week":
            monday -= timedelta(days=7)
        return midnight(monday, tz), midnight(monday + timedelta(days=7), tz)
    if name.endswith("-month"):
        first = today.replace(day=1)
        if name == "last-month":
            first = (first - timedelta(days=1)).replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return midnight(first, tz), midnight(following, tz)
    year = today.year - (1 if name == "last-year" else 0)
    return midnight(date(year, 1, 1), tz), midnight(date(year + 1, 1, 1), tz)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
