"""No month under-billed by a date (issue 16 §3): a day given alone is the whole day at
both ends; --period names a month, a quarter or a year; a date-time stays an instant.

Real histories with markers on the evening of a month's last day, read through `hourly report`.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from hourly_hooks.cli import main
from hourly_hooks.core import periods

NY = ZoneInfo("America/New_York")


def report(repo, *args: str):
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def starts(document) -> list:
    return [session["start"] for session in document["sessions"]]


@pytest.fixture
def november(repo):
    """Sessions on Oct 31, Nov 1, Nov 30 evening (6.75 h) and Dec 1, in New York."""
    for start, end in [("2026-10-31T10:00:00-04:00", "2026-10-31T11:00:00-04:00"),
                       ("2026-11-01T09:00:00-05:00", "2026-11-01T12:00:00-05:00"),
                       ("2026-11-30T17:00:00-05:00", "2026-11-30T23:45:00-05:00"),
                       ("2026-12-01T00:00:00-05:00", "2026-12-01T01:00:00-05:00")]:
        repo.commit("clock-in", start)
        repo.commit("clock-out", end)
    return repo


NOVEMBER = ["2026-11-01T09:00:00-05:00", "2026-11-30T17:00:00-05:00"]


def test_until_a_day_includes_that_day(november):
    document = report(november, "--tz", "America/New_York", "--rate", "95 EUR",
                      "--since", "2026-11-01", "--until", "2026-11-30")
    assert starts(document) == NOVEMBER
    assert document["total"]["hours"] == "9.75"
    assert document["total"]["amount"] == "926.25"  # 641.25 of it on November 30


@pytest.mark.parametrize("spelling", ["2026-11-30", "Nov 30, 2026", "30 Nov 2026", "2026/11/30", "20261130"])
def test_every_spelling_of_the_last_day_includes_it(november, spelling):
    document = report(november, "--tz", "America/New_York", "--since", "2026-11-01", "--until", spelling)
    assert starts(document) == NOVEMBER


@pytest.mark.parametrize("period", ["2026-11", "2026-Q4", "2026"])
def test_period_by_number_is_the_same_as_its_days(november, period):
    by_days = {"2026-11": ("2026-11-01", "2026-11-30"), "2026-Q4": ("2026-10-01", "2026-12-31"),
               "2026": ("2026-01-01", "2026-12-31")}[period]
    named = report(november, "--tz", "America/New_York", "--period", period)
    spelled = report(november, "--tz", "America/New_York", "--since", by_days[0], "--until", by_days[1])
    assert named == spelled
    expected = NOVEMBER if period == "2026-11" else ["2026-10-31T10:00:00-04:00", *NOVEMBER,
                                                    "2026-12-01T00:00:00-05:00"]
    assert starts(named) == expected


def test_a_date_time_stays_an_instant(november):
    """--until with a time is the first instant left out, as before."""
    document = report(november, "--tz", "America/New_York", "--since", "2026-11-01",
                      "--until", "2026-11-30T17:00")
    assert starts(document) == NOVEMBER[:1]
    document = report(november, "--tz", "America/New_York", "--since", "2026-11-30 17:00:01",
                      "--until", "2026-12-01T00:00:00-05:00")
    assert starts(document) == []


def test_the_old_exclusive_meaning_is_the_midnight_instant(november):
    """What `--until 2026-12-01` meant before is spelled `--until 2026-12-01T00:00` (or 2026-11-30)."""
    old = report(november, "--tz", "America/New_York", "--since", "2026-11-01", "--until", "2026-12-01T00:00")
    new = report(november, "--tz", "America/New_York", "--since", "2026-11-01", "--until", "2026-11-30")
    assert old == new
    assert starts(report(november, "--tz", "America/New_York", "--since", "2026-11-01",
                         "--until", "2026-12-01"))[-1] == "2026-12-01T00:00:00-05:00"


def test_one_day_is_since_and_until_the_same_day(november):
    document = report(november, "--tz", "America/New_York", "--since", "2026-11-30", "--until", "2026-11-30")
    assert starts(document) == NOVEMBER[1:]


def test_period_and_since_are_refused_together(november):
    result = CliRunner().invoke(main, ["report", "--repo", str(november.path), "--period", "2026-11",
                                       "--until", "2026-11-30"])
    assert result.exit_code == 2
    assert "--period cannot be combined with --until" in result.stderr


@pytest.mark.parametrize("text, shown", [("2026-13", "there is no month 13"), ("2026-Q5", "2026-Q4"),
                                         ("next-month", "this-quarter")])
def test_a_bad_period_names_the_forms(november, text, shown):
    result = CliRunner().invoke(main, ["report", "--repo", str(november.path), "--period", text])
    assert result.exit_code == 2, result.output
    assert f"--period: unknown period '{text}'" in result.stderr and shown in result.stderr


# -------------------------------------------------------------- bounds, in the core

@pytest.mark.parametrize("day, end", [
    ("2026-03-31", "2026-04-01T00:00:00-04:00"),   # March ends in daylight time
    ("2026-03-08", "2026-03-09T00:00:00-04:00"),   # the 23-hour day: still all of it
    ("2026-11-01", "2026-11-02T00:00:00-05:00"),   # the 25-hour day
    ("2026-11-30", "2026-12-01T00:00:00-05:00"),
])
def test_until_a_day_ends_at_the_next_midnight_across_dst(day, end):
    bound = periods.parse_bound(day, NY, end=True)
    assert bound.isoformat() == end
    assert periods.parse_bound(day, NY, end=False).isoformat().startswith(day + "T00:00:00")


def test_dst_day_is_counted_whole(repo):
    """A session at 23:30 on the 25-hour day of November 1 is in `--until 2026-11-01`."""
    repo.commit("clock-in", "2026-11-01T23:30:00-05:00")
    repo.commit("clock-out", "2026-11-01T23:59:00-05:00")
    document = report(repo, "--tz", "America/New_York", "--since", "2026-11-01", "--until", "2026-11-01")
    assert starts(document) == ["2026-11-01T23:30:00-05:00"]
    march = report(repo, "--tz", "America/New_York", "--period", "2026-03")
    assert starts(march) == []


@pytest.mark.parametrize("name, now, first, following", [
    ("this-quarter", "2026-11-25T15:00", "2026-10-01T00:00:00-04:00", "2027-01-01T00:00:00-05:00"),
    ("last-quarter", "2026-11-25T15:00", "2026-07-01T00:00:00-04:00", "2026-10-01T00:00:00-04:00"),
    ("last-quarter", "2026-02-10T08:00", "2025-10-01T00:00:00-04:00", "2026-01-01T00:00:00-05:00"),
    ("this-quarter", "2026-03-31T23:00", "2026-01-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00"),
    ("2026-Q1", "2026-11-25T15:00", "2026-01-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00"),
    ("2026-03", "2026-11-25T15:00", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-04:00"),
    ("2026-11", "2026-11-25T15:00", "2026-11-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00"),
    ("last-month", "2026-01-05T12:00", "2025-12-01T00:00:00-05:00", "2026-01-01T00:00:00-05:00"),
])
def test_quarters_and_months(name, now, first, following):
    start, end = periods.period(name, NY, datetime.fromisoformat(now).replace(tzinfo=NY))
    assert (start.isoformat(), end.isoformat()) == (first, following)
