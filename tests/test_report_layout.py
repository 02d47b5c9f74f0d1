"""What `hourly report` shows a reader: an 80-column table (the full one behind --wide), the
period stated in every format, anomalies counted by kind, CSV that spreadsheets read, the CI check."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from decimal import Decimal

import pytest
from click.testing import CliRunner

from hourly_hooks.cli import main


def report(repo, *args):
    return CliRunner().invoke(main, ["report", "--repo", str(repo.path), *args])


def width(text: str) -> int:  # terminal columns, computed here apart from the code under test
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


LONG = "Émile Brontë-Zoëga de la Fontaine-Montgolfier-Saint-Exupéry"
PEOPLE = [(LONG, "emile@example.fr"), ("山田太郎", "taro@example.jp"), ("Bob Okafor", "bob@example.org")]


@pytest.fixture
def crew(repo):
    """Three people, three currencies, a long note, a session over midnight."""
    (repo.path / ".hourly.toml").write_text(
        '[rates]\ndefault = "100 USD"\n"taro@example.jp" = "12000 JPY"\n"bob@example.org" = "0.0015 BTC"\n')
    for day, (name, email) in enumerate(PEOPLE, start=2):
        repo.commit("clock-in", f"2026-03-0{day}T09:00:00+00:00", name=name, email=email)
        note = "reviewed the whole migration plan with the client and wrote it all up" if day == 2 else ""
        repo.commit(f"clock-out: {note}".rstrip(": "), f"2026-03-0{day}T11:30:00+00:00", name=name, email=email)
    repo.commit("clock-in", "2026-03-05T22:00:00+00:00", name="Bob Okafor", email="bob@example.org")
    repo.commit("clock-out", "2026-03-06T01:00:00+00:00", name="Bob Okafor", email="bob@example.org")
    return repo


def test_the_default_table_fits_80_columns_with_long_names_and_three_currencies(crew):
    result = report(crew, "--all", "--tz", "UTC")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(width(line) for line in lines) <= 80, result.stdout
    header = next(line for line in lines if line.startswith("Date"))
    rows = [line for line in lines if line[:4] == "2026"]
    assert len(rows) == 4
    # Hours and Amount are right-aligned: every row ends them at the header's column.
    for column in ("Hours", "Amount"):
        end = width(header[:header.index(column) + len(column)])
        for row in rows:
            assert any(width(row[:i]) == end and row[i - 1].isdigit() or
                       width(row[:i]) == end and row[i - 3:i].isalpha() for i in range(1, len(row) + 1)), (column, row)
    assert "山田太郎" in result.stdout and "Bob Okafor" in result.stdout
    assert "Émile Brontë" in result.stdout and "…" in result.stdout  # the long name and note are cut
    assert "2026-03-05  22:00-01:00+1d" in result.stdout  # over midnight
    assert "250.00 USD" in result.stdout and "30000 JPY" in result.stdout and "0.00375000 BTC" in result.stdout
    assert "emile@example.fr" not in result.stdout  # the identity's email is for --wide


def test_wide_keeps_the_full_layout(crew):
    result = report(crew, "--all", "--tz", "UTC", "--wide")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert max(width(line) for line in lines) > 80
    assert f"{LONG} <emile@example.fr>" in result.stdout
    assert "2026-03-02 09:00:00 +00:00  2026-03-02 11:30:00 +00:00" in result.stdout
    assert "reviewed the whole migration plan with the client and wrote it all up" in result.stdout
    header = next(line for line in lines if line.startswith("Author"))
    start = width(header[:header.index("Start")])
    for line in lines[3:7]:  # names in three scripts: Start begins at one screen column on every row
        assert any(width(line[:i]) == start and line[i:].startswith("2026-") for i in range(len(line))), line


SINCE, UNTIL = "2026-03-01T00:00:00+00:00", "2026-04-01T00:00:00+00:00"  # whole days, as instants


@pytest.mark.parametrize("fmt, first", [
    ("table", "Period: 2026-03-01 to 2026-03-31 (times in UTC)"),
    ("markdown", "**Period:** 2026-03-01 to 2026-03-31"),
    ("csv", "# period: 2026-03-01 to 2026-03-31"),
    ("timeclock", "; period: 2026-03-01 to 2026-03-31"),
])
def test_every_format_states_the_period_on_its_first_line(crew, fmt, first):
    result = report(crew, "--since", SINCE, "--until", UNTIL, "--tz", "UTC", "--format", fmt)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    if fmt == "markdown":  # the timesheet's document header comes first, then the period, then the rows
        assert lines[0].startswith("# Timesheet ")
        lines = [line for line in lines if line.startswith(("**Period:**", "| Start"))]
    assert lines[0] == first


def test_json_carries_the_period_with_an_exclusive_end(crew):
    result = report(crew, "--since", SINCE, "--until", UNTIL, "--tz", "America/New_York", "--format", "json")
    document = json.loads(result.stdout)
    assert document["period"] == {"start": "2026-02-28T19:00:00-05:00", "end": "2026-03-31T20:00:00-04:00",
                                  "text": "2026-02-28 19:00 -05:00 until 2026-03-31 20:00 -04:00"}
    everything = json.loads(report(crew, "--all", "--format", "json").stdout)
    assert everything["period"] == {"start": None, "end": None, "text": "all history"}


def test_a_bound_that_is_not_a_midnight_reads_as_an_instant(crew):
    result = report(crew, "--since", "2026-03-02T09:30:00+00:00", "--until", UNTIL, "--tz", "UTC")
    assert result.stdout.splitlines()[0] == "Period: 2026-03-02 09:30 +00:00 to 2026-03-31 (times in UTC)"
    one_day = report(crew, "--since", "2026-03-02T00:00:00+00:00", "--until", "2026-03-03T00:00:00+00:00",
                     "--tz", "UTC", "--format", "csv")
    assert one_day.stdout.splitlines()[0] == "# period: 2026-03-02"


def test_csv_times_are_spreadsheet_date_times_with_the_zone_beside_them(crew):
    result = report(crew, "--all", "--tz", "America/New_York", "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    rows = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    assert [(r["start"], r["end"], r["zone"]) for r in rows][0] == \
        ("2026-03-02 04:00:00", "2026-03-02 06:30:00", "America/New_York")
    assert sum(Decimal(r["hours"]) for r in rows) == Decimal("10.50")  # the rows add up to the total
    totals = json.loads(report(crew, "--all", "--format", "json").stdout)["total"]
    assert totals["hours"] == "10.50"


@pytest.fixture
def stray(repo):
    """A good session and four clock-outs that close nothing: anomalies of one kind."""
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-02T10:00:00+00:00")
    return [repo.commit("clock-out", f"2026-03-0{day}T10:00:00+00:00") for day in (3, 4, 5, 6)] and repo


def test_anomalies_are_counted_by_kind_and_listed_on_request(stray):
    result = report(stray, "--all")
    assert result.exit_code == 0
    err = result.stderr.splitlines()
    assert err[0] == "4 anomalies (not billed):"
    kind_line = err[1].split()
    assert kind_line[0] == "4" and len(kind_line) == 2  # one line per kind, with its count
    assert "--anomalies" in err[2] and len(err) == 3
    shas = stray.git("log", "--format=%H", "-4").split()
    assert not any(sha[:10] in result.stderr for sha in shas)
    listed = report(stray, "--all", "--anomalies")
    assert all(sha[:10] in listed.stderr for sha in shas) and listed.exit_code == 0
    strict = report(stray, "--all", "--strict")
    assert strict.exit_code == 1 and all(sha[:10] in strict.stderr for sha in shas)


def test_the_ci_check_prints_the_anomalies_and_the_verdict_not_the_timesheet(stray, repo):
    result = report(stray, "--all", "--strict", "--check", "--rate", "100 USD")
    assert result.exit_code == 1
    assert "1.00" not in result.stdout and "USD" not in result.stdout + result.stderr
    assert result.stdout.strip() == "hourly: FAILED 4 anomalies in 1 session(s), all history"
    assert "without a clock-in" in result.stderr
    clean = report(stray, "--since", "2026-03-02T00:00:00+00:00", "--until", "2026-03-03T00:00:00+00:00",
                   "--strict", "--check")
    assert clean.exit_code == 0, clean.output
    assert clean.stdout.strip() == "hourly: OK, no anomalies in 1 session(s), 2026-03-02"


@pytest.mark.parametrize("bounds, text", [
    (("--since", "2026-03-03T00:00:00+00:00"), "from 2026-03-03"),
    (("--since", "2026-03-03T12:00:05+00:00"), "from 2026-03-03 12:00:05 +00:00"),
    (("--until", "2026-03-04T00:00:00+00:00"), "up to 2026-03-03"),
    (("--until", "2026-03-04T09:30:00+00:00"), "until 2026-03-04 09:30 +00:00"),
])
def test_a_period_open_at_one_end_says_so(crew, bounds, text):
    document = json.loads(report(crew, *bounds, "--tz", "UTC", "--format", "json").stdout)
    assert document["period"]["text"] == text
    assert (document["period"]["start"] is None) == (bounds[0] == "--until")
    assert (document["period"]["end"] is None) == (bounds[0] == "--since")


def test_a_group_in_three_currencies_lists_them_one_under_another(crew):
    lines = report(crew, "--all", "--tz", "UTC", "--by", "week").stdout.splitlines()
    assert max(width(line) for line in lines) <= 80
    start = next(i for i, line in enumerate(lines) if line.startswith("2026-W10"))
    assert lines[start].endswith("  4  10:30:00  10.50  0.00825000 BTC")
    more = lines[start + 1:start + 3]  # right-aligned under the first, nothing else on their lines
    assert [line.strip() for line in more] == ["30000 JPY", "250.00 USD"]
    assert {len(line) for line in more} == {len(lines[start])}
    wide = report(crew, "--all", "--tz", "UTC", "--by", "week", "--wide").stdout
    assert "10.50  0.00825000 BTC, 30000 JPY, 250.00 USD" in wide
