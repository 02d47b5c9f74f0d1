"""The timeclock export: hledger's balance equals the table's hours, midnights and zones included."""

import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from hourly_hooks.cli import main

ZONES = ["UTC", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Europe/Paris"]
needs_hledger = pytest.mark.skipif(not shutil.which("hledger"), reason="hledger is not installed")


def run(repo, *args):
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def nights(tmp_path_factory):
    """Sixty sessions of odd lengths by two people, most across a midnight somewhere,
    some over a DST change, a few longer than a day."""
    from gitrepo import GitRepo, isolated_env

    base = tmp_path_factory.mktemp("nights")
    repo = GitRepo(base / "work", env=isolated_env(base))
    start = datetime(2026, 3, 5, 20, 17, 13, tzinfo=timezone.utc)
    for index in range(60):
        length = timedelta(seconds=3 * 3600 + 1777 * index % 14400 + 7 * index)
        if index % 17 == 0:
            length += timedelta(hours=26)
        who = ("Alice Martin", "alice@example.com") if index % 2 else ("Bob Ng", "bob@example.com")
        repo.commit("clock-in", start.isoformat(), name=who[0], email=who[1])
        repo.commit("clock-out", (start + length).isoformat(), name=who[0], email=who[1])
        start += length + timedelta(hours=9, minutes=13 * index % 300, seconds=index)
    return repo


def _table_hours(repo, *args):
    return json.loads(run(repo, *args, "--format", "json").stdout)["total"]["hours"]


def _pieces(text):
    comment, *lines = text.splitlines()
    assert comment.startswith("; period: ") and len(lines) % 2 == 0
    for clock_in, clock_out in zip(lines[::2], lines[1::2]):
        begin = datetime.strptime(clock_in[2:21], "%Y/%m/%d %H:%M:%S")
        assert clock_out.startswith("o ")
        end = datetime.strptime(clock_out[2:21], "%Y/%m/%d %H:%M:%S")
        yield begin, end


@pytest.mark.parametrize("zone", ZONES)
def test_every_piece_is_within_a_day_and_whole_hundredths(nights, zone):
    text = run(nights, "--tz", zone, "--format", "timeclock").stdout
    pieces = list(_pieces(text))
    assert len(pieces) > 60  # the midnights cut sessions in two or more
    seconds = 0
    for begin, end in pieces:
        assert begin.date() == end.date() and end.time() <= datetime.strptime("23:59:59", "%H:%M:%S").time()
        assert (end - begin).total_seconds() % 36 == 0
        seconds += (end - begin).total_seconds()
    assert f"{seconds / 3600:.2f}" == _table_hours(nights, "--tz", zone)


@needs_hledger
@pytest.mark.parametrize("zone", ZONES)
def test_hledger_balance_equals_the_table_hours(nights, zone, tmp_path):
    target = tmp_path / "work.timeclock"
    run(nights, "--tz", zone, "--format", "timeclock", "-o", str(target))
    balance = subprocess.run(["hledger", "-f", str(target), "balance", "-N", "--output-format", "csv"],
                             capture_output=True, text=True, check=True).stdout
    hours = [float(h) for h in re.findall(r'"([0-9.]+)h"', balance)]
    assert len(hours) == 2  # one account each
    assert f"{sum(hours):.2f}" == _table_hours(nights, "--tz", zone)
    total = subprocess.run(["hledger", "-f", str(target), "balance", "--output-format", "csv"],
                           capture_output=True, text=True, check=True).stdout
    assert f'"total","{_table_hours(nights, "--tz", zone)}h"' in total


@needs_hledger
def test_rounded_sessions_total_in_hledger(nights, tmp_path):
    target = tmp_path / "work.timeclock"
    args = ("--tz", "America/New_York", "--round", "10m")
    run(nights, *args, "--format", "timeclock", "-o", str(target))
    total = subprocess.run(["hledger", "-f", str(target), "balance", "--output-format", "csv"],
                           capture_output=True, text=True, check=True).stdout
    assert f'"total","{_table_hours(nights, *args)}h"' in total


def test_a_name_hledger_will_not_read_gets_a_warning(nights, tmp_path):
    quiet = run(nights, "--format", "timeclock", "-o", str(tmp_path / "work.timeclock"))
    assert "warning" not in quiet.stderr.lower()
    loud = run(nights, "--format", "timeclock", "-o", str(tmp_path / "work.txt"))
    assert "Warning:" in loud.stderr and ".timeclock" in loud.stderr
    assert (tmp_path / "work.txt").read_text().split("\n")[1].startswith("i ")
