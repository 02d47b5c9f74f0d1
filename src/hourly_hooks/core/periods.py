"""Dates as people type them and named periods (pure but for the clock; the zones by name: zones.py)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Optional, Tuple

from hourly_hooks.errors import quoted

PERIODS = ("today", "yesterday", "this-week", "last-week", "this-month", "last-month",
           "this-quarter", "last-quarter", "this-year", "last-year")
# Besides the words: a calendar month, quarter or year by its number.
PERIOD_FORMS = "a month like 2026-11, a quarter like 2026-Q4, a year like 2026, or " + ", ".join(PERIODS)
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_QUARTER = re.compile(r"(\d{4})-?q([1-4])")
_YEAR = re.compile(r"\d{4}")

# The date grammar, defined here rather than left to datetime.fromisoformat,
# which accepts more with every Python release (3.11 added 20200106 and
# 2020-W02-1): a date that works on one supported Python works on all of them.
# Month and day names are English whatever the locale (strptime's %b is not).
DATE_FORMS = ('2020-01-06, 2020/01/06, 20200106, "Jan 6, 2020", "6 Jan 2020", 2020-W02-1, '
              'today, yesterday, monday, "last monday", "3 days ago", "2 weeks ago", '
              'or a date-time like 2020-01-06T09:30-05:00 or "yesterday 17:30"')
_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
     ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
     ("oct", "october"), ("nov", "november"), ("dec", "december")], 1) for name in names}
_WEEKDAYS = {name: number for number, names in enumerate(
    [("mon", "monday"), ("tue", "tues", "tuesday"), ("wed", "wednesday"),
     ("thu", "thur", "thurs", "thursday"), ("fri", "friday"), ("sat", "saturday"),
     ("sun", "sunday")]) for name in names}
_DAY_PATTERNS = (
    ("iso", re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")),
    ("iso", re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")),
    ("iso", re.compile(r"(\d{4})(\d{2})(\d{2})")),
    ("week", re.compile(r"(\d{4})-?w(\d{2})(?:-?([1-7]))?")),
    ("mdy", re.compile(r"([a-z]+)\.? (\d{1,2}),? (\d{4})")),
    ("dmy", re.compile(r"(\d{1,2}) ([a-z]+)\.?,? (\d{4})")),
    ("ago", re.compile(r"(\d{1,5}) (day|week)s? ago")),
    ("weekday", re.compile(r"(?:(last) )?([a-z]+)")),
)
# A time of day: 24-hour 09:30[:15[.5]], or 12-hour 9am / 9:30 pm.
_TIME = (r"(?:(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
         r"|(?P<h12>\d{1,2})(?::(?P<m12>\d{2}))? ?(?P<ampm>am|pm))")
_OFFSET = r"(?P<offset>z|utc|[+-]\d{2}(?::?\d{2})?)"
_TIME_ONLY = re.compile(_TIME)
_DAY_AND_TIME = re.compile(r"(?P<day>.+?)(?: at | |t)(?:" + _TIME + r") ?" + _OFFSET + r"?")


def parse_day(text: str, today: date) -> date:
    """A day as a person types it (see DATE_FORMS), relative days counted from today.

    ``monday`` is the most recent Monday (today, on a Monday); ``last monday``
    the one before today (a week ago, on a Monday), as GNU date reads them.
    """
    words = " ".join(text.lower().replace(",", ", ").split()).replace(" ,", ",")
    if words in ("today", "yesterday", "tomorrow"):
        return today + timedelta(days={"today": 0, "yesterday": -1, "tomorrow": 1}[words])
    for kind, pattern in _DAY_PATTERNS:
        match = pattern.fullmatch(words)
        if not match:
            continue
        if kind == "iso":
            numbers = [int(part) for part in match.groups()]
            return _date(numbers[0], numbers[1], numbers[2], text)
        if kind == "week":
            year_text, week, weekday = match.groups()
            try:
                return date.fromisocalendar(int(year_text), int(week), int(weekday or 1))
            except ValueError:
                raise ValueError(f"not a date: {quoted(text)} (there is no week {week} in {year_text})") from None
        if kind in ("mdy", "dmy"):
            month_name, day_text, year_text = match.groups() if kind == "mdy" else \
                (match.group(2), match.group(1), match.group(3))
            if month_name in _MONTHS:
                return _date(int(year_text), _MONTHS[month_name], int(day_text), text)
        if kind == "ago":
            count, unit = int(match.group(1)), match.group(2)
            return today - timedelta(days=count * (7 if unit == "week" else 1))
        if kind == "weekday" and match.group(2) in _WEEKDAYS:
            back = (today.weekday() - _WEEKDAYS[match.group(2)]) % 7
            if match.group(1) and back == 0:
                back = 7
            return today - timedelta(days=back)
    raise _UnknownForm(f"not a date: {quoted(text)} (try {DATE_FORMS})")


class _UnknownForm(ValueError):
    """Text in none of the forms (as opposed to a form naming no real day, like 2020-02-30)."""


def _date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as error:
        raise ValueError(f"not a date: {quoted(text)} ({error})") from None


def _time_of_day(match, text: str) -> time:
    """The time in a _TIME match; ValueError for 25:00, 13pm and the like."""
    groups = match.groupdict()
    if groups.get("ampm"):
        hour, minute, second, fraction = int(groups["h12"]), int(groups["m12"] or 0), 0, ""
        if not 1 <= hour <= 12:
            raise ValueError(f"not a time: {quoted(text)} (a 12-hour clock runs from 1 to 12)")
        hour = hour % 12 + (12 if groups["ampm"] == "pm" else 0)
    else:
        hour, minute, second = int(groups["h"]), int(groups["m"]), int(groups["s"] or 0)
        fraction = groups["f"] or ""
    try:
        return time(hour, minute, second, int(fraction.ljust(6, "0")) if fraction else 0)
    except ValueError as error:
        raise ValueError(f"not a time: {quoted(text)} ({error})") from None


def _offset(text: Optional[str]) -> Optional[tzinfo]:
    if not text:
        return None
    if text in ("z", "utc"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f"not a UTC offset: {quoted(text)}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _split_time(words: str):
    """(day text, time, offset) of "<day> <time> [offset]", or None when words has no time."""
    match = _DAY_AND_TIME.fullmatch(words)
    if not match:
        return None
    return match.group("day"), _time_of_day(match, words), _offset(match.group("offset"))


def _normal(text: str) -> str:
    return " ".join(text.strip().lower().split())


def parse_bound(text: str, tz: tzinfo, end: bool, now: Optional[datetime] = None) -> datetime:
    """--since (end=False) or --until (end=True) as the instant it stands for.

    A day without a time is the whole day at both ends, as Watson's --to and
    klog's --until read it: --since from its midnight, --until up to the next
    day's midnight in tz (the first instant not counted; a 23- or 25-hour day
    at a DST change is still one whole day). A date-time is that very instant.
    """
    moment, whole_day = _when(text, tz, now)
    if end and whole_day:
        return midnight(moment.date() + timedelta(days=1), tz)
    return moment


def _when(text: str, tz: tzinfo, now: Optional[datetime]) -> Tuple[datetime, bool]:
    """(the moment, whether the text named a day without a time)."""
    words = _normal(text)
    today = (now or datetime.now(tz)).astimezone(tz).date()
    try:
        return midnight(parse_day(text, today), tz), True
    except _UnknownForm:
        pass
    parts = _split_time(words)
    if parts is None:
        raise ValueError(f"not a date: {quoted(text.strip())} (try {DATE_FORMS})")
    day_text, clock, offset = parts
    day = parse_day(day_text, today)
    return datetime.combine(day, clock, tzinfo=offset or tz), False


AT_FORMS = "HH:MM, 9:30pm, 'yesterday 17:30', 'monday 9am' or a date-time like 2026-11-28T09:30"


def parse_at(text: str, now: datetime) -> datetime:
    """`hourly in/out --at`: a time today (``09:30``, ``9:30pm``), or a day and a time
    (``yesterday 17:30``, ``monday 9am``, ``2026-11-28T09:30-05:00``), in now's zone
    unless an offset is given. Days are any of parse_day's forms, counted from now."""
    words = _normal(text)
    zone_now = now.tzinfo or timezone.utc
    try:
        match = _TIME_ONLY.fullmatch(words)
        if match:
            return datetime.combine(now.date(), _time_of_day(match, text.strip()), tzinfo=zone_now)
        parts = _split_time(words)
        if parts is not None:
            day_text, clock, offset = parts
            return datetime.combine(parse_day(day_text, now.date()), clock, tzinfo=offset or zone_now)
        parse_day(words, now.date())
    except _UnknownForm:
        raise ValueError(f"{quoted(text.strip())}: expected {AT_FORMS}") from None
    except ValueError as error:
        raise ValueError(f"{error}; expected {AT_FORMS}") from None
    raise ValueError(f"{quoted(text.strip())} is a day without a time: give one too, e.g. '{text.strip()} 17:30'")


def midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def period(name: str, tz: tzinfo, now: Optional[datetime] = None) -> Tuple[datetime, datetime]:
    """[start, end) of a named period around now (PERIODS), or of a month, quarter
    or year by its number (2026-11, 2026-Q4, 2026), in tz. Weeks start on Monday."""
    words = _normal(name)
    numbered = _numbered(words, name)
    if numbered is not None:
        first, following = numbered
        return midnight(first, tz), midnight(following, tz)
    if words not in PERIODS:
        raise ValueError(f"unknown period {quoted(name.strip())} (expected {PERIOD_FORMS})")
    today = (now or datetime.now(tz)).astimezone(tz).date()
    if words in ("today", "yesterday"):
        day = today - timedelta(days=0 if words == "today" else 1)
        return midnight(day, tz), midnight(day + timedelta(days=1), tz)
    if words.endswith("-week"):
        monday = today - timedelta(days=today.weekday())
        if words == "last-week":
            monday -= timedelta(days=7)
        return midnight(monday, tz), midnight(monday + timedelta(days=7), tz)
    if words.endswith("-month"):
        first = today.replace(day=1)
        if words == "last-month":
            first = _months_later(first, -1)
        return midnight(first, tz), midnight(_months_later(first, 1), tz)
    if words.endswith("-quarter"):
        first = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
        if words == "last-quarter":
            first = _months_later(first, -3)
        return midnight(first, tz), midnight(_months_later(first, 3), tz)
    year = today.year - (1 if words == "last-year" else 0)
    return midnight(date(year, 1, 1), tz), midnight(date(year + 1, 1, 1), tz)


def _numbered(words: str, name: str) -> Optional[Tuple[date, date]]:
    """(first day, first day after) of 2026-11, 2026-Q4 or 2026; None for other text."""
    month = _MONTH.fullmatch(words)
    if month:
        number = int(month.group(2))
        if not 1 <= number <= 12:
            raise ValueError(f"unknown period {quoted(name.strip())} (there is no month {number})")
        first = date(int(month.group(1)), number, 1)
        return first, _months_later(first, 1)
    quarter = _QUARTER.fullmatch(words)
    if quarter:
        first = date(int(quarter.group(1)), 3 * int(quarter.group(2)) - 2, 1)
        return first, _months_later(first, 3)
    if _YEAR.fullmatch(words):
        return date(int(words), 1, 1), date(int(words) + 1, 1, 1)
    return None


def _months_later(first: date, months: int) -> date:
    """The first of the month `months` after (or before) the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())
