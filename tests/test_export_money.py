"""Money and time in exports: a CSV group that mixes currencies is one row per currency,
and the timeclock export writes only wall times that exist, across both 2026 US DST
changes, with hledger's hours equal to the table's."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from collections import defaultdict
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from gitrepo import GitRepo
from hourly_hooks.cli import main

NEW_YORK = ZoneInfo("America/New_York")
needs_hledger = pytest.mark.skipif(not shutil.which("hledger"), reason="hledger is not installed")
ALICE = {"name": "Alice", "email": "alice@example.com"}
BOB = {"name": "Bob", "email": "bob@example.com"}
CAROL = {"name": "Carol", "email": "carol@example.com"}


def report(repo, *args) -> str:
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), *args])
    assert result.exit_code == 0, (result.output, result.stderr)
    return result.stdout


# -- CSV --by: one row per currency ---------------------------------------------------------

@pytest.fixture
def currencies(tmp_path):
    """Alice bills USD, Bob EUR, Carol has no rate; on the same days, weeks and months."""
    repo = GitRepo(tmp_path / "mixed")
    (repo.path / ".hourly.toml").write_text('[rates]\n"alice@example.com" = "100 USD"\n'
                                            '"bob@example.com" = "90.50 EUR"\n')
    for day in (2, 3, 10):
        repo.commit("clock-in", f"2026-02-{day:02d}T09:00:00+00:00", **ALICE)
        repo.commit("clock-out", f"2026-02-{day:02d}T10:20:00+00:00", **ALICE)
        repo.commit("clock-in", f"2026-02-{day:02d}T11:00:00+00:00", **BOB)
        repo.commit("clock-out", f"2026-02-{day:02d}T11:07:00+00:00", **BOB)
    repo.commit("clock-in", "2026-02-03T13:00:00+00:00", **CAROL)
    repo.commit("clock-out", "2026-02-03T13:40:00+00:00", **CAROL)
    repo.commit("clock-in", "2026-02-11T13:00:00+00:00", **BOB)   # a day in one currency
    repo.commit("clock-out", "2026-02-11T13:31:00+00:00", **BOB)
    return repo


def _csv_rows(repo, by):
    comment, text = report(repo, "--tz", "UTC", "--by", by, "--format", "csv").split("\n", 1)
    assert comment.startswith("# period: ")  # the period, then the header row
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("by", ["day", "week", "month", "repo"])
def test_a_group_in_two_currencies_is_a_row_per_currency_and_rows_add_up(currencies, by):
    rows = _csv_rows(currencies, by)
    total = json.loads(report(currencies, "--tz", "UTC", "--format", "json"))["total"]
    assert all(row["amount"] == "" if row["currency"] == "" else row["amount"] for row in rows)
    amounts = defaultdict(Decimal)
    for row in rows:
        if row["currency"]:
            amounts[row["currency"]] += Decimal(row["amount"])
    assert {c: str(a) for c, a in amounts.items()} == total["amounts"] == {"USD": "400.00", "EUR": "78.43"}
    assert sum(Decimal(row["hours"]) for row in rows) == Decimal(total["hours"])
    assert sum(int(row["seconds"]) for row in rows) == total["seconds"]
    assert sum(int(row["sessions"]) for row in rows) == total["sessions"] == 8
    keys = [row[by] for row in rows]
    assert len(set(keys)) < len(keys)  # some group is written as several rows


def test_a_day_per_currency_as_the_table_shows_it(currencies):
    rows = [row for row in _csv_rows(currencies, "day") if row["day"] == "2026-02-03"]
    assert [(r["currency"], r["sessions"], r["seconds"], r["hours"], r["amount"]) for r in rows] == [
        ("", "1", "2400", "0.67", ""), ("EUR", "1", "420", "0.12", "10.56"), ("USD", "1", "4800", "1.33", "133.33")]
    table = report(currencies, "--tz", "UTC", "--by", "day")
    assert re.search(r"2026-02-03\s+3\s+2:07:00\s+2\.12\s+10\.56 EUR\n +133\.33 USD\n", table), table
    wide = report(currencies, "--tz", "UTC", "--by", "day", "--wide")
    assert re.search(r"2026-02-03\s+3\s+2:07:00\s+2\.12\s+10\.56 EUR, 133\.33 USD", wide), wide
    [bob_only] = [row for row in _csv_rows(currencies, "day") if row["day"] == "2026-02-11"]
    assert (bob_only["amount"], bob_only["currency"]) == ("46.75", "EUR")


def test_a_group_in_one_currency_and_unpriced_time_stays_one_row(tmp_path):
    repo = GitRepo(tmp_path / "one")
    (repo.path / ".hourly.toml").write_text('[rates]\n"alice@example.com" = "100 USD"\n')
    repo.commit("clock-in", "2026-02-02T09:00:00+00:00", **ALICE)
    repo.commit("clock-out", "2026-02-02T10:00:00+00:00", **ALICE)
    repo.commit("clock-in", "2026-02-02T11:00:00+00:00", **CAROL)
    repo.commit("clock-out", "2026-02-02T11:30:00+00:00", **CAROL)
    [row] = _csv_rows(repo, "day")
    assert (row["sessions"], row["hours"], row["amount"], row["currency"]) == ("2", "1.50", "100.00", "USD")


# -- timeclock across DST ---------------------------------------------------------------------

# (who, clock-in, clock-out): real lengths 3:30, 1:00, 2:00, 1:10 and 0:50.
DST_SESSIONS = [
    (ALICE, "2026-03-07T23:30:00-05:00", "2026-03-08T04:00:00-04:00"),  # midnight, then the skipped hour
    (BOB, "2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"),    # across the skipped hour
    (ALICE, "2026-11-01T00:30:00-04:00", "2026-11-01T01:30:00-05:00"),  # through the repeated hour twice
    (BOB, "2026-11-01T01:10:00-04:00", "2026-11-01T01:20:00-05:00"),    # from its first pass to its second
    (BOB, "2026-11-01T01:25:00-05:00", "2026-11-01T02:15:00-05:00"),    # from its second pass
]


@pytest.fixture(scope="module")
def dst(tmp_path_factory):
    from gitrepo import isolated_env

    base = tmp_path_factory.mktemp("dst")
    repo = GitRepo(base / "dst", env=isolated_env(base))
    for who, start, end in DST_SESSIONS:
        repo.commit("clock-in", start, **who)
        repo.commit("clock-out", end, **who)
    return repo


def _entries(text):
    comment, *lines = text.splitlines()
    assert comment.startswith("; period: ") and len(lines) % 2 == 0
    for clock_in, clock_out in zip(lines[::2], lines[1::2]):
        assert clock_in.startswith("i ") and clock_out.startswith("o ")
        yield (datetime.strptime(clock_in[2:21], "%Y/%m/%d %H:%M:%S"),
               datetime.strptime(clock_out[2:21], "%Y/%m/%d %H:%M:%S"), clock_in[22:].split()[0])


def _exists(wall: datetime, tz) -> bool:
    """Whether a wall-clock time happens in tz (not in the hour skipped in spring)."""
    return any(wall.replace(tzinfo=tz, fold=fold).astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None)
               == wall for fold in (0, 1))


def test_exists_tells_the_skipped_hour():
    assert not _exists(datetime(2026, 3, 8, 2, 30), NEW_YORK)
    assert _exists(datetime(2026, 3, 8, 3, 0), NEW_YORK) and _exists(datetime(2026, 11, 1, 1, 30), NEW_YORK)


def test_timeclock_writes_only_wall_times_that_exist(dst):
    entries = list(_entries(report(dst, "--tz", "America/New_York", "--format", "timeclock")))
    assert [(b, e) for b, e, _ in entries if not (_exists(b, NEW_YORK) and _exists(e, NEW_YORK))] == []
    for begin, end, _ in entries:
        assert begin.date() == end.date() and (end - begin).total_seconds() % 36 == 0


def test_timeclock_hours_per_person_equal_the_table_across_both_changes(dst):
    entries = list(_entries(report(dst, "--tz", "America/New_York", "--format", "timeclock")))
    seconds = defaultdict(float)
    for begin, end, account in entries:
        seconds[account.rsplit(":", 1)[1]] += (end - begin).total_seconds()
    assert {who: seconds[who] / 3600 for who in seconds} == {"Alice": 5.5, "Bob": 3.0}
    starts = {b for b, _, _ in entries}
    # each session starts where it did on the wall clock, the repeated hour's second pass too
    assert {datetime(2026, 3, 8, 1, 30), datetime(2026, 11, 1, 1, 10), datetime(2026, 11, 1, 1, 25)} <= starts


@needs_hledger
@pytest.mark.parametrize("zone", ["America/New_York", "UTC", "Europe/Paris"])
def test_hledger_reads_the_table_hours_across_both_changes(dst, zone, tmp_path):
    target = tmp_path / "dst.timeclock"
    report(dst, "--tz", zone, "--format", "timeclock", "-o", str(target))
    balance = subprocess.run(["hledger", "-f", str(target), "balance", "-N", "--output-format", "csv"],
                             capture_output=True, text=True, check=True).stdout
    hours = dict(re.findall(r'"dst:(\w+)","([0-9.]+)h"', balance))
    table = json.loads(report(dst, "--tz", zone, "--format", "json", "--by", "author"))["groups"]
    assert hours == {g["key"].split()[0]: g["hours"] for g in table} == {"Alice": "5.50", "Bob": "3.00"}
