"""Budgets (`budget = "40h/week"`, `contract = "120h"` from `contract_start`), in real repositories."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from hook_helpers import ALICE, HookedRepo
from hourly_hooks import zones
from hourly_hooks.core import budget

NEW_YORK = zones.zone("America/New_York")


# ------------------------------------------------------------------ the pure core

def test_budget_specs():
    assert budget.parse_budget("40h/week") == budget.Spec(40 * 3600, "week")
    assert budget.parse_budget("160h / Month") == budget.Spec(160 * 3600, "month")
    assert budget.parse_budget("37h30m/week").limit == 37 * 3600 + 1800
    assert budget.parse_contract("120h", "2026-01-01") == budget.Spec(120 * 3600, "contract", date(2026, 1, 1))
    for bad in ("40h", "40h/fortnight", "lots/week", "0h/week", "/week"):
        with pytest.raises(ValueError):
            budget.parse_budget(bad)
    with pytest.raises(ValueError, match="expected YYYY-MM-DD"):
        budget.parse_contract("120h", "January")
    with pytest.raises(ValueError, match="not both"):
        budget.spec_of("40h/week", "120h", "2026-01-01")
    with pytest.raises(ValueError, match="contract_start"):
        budget.spec_of(None, "120h", None)
    assert budget.spec_of(None, None, None) is None


def test_a_week_is_monday_to_monday_in_the_zone():
    spec = budget.parse_budget("10h/week")
    sunday_night = datetime(2026, 3, 9, 3, 30, tzinfo=timezone.utc)  # Sunday 22:30 in New York
    now = datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc)
    in_new_york = budget.usage(spec, [(sunday_night, 3600)], now, NEW_YORK)
    assert in_new_york.start.isoformat() == "2026-03-02T00:00:00-05:00"
    assert in_new_york.used_seconds == 3600
    in_utc = budget.usage(spec, [(sunday_night, 3600)], now, timezone.utc)
    assert in_utc.used_seconds == 0 and in_utc.end.isoformat() == "2026-03-09T00:00:00+00:00"
    assert in_new_york.used == Decimal("1.00") and in_new_york.remaining == Decimal("9.00")


def test_exceeded_budget_has_negative_remaining():
    spec = budget.parse_budget("1h/month")
    now = datetime(2026, 2, 20, tzinfo=timezone.utc)
    spent = budget.usage(spec, [(datetime(2026, 2, 3, tzinfo=timezone.utc), 5400)], now, timezone.utc)
    assert spent.exceeded and spent.remaining == Decimal("-0.50")
    assert spent.line() == "Budget (month from 2026-02-01): 1.50 h used of 1.00 h, exceeded by 0.50 h."
    assert spent.to_json()["remaining"] == "-0.50"


# ------------------------------------------------------------------ the commands

def run(repo, *args, code=0, when="2026-03-04T14:00:00+00:00"):
    env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
           "GIT_AUTHOR_NAME": ALICE[0], "GIT_AUTHOR_EMAIL": ALICE[1]}
    done = repo.hourly(*args, env=env)
    assert done.returncode == code, (args, done.stdout, done.stderr)
    return done


def session(repo, start, end):
    repo.commit("clock-in", start)
    repo.commit("clock-out", end)


@pytest.fixture
def week(tmp_path):
    repo = HookedRepo(tmp_path / "work")
    session(repo, "2026-02-27T09:00:00+00:00", "2026-02-27T17:00:00+00:00")  # the Friday before: not counted
    session(repo, "2026-03-02T09:00:00+00:00", "2026-03-02T11:00:00+00:00")
    session(repo, "2026-03-03T09:00:00+00:00", "2026-03-03T10:00:00+00:00")
    return repo


WEEK = ("--since", "2026-03-02", "--until", "2026-03-08", "--tz", "UTC")  # Monday to Sunday, both whole


def configure(repo, text):
    (repo.path / ".hourly.toml").write_text(text)


def test_report_shows_the_weeks_budget_on_stderr_and_in_json(week):
    configure(week, 'budget = "4h/week"\n')
    table = run(week, "report", *WEEK)
    assert "Budget (week from 2026-03-02): 3.00 h used of 4.00 h, 1.00 h left." in table.stderr
    assert "Budget" not in table.stdout
    csv = run(week, "report", *WEEK, "--format", "csv")
    assert "Budget" not in csv.stdout
    document = json.loads(run(week, "report", *WEEK, "--json").stdout)
    assert document["budget"] == {
        "per": "week", "start": "2026-03-02T00:00:00+00:00", "end": "2026-03-09T00:00:00+00:00",
        "used_seconds": 3 * 3600, "limit_seconds": 4 * 3600, "used": "3.00", "limit": "4.00",
        "remaining": "1.00", "exceeded": False}


def test_report_json_without_a_budget_says_null(week):
    document = json.loads(run(week, "report", *WEEK, "--json").stdout)
    assert document["budget"] is None
    assert "Budget" not in run(week, "report", *WEEK).stderr


def test_a_narrower_report_still_counts_the_whole_week(week):
    configure(week, 'budget = "4h/week"\n')
    # The report shows Tuesday only; the budget is the week holding its end.
    document = json.loads(run(week, "report", "--since", "2026-03-03", "--until", "2026-03-03",
                              "--tz", "UTC", "--json").stdout)
    assert document["total"]["hours"] == "1.00"
    assert document["budget"]["used"] == "3.00"


def test_strict_fails_when_the_budget_is_exceeded(week):
    configure(week, 'budget = "2h30m/week"\n')
    assert run(week, "report", *WEEK).returncode == 0  # shown, not refused, without --strict
    done = run(week, "report", *WEEK, "--strict", code=1)
    assert "exceeded by 0.50 h" in done.stderr
    assert "the budget is exceeded: 3.00 h used of 2.50 h" in done.stderr
    configure(week, 'budget = "3h/week"\n')  # exactly used up is not exceeded
    run(week, "report", *WEEK, "--strict")


def test_the_week_boundary_follows_the_reports_zone(tmp_path):
    repo = HookedRepo(tmp_path / "work")
    # Sunday 22:00-23:30 in New York is Monday 03:00-04:30 UTC: the next week in UTC.
    session(repo, "2026-03-09T03:00:00+00:00", "2026-03-09T04:30:00+00:00")
    configure(repo, 'budget = "1h/week"\n')
    new_york = run(repo, "report", "--since", "2026-03-02", "--until", "2026-03-08",
                   "--tz", "America/New_York", "--strict", "--json", code=1)
    assert json.loads(new_york.stdout)["budget"]["used"] == "1.50"
    utc = run(repo, "report", "--since", "2026-03-02", "--until", "2026-03-08", "--tz", "UTC",
              "--strict", "--json")
    assert json.loads(utc.stdout)["budget"]["used"] == "0.00"


def test_a_contract_spans_months_from_its_start(tmp_path):
    repo = HookedRepo(tmp_path / "work")
    session(repo, "2026-01-10T09:00:00+00:00", "2026-01-10T17:00:00+00:00")  # before the contract
    session(repo, "2026-01-20T09:00:00+00:00", "2026-01-20T13:00:00+00:00")
    session(repo, "2026-02-10T09:00:00+00:00", "2026-02-10T12:00:00+00:00")
    session(repo, "2026-03-05T09:00:00+00:00", "2026-03-05T10:00:00+00:00")  # after the report
    configure(repo, 'contract = "8h"\ncontract_start = "2026-01-15"\n')
    february = ("--period", "2026-02", "--tz", "UTC")
    document = json.loads(run(repo, "report", *february, "--json").stdout)
    assert document["total"]["hours"] == "3.00"
    assert document["budget"]["per"] == "contract"
    assert document["budget"]["start"] == "2026-01-15T00:00:00+00:00"
    assert (document["budget"]["used"], document["budget"]["remaining"]) == ("7.00", "1.00")
    before = json.loads(run(repo, "report", "--since", "2025-12-01", "--until", "2025-12-31", "--tz", "UTC",
                            "--json").stdout)
    assert before["budget"]["used"] == "0.00"  # a report that ends before the contract began
    # All of it: 4 + 3 + 1 = 8 h is the whole contract, not more: not exceeded.
    everything = json.loads(run(repo, "report", "--tz", "UTC", "--json", "--strict").stdout)
    assert (everything["budget"]["used"], everything["budget"]["exceeded"]) == ("8.00", False)
    session(repo, "2026-03-06T09:00:00+00:00", "2026-03-06T09:30:00+00:00")
    assert "exceeded by 0.50 h" in run(repo, "report", "--tz", "UTC", "--strict", code=1).stderr


def test_status_shows_used_and_remaining(week):
    configure(week, 'budget = "10h/week"\n')
    week.commit("clock-in", "2026-03-04T13:00:00+00:00")  # running for an hour at 14:00
    text = run(week, "status", "--tz", "UTC").stdout
    assert "Budget (week from 2026-03-02): 4.00 h used of 10.00 h, 6.00 h left." in text
    document = json.loads(run(week, "status", "--tz", "UTC", "--json").stdout)
    assert document["budget"]["used_seconds"] == 4 * 3600
    assert document["budget"]["remaining"] == "6.00"


def test_status_without_a_budget(week):
    document = json.loads(run(week, "status", "--json").stdout)
    assert document["budget"] is None
    assert "Budget" not in run(week, "status").stdout


def test_status_reads_a_contract_from_before_its_window(tmp_path):
    repo = HookedRepo(tmp_path / "work")
    session(repo, "2026-01-20T09:00:00+00:00", "2026-01-20T13:00:00+00:00")  # more than 30 days ago
    configure(repo, 'contract = "10h"\ncontract_start = "2026-01-01"\n')
    document = json.loads(run(repo, "status", "--tz", "UTC", "--json").stdout)
    assert document["budget"]["used"] == "4.00" and document["budget"]["end"] is None


@pytest.mark.parametrize("text, words", [
    ('budget = "40h/fortnight"\n', ".hourly.toml:1: 'budget': not a budget: '40h/fortnight'"),
    ('contract = "120h"\n', ".hourly.toml:1: 'contract': contract needs contract_start"),
    ('contract = "120h"\ncontract_start = "soon"\n', ".hourly.toml:2: 'contract_start': not a day: 'soon'"),
    ('budget = "40h/week"\ncontract = "120h"\ncontract_start = "2026-01-01"\n',
     ".hourly.toml:1: 'budget': set budget or contract, not both"),
])
def test_a_bad_budget_is_one_config_error(week, text, words):
    configure(week, text)
    done = run(week, "report", *WEEK, code=4)
    assert words in done.stderr, done.stderr
    assert done.stdout == ""
