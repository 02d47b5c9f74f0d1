"""The date grammar of --since / --until and --at: the same forms on every supported Python.

datetime.fromisoformat grew with Python 3.11 (20200106, 2020-W02-1), so periods
defines its forms itself; test_same_answers_on_every_installed_python runs the
table below under each Python 3.9..3.13 found on the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from hourly_hooks.core import periods
from hourly_hooks.cli import main

NY = ZoneInfo("America/New_York")
SRC = Path(__file__).resolve().parent.parent / "src"
WEDNESDAY = datetime(2026, 11, 25, 15, 0, tzinfo=NY)
MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=NY)

# (text, now, expected): the grammar as documented in periods.DATE_FORMS.
WHEN = [
    ("2020-01-06", WEDNESDAY, "2020-01-06T00:00:00-05:00"),
    ("2020/1/6", WEDNESDAY, "2020-01-06T00:00:00-05:00"),
    ("20200106", WEDNESDAY, "2020-01-06T00:00:00-05:00"),
    ("2020-W02-1", WEDNESDAY, "2020-01-06T00:00:00-05:00"),
    ("2020-W02", WEDNESDAY, "2020-01-06T00:00:00-05:00"),
    ("2020W025", WEDNESDAY, "2020-01-10T00:00:00-05:00"),
    ("Jan 6, 2020", WEDNESDAY, "2020-01-06T00:00:00-05:00"),
    ("january 6 2020", WEDNESDAY, "2020-01-06T00:00:00-05:00"),
    ("6 Jan 2020", WEDNESDAY, "2020-01-06T00:00:00-05:00"),
    ("Sept 6,2020", WEDNESDAY, "2020-09-06T00:00:00-04:00"),
    ("2020-07-06", WEDNESDAY, "2020-07-06T00:00:00-04:00"),
    ("2020-01-06T09:30:00+01:00", WEDNESDAY, "2020-01-06T09:30:00+01:00"),
    ("2020-01-06T09:30:00.25Z", WEDNESDAY, "2020-01-06T09:30:00.250000+00:00"),
    ("2020-01-06 09:30", WEDNESDAY, "2020-01-06T09:30:00-05:00"),
    ("2020-01-06T09:30-0330", WEDNESDAY, "2020-01-06T09:30:00-03:30"),
    ("today", WEDNESDAY, "2026-11-25T00:00:00-05:00"),
    ("Yesterday", WEDNESDAY, "2026-11-24T00:00:00-05:00"),
    ("tomorrow", WEDNESDAY, "2026-11-26T00:00:00-05:00"),
    ("monday", WEDNESDAY, "2026-11-23T00:00:00-05:00"),
    ("monday", MONDAY, "2026-11-23T00:00:00-05:00"),          # today, on a Monday
    ("last monday", WEDNESDAY, "2026-11-23T00:00:00-05:00"),
    ("last monday", MONDAY, "2026-11-16T00:00:00-05:00"),     # a week ago, on a Monday
    ("fri", WEDNESDAY, "2026-11-20T00:00:00-05:00"),
    ("last wednesday", WEDNESDAY, "2026-11-18T00:00:00-05:00"),
    ("3 days ago", WEDNESDAY, "2026-11-22T00:00:00-05:00"),
    ("1 day ago", WEDNESDAY, "2026-11-24T00:00:00-05:00"),
    ("2 weeks ago", WEDNESDAY, "2026-11-11T00:00:00-05:00"),
    ("yesterday 17:30", WEDNESDAY, "2026-11-24T17:30:00-05:00"),
    ("monday at 9am", WEDNESDAY, "2026-11-23T09:00:00-05:00"),
    ("last fri 5:30 pm", WEDNESDAY, "2026-11-20T17:30:00-05:00"),
    ("2020-01-06 12am", WEDNESDAY, "2020-01-06T00:00:00-05:00"),
    ("3 weeks ago", datetime(2026, 3, 10, 12, 0, tzinfo=NY), "2026-02-17T00:00:00-05:00"),  # across DST
]
WHEN_ERRORS = [
    ("2020-02-30", "day is out of range"),
    ("2020-W54-1", "no week 54 in 2020"),
    ("Foo 6, 2020", "try 2020-01-06"),
    ("next monday", "try 2020-01-06"),
    ("2020-01-06 25:00", "not a time"),
    ("2020-01-06T09:30+25:00", "not a UTC offset"),
    ("", "try 2020-01-06"),
]
AT_NOW = datetime(2026, 11, 25, 15, 0, tzinfo=timezone(timedelta(hours=-5)))
AT = [
    ("09:30", "2026-11-25T09:30:00-05:00"),
    ("9:30:15", "2026-11-25T09:30:15-05:00"),
    ("9am", "2026-11-25T09:00:00-05:00"),
    ("12pm", "2026-11-25T12:00:00-05:00"),
    ("12:15 am", "2026-11-25T00:15:00-05:00"),
    ("yesterday 17:30", "2026-11-24T17:30:00-05:00"),
    ("monday 9:00", "2026-11-23T09:00:00-05:00"),
    ("2026-11-24T09:30", "2026-11-24T09:30:00-05:00"),
    ("2026-11-24 09:30+01:00", "2026-11-24T09:30:00+01:00"),
]
AT_ERRORS = [
    ("yesterday", "a day without a time"),
    ("13pm", "1 to 12"),
    ("25:99", "expected HH:MM"),
    ("soon", "expected HH:MM"),
]


@pytest.mark.parametrize("text, now, expected", WHEN)
def test_a_since_bound_is_the_moment_named(text, now, expected):
    assert periods.parse_bound(text, NY, False, now).isoformat() == expected


@pytest.mark.parametrize("text, reason", WHEN_ERRORS)
def test_a_bound_that_names_no_moment_is_refused(text, reason):
    with pytest.raises(ValueError, match=reason):
        periods.parse_bound(text, NY, False, WEDNESDAY)


@pytest.mark.parametrize("text, expected", AT)
def test_parse_at(text, expected):
    assert periods.parse_at(text, AT_NOW).isoformat() == expected


@pytest.mark.parametrize("text, reason", AT_ERRORS)
def test_parse_at_refuses(text, reason):
    with pytest.raises(ValueError, match=reason):
        periods.parse_at(text, AT_NOW)


def test_month_names_do_not_depend_on_the_locale(monkeypatch):
    import locale
    for name in ("de_DE.UTF-8", "fr_FR.UTF-8"):
        try:
            locale.setlocale(locale.LC_TIME, name)
        except locale.Error:
            continue
        try:
            assert periods.parse_bound("Mar 2, 2026", NY, False, WEDNESDAY).isoformat() == "2026-03-02T00:00:00-05:00"
        finally:
            locale.setlocale(locale.LC_TIME, "C")


# Run under another Python: the tables above, answers printed as JSON.
_PROBE = """
import json, sys
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo
from hourly_hooks.core import periods
NY = ZoneInfo("America/New_York")
cases = json.loads(sys.stdin.read())
out = []
for kind, text, now in cases:
    now = datetime.fromisoformat(now)
    try:
        value = (periods.parse_bound(text, NY, False, now) if kind == "when" else periods.parse_at(text, now)).isoformat()
    except ValueError as error:
        value = "error: " + str(error)
    out.append(value)
print(json.dumps(out))
"""


# Looked up at import, before the autouse fixture gives each test a fresh HOME.
PYENV_VERSIONS = Path(os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")) / "versions"


def _pythons():
    found = []
    root = PYENV_VERSIONS
    for minor in range(9, 14):
        candidates = sorted(root.glob(f"3.{minor}.*/bin/python3")) if root.is_dir() else []
        if candidates:
            found.append(str(candidates[-1]))
    return found


def _cases():
    cases = [("when", text, now.isoformat()) for text, now, _ in WHEN]
    cases += [("when", text, WEDNESDAY.isoformat()) for text, _ in WHEN_ERRORS]
    cases += [("at", text, AT_NOW.isoformat()) for text, _ in AT + AT_ERRORS]
    return cases


def test_same_answers_on_every_installed_python():
    pythons = _pythons()
    if not any("/3.9." in p for p in pythons):
        pytest.skip("no Python 3.9 under ~/.pyenv/versions to compare with")
    cases = json.dumps(_cases())
    here = subprocess.run([sys.executable, "-c", _PROBE], input=cases, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(SRC)), check=True).stdout
    expected = [e for _, _, e in WHEN]
    assert json.loads(here)[:len(expected)] == expected
    for python in pythons:
        done = subprocess.run([python, "-S", "-c", _PROBE], input=cases, capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=str(SRC)))
        assert done.returncode == 0, f"{python}: {done.stderr}"
        assert json.loads(done.stdout) == json.loads(here), python


# ------------------------------------------------------------ through the commands

def test_report_since_a_relative_date(repo):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    old = now - timedelta(days=10)
    recent = now - timedelta(days=2)
    for start in (old, recent):
        repo.commit("clock-in", start.isoformat())
        repo.commit("clock-out", (start + timedelta(hours=1)).isoformat())
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--tz", "UTC",
                                       "--since", "3 days ago", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    starts = [s["start"] for s in document["sessions"]]
    assert starts == [recent.isoformat()], starts
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--tz", "UTC",
                                       "--until", "1 week ago", "--format", "json"])
    assert [s["start"] for s in json.loads(result.stdout)["sessions"]] == [old.isoformat()]


def test_report_names_the_forms_for_a_bad_date(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00-05:00")
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--since", "someday"])
    assert result.exit_code == 2
    assert "not a date: 'someday'" in result.stderr and "3 days ago" in result.stderr
