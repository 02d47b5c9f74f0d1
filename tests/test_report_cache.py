"""Remembered reports (report_cache): the same report on an unchanged history is printed again
without reading it, and never once anything it depends on has changed."""

from __future__ import annotations

import dataclasses
import json
import random
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from gitrepo import GitRepo
from hourly_hooks import report_cache
from hourly_hooks.cli import main
from hourly_hooks.money import Rate, Rounding
from hourly_hooks.repository import Repository
from hourly_hooks.timesheet import Rates, Selection


def hourly(repo, *args, env=None):
    return CliRunner().invoke(main, ["report", "--repo", str(repo.path), *args], env=env)


def reports(repo) -> Path:
    return Path(repo.path) / ".git" / "hourly" / "reports"


def entries(repo) -> set:
    folder = reports(repo)
    return set(p.name for p in folder.iterdir()) if folder.exists() else set()


def store_file(repo) -> Path:
    return Path(repo.path) / ".git" / "hourly" / "markers.sqlite3"


@pytest.fixture
def week(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+01:00")
    repo.commit("clock-out", "2026-03-02T12:30:00+01:00")
    repo.commit("clock-in", "2026-03-03T09:00:00+01:00", name="Bob", email="bob@example.com")
    repo.commit("clock-out", "2026-03-03T10:00:00+01:00", name="Bob", email="bob@example.com")
    repo.commit("clock-in", "2026-03-04T09:00:00+01:00")
    repo.commit("clock-in", "2026-03-04T10:00:00+01:00")  # an anomaly, said on stderr
    repo.commit("clock-out", "2026-03-04T11:00:00+01:00")
    return repo


def test_the_same_report_is_printed_again_without_reading_the_history(week):
    first = hourly(week, "--format", "json", "--rate", "100 USD")
    assert first.exit_code == 0 and "clock-in-while-clocked-in" in first.stderr
    assert len(entries(week)) == 1
    store_file(week).unlink()  # were the history read again, the store would be made again
    again = hourly(week, "--format", "json", "--rate", "100 USD")
    assert (again.exit_code, again.stdout, again.stderr) == (first.exit_code, first.stdout, first.stderr)
    assert not store_file(week).exists()
    assert json.loads(again.stdout)["total"]["amount"] == "550.00"
    # One more marker: the tips changed, so the report is read and computed again.
    week.commit("clock-in", "2026-03-05T09:00:00+01:00")
    week.commit("clock-out", "2026-03-05T10:00:00+01:00")
    later = hourly(week, "--format", "json", "--rate", "100 USD")
    assert json.loads(later.stdout)["total"]["amount"] == "650.00"
    assert store_file(week).exists() and len(entries(week)) == 2


def test_strict_and_output_files_come_out_the_same_from_a_remembered_report(week, tmp_path):
    for _ in range(2):  # computed, then remembered
        strict = hourly(week, "--strict")
        assert strict.exit_code == 1 and "1 anomalies in the period" in strict.stderr
        written = hourly(week, "--format", "csv", "-o", str(tmp_path / "week.csv"))
        assert written.exit_code == 0 and "Wrote 3 session(s)" in written.stderr
        assert (tmp_path / "week.csv").read_text().count("\n") == 4
        ignored = hourly(week, "--ignore", "nothing-matches", "--ignore", "clock-in")
        assert "Ignored 3 session(s) matching 'nothing-matches', 'clock-in'." in ignored.stderr
    assert len(entries(week)) == 3


@pytest.mark.parametrize("args, config", [
    (["--chart"], ""),
    (["--worklog"], ""),
    (["--format", "html", "-o", "week.html"], ""),
    ([], "budget = \"40h/week\"\n"),
])
def test_reports_that_read_more_than_the_markers_are_computed_every_time(week, args, config, monkeypatch):
    if config:
        (Path(week.path) / ".hourly.toml").write_text(config)
    monkeypatch.chdir(week.path)
    for _ in range(2):
        assert hourly(week, *args).exit_code == 0
    assert entries(week) == set()


def test_nothing_is_remembered_without_the_store(week):
    assert hourly(week, env={"HOURLY_NO_CACHE": "1"}).exit_code == 0
    assert entries(week) == set()


def test_a_damaged_entry_is_a_miss_and_is_replaced(week):
    first = hourly(week, "--format", "json")
    (name,) = entries(week)
    path = reports(week) / name
    path.write_bytes(path.read_bytes()[:-10])
    again = hourly(week, "--format", "json")
    assert again.stdout == first.stdout
    assert path.read_bytes().endswith(first.stdout.encode())


def test_only_the_newest_entries_are_kept(week):
    for hour in range(report_cache.KEEP + 3):
        assert hourly(week, "--since", f"2026-03-01T{hour:02d}:00:00+00:00").exit_code == 0
    assert len(entries(week)) == report_cache.KEEP


# ---------------------------------------------------------------- the key

class _Odd(tzinfo):
    def utcoffset(self, moment):
        return timedelta(hours=1)


BASE = Selection(tz=ZoneInfo("UTC"))
# Every field of Selection, each with another value a report would show differently.
VARIANTS = {
    "tz": [ZoneInfo("Europe/Paris"), timezone.utc, timezone(timedelta(hours=1))],
    "since": [datetime(2026, 3, 3, tzinfo=timezone.utc), datetime(2026, 3, 3, 1, tzinfo=ZoneInfo("Europe/Paris"))],
    "until": [datetime(2026, 3, 4, tzinfo=timezone.utc)],
    "ignore": [("standup",), ("standup", "lunch")],
    "exclude": [("abc123",)],
    "rates": [Rates(default=Rate(Decimal("100"), "USD")), Rates(default=Rate(Decimal("100.00"), "USD")),
              Rates(default=Rate(Decimal("100"), "EUR")),
              Rates(default=Rate(Decimal("100"), "USD"), by_identity={"bob@example.com": Rate(Decimal("90"), "USD")})],
    "rounding": [Rounding(900, "up"), Rounding(900, "nearest"), Rounding(360, "up")],
    "identity": ["name", "name+email"],
    "max_session": [timedelta(hours=12), None],
    "allow_long": [("abc123",)],
}


def test_every_field_of_the_selection_is_in_the_key(week):
    assert set(VARIANTS) == {f.name for f in dataclasses.fields(Selection)}  # a new field needs a variant here
    repo = Repository(str(week.path))
    keys = [report_cache.Entry.for_report(repo, False, (), BASE, ("json", "session")).key]
    for name, values in VARIANTS.items():
        for value in values:
            keys.append(report_cache.Entry.for_report(repo, False, (), dataclasses.replace(BASE, **{name: value}),
                                                      ("json", "session")).key)
    assert len(set(keys)) == len(keys)


def test_the_scope_output_and_ledger_are_in_the_key(week):
    repo = Repository(str(week.path))

    def key(all_refs=False, authors=(), output=("json", "session")):
        return report_cache.Entry.for_report(Repository(str(week.path)), all_refs, authors, BASE, output).key

    keys = [key(), key(all_refs=True), key(authors=("bob",)), key(authors=("bob", "alice")),
            key(output=("csv", "session")), key(output=("json", "day"))]
    ledger = Path(repo.common_dir) / "hourly" / "invoices.jsonl"
    ledger.parent.mkdir(parents=True, exist_ok=True)
    ledger.write_text('{"event": "pending", "order_id": "hourly-1"}\n')
    keys.append(key())
    ledger.write_text('{"event": "pending", "order_id": "hourly-2"}\n')  # same size, other content
    keys.append(key())
    (Path(week.path) / ".mailmap").write_text("Bobby <bob@example.com> Bob <bob@example.com>\n")
    keys.append(key())
    week.git("branch", "side")
    keys.append(key(all_refs=True))  # one more ref, the same commits: a new key all the same
    week.commit("work", "2026-03-06T09:00:00+01:00")
    keys.append(key())
    assert len(set(keys)) == len(keys)
    assert key() == key()


def test_a_value_the_key_cannot_name_makes_the_report_uncacheable(week):
    repo = Repository(str(week.path))
    assert report_cache.Entry.for_report(repo, False, (), dataclasses.replace(BASE, tz=_Odd()), ("json", "session")) \
        is None
    with pytest.raises(report_cache.Uncacheable):
        report_cache.canonical(object())


def test_hourly_s_own_code_is_in_the_key(tmp_path, monkeypatch):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(report_cache, "__file__", str(package / "report_cache.py"))
    monkeypatch.setattr(report_cache, "_CODE", [])
    before = report_cache.code_digest()
    (package / "a.py").write_text("x = 2\n")
    monkeypatch.setattr(report_cache, "_CODE", [])
    assert report_cache.code_digest() != before


# ---------------------------------------------------------------- the proof

PEOPLE = [("Alice Martin", "alice@example.com"), ("Bob", "bob@example.com")]
CLOCK_INS = ["clock-in", "clock-in: T-15m", "work\n\nClock: in"]
CLOCK_OUTS = ["clock-out", "clock-out -- standup", "clock-out lunch", "work\n\nClock: out"]
MESSAGES = CLOCK_INS + CLOCK_OUTS + ["clock  in", "work"]
CONFIGS = ['rates.default = "100 USD"\n', 'tz = "Asia/Kolkata"\n', 'round = "15m"\n', 'identity = "name"\n',
           'max_session = "2h"\n', 'ignore = ["lunch"]\n', 'rates.default = "80 EUR"\nround = "6m nearest"\n', ""]
FLAGS = [[], ["--all"], ["--format", "json"], ["--format", "csv"], ["--format", "markdown"],
         ["--format", "timeclock"], ["--by", "day"], ["--by", "author", "--format", "json"], ["--tz", "UTC"],
         ["--rate", "50 USD"], ["--since", "2025-02-02"], ["--until", "2025-02-03", "--all"],
         ["--ignore", "standup"], ["--author", "bob"], ["--strict"], ["--round", "30m", "--round-mode", "down"]]


def test_a_remembered_report_never_differs_from_one_computed_anew(tmp_path):
    """Random commits, amends, resets, branches, configuration and mailmap changes, and
    invoices held in the ledger: after every step, the JSON report and two with random
    flags (each run twice, so the second is remembered, and often the first: a step that
    changes no commit keeps the tips) print what the same report prints without any store,
    byte for byte, with the same exit status."""
    rng = random.Random(11)
    repo = GitRepo(tmp_path / "r")
    minutes = [0]

    def when():
        minutes[0] += 41
        total = minutes[0]
        return f"2025-02-{1 + total // 1440:02d}T{total % 1440 // 60:02d}:{total % 60:02d}:00+01:00"

    repo.commit("clock-in", when())
    remembered = compared = 0
    mapped = False
    clocked: dict = {}
    for step in range(45):
        action = rng.choice(["commit"] * 4 + ["amend", "reset", "branch", "config", "mailmap", "ledger"])
        if action == "commit":  # mostly each person's next clock event, sometimes anything
            name, email = rng.choice(PEOPLE)
            usual = CLOCK_OUTS if clocked.get(email) else CLOCK_INS
            message = rng.choice(usual if rng.random() < 0.8 else MESSAGES)
            clocked[email] = message in CLOCK_INS or (clocked.get(email) and message not in CLOCK_OUTS)
            repo.commit(message, when(), name=name, email=email)
        elif action == "amend":
            repo.git("commit", "-q", "--amend", "--no-verify", "--allow-empty", "-m", rng.choice(MESSAGES))
        elif action == "reset" and int(repo.git("rev-list", "--count", "HEAD")) > 2:
            repo.git("reset", "-q", "--hard", "HEAD~1")
        elif action == "branch":
            repo.git("checkout", "-q", "-B", rng.choice(["main", "side"]))
        elif action == "config":
            (repo.path / ".hourly.toml").write_text(rng.choice(CONFIGS))
        elif action == "mailmap":
            mapped = not mapped  # Bob's commits become Alice's, or his again
            (repo.path / ".mailmap").write_text("Alice Martin <alice@example.com> <bob@example.com>\n"
                                                if mapped else "")
        elif action == "ledger":  # an invoice (still pending) holding the last twelve hours
            end = int(datetime(2025, 2, 1, tzinfo=timezone(timedelta(hours=1))).timestamp()) + minutes[0] * 60
            ledger = repo.path / ".git" / "hourly" / "invoices.jsonl"
            ledger.parent.mkdir(parents=True, exist_ok=True)
            with ledger.open("a") as handle:
                handle.write(json.dumps({"event": "pending", "order_id": f"hourly-{step:024d}", "backend": None,
                                         "host": "http://127.0.0.1:9", "store_id": None,
                                         "time": {"alice@example.com": [[end - 12 * 3600, end]]},
                                         "at": "2025-03-01T00:00:00+00:00"}) + "\n")
        # The whole JSON document after every step (it shows every input: invoices, amounts,
        # anomalies), then two random reports.
        for flags in [["--format", "json", "--all"]] + rng.sample(FLAGS, 2):
            fresh = hourly(repo, *flags, env={"HOURLY_NO_CACHE": "1"})
            assert fresh.exit_code in (0, 1), fresh.output + fresh.stderr
            for _ in range(2):
                before = entries(repo)
                shown = hourly(repo, *flags)
                if before and entries(repo) == before:
                    remembered += 1
                assert (shown.exit_code, shown.stdout, shown.stderr) == \
                    (fresh.exit_code, fresh.stdout, fresh.stderr), (step, action, flags)
                compared += 1
    assert remembered > 60 and compared == 270


def test_code_that_cannot_be_listed_makes_reports_uncacheable(tmp_path, monkeypatch):
    monkeypatch.setattr(report_cache, "__file__", str(tmp_path / "hourly.zip" / "hourly_hooks" / "report_cache.py"))
    monkeypatch.setattr(report_cache, "_CODE", [])
    with pytest.raises(report_cache.Uncacheable):
        report_cache.code_digest()
