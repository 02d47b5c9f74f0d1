"""A report read from the marker store prints what the same report read from git alone prints,
whatever happened to the history, its configuration and its ledger in between; and the reports
an older hourly remembered are cleared away without a word."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitrepo import GitRepo
from hourly_hooks.cli import main


def hourly(repo, *args, env=None):
    return CliRunner().invoke(main, ["report", "--repo", str(repo.path), *args], env=env)


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


@pytest.mark.parametrize("env", [None, {"HOURLY_NO_CACHE": "1"}], ids=["store", "git"])
def test_strict_output_files_and_ignored_sessions(week, tmp_path, env):
    strict = hourly(week, "--strict", env=env)
    assert strict.exit_code == 1 and "1 anomalies in the period" in strict.stderr
    written = hourly(week, "--format", "csv", "-o", str(tmp_path / "week.csv"), env=env)
    assert written.exit_code == 0 and "Wrote 3 session(s)" in written.stderr
    assert (tmp_path / "week.csv").read_text().count("\n") == 5  # the period comment, the header, 3 rows
    ignored = hourly(week, "--ignore", "nothing-matches", "--ignore", "clock-in", env=env)
    assert "Ignored 3 session(s) matching 'nothing-matches', 'clock-in'." in ignored.stderr
    assert store_file(week).exists() == (env is None)


def test_reports_an_older_version_remembered_are_deleted_quietly(week):
    """An earlier hourly kept reports under .git/hourly/reports/ (up to 64 MiB): nothing
    reads them now, and a damaged one is never printed (it was: 300.00 USD became 900.00)."""
    fresh = hourly(week, "--format", "json", "--rate", "100 USD", env={"HOURLY_NO_CACHE": "1"})
    folder = Path(week.path) / ".git" / "hourly" / "reports"
    folder.mkdir(parents=True)
    (folder / ("0" * 64)).write_text(fresh.stdout.replace("550.00", "1650.00"))
    shown = hourly(week, "--format", "json", "--rate", "100 USD")
    assert (shown.exit_code, shown.stdout, shown.stderr) == (fresh.exit_code, fresh.stdout, fresh.stderr)
    assert json.loads(shown.stdout)["total"]["amount"] == "550.00"
    assert not folder.exists() and store_file(week).exists()


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


def _step(repo, rng, action, state, when) -> None:
    """One random change: a commit (mostly each person's next clock event), an amend, a
    reset, a branch switch, a configuration or mailmap change, or an invoice in the ledger."""
    if action == "commit":
        name, email = rng.choice(PEOPLE)
        usual = CLOCK_OUTS if state.get(email) else CLOCK_INS
        message = rng.choice(usual if rng.random() < 0.8 else MESSAGES)
        state[email] = message in CLOCK_INS or (state.get(email) and message not in CLOCK_OUTS)
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
        state["mapped"] = not state.get("mapped")  # Bob's commits become Alice's, or his again
        (repo.path / ".mailmap").write_text("Alice Martin <alice@example.com> <bob@example.com>\n"
                                            if state["mapped"] else "")
    elif action == "ledger":  # an invoice (still pending) holding the last twelve hours
        end = int(datetime(2025, 2, 1, tzinfo=timezone(timedelta(hours=1))).timestamp()) + state["minutes"] * 60
        ledger = repo.path / ".git" / "hourly" / "invoices.jsonl"
        ledger.parent.mkdir(parents=True, exist_ok=True)
        state["invoices"] = state.get("invoices", 0) + 1
        with ledger.open("a") as handle:
            handle.write(json.dumps({"event": "pending", "order_id": f"hourly-{state['invoices']:024d}",
                                     "backend": None, "host": "http://127.0.0.1:9", "store_id": None,
                                     "time": {"alice@example.com": [[end - 12 * 3600, end]]},
                                     "at": "2025-03-01T00:00:00+00:00"}) + "\n")


def test_a_report_from_the_store_never_differs_from_one_read_from_git(tmp_path):
    """Random commits, amends, resets, branches, configuration and mailmap changes, and
    invoices held in the ledger: after every step, the JSON report and two with random
    flags print, from the store, what the same report prints without any store, byte for
    byte, with the same exit status."""
    rng = random.Random(11)
    repo = GitRepo(tmp_path / "r")
    state = {"minutes": 0}

    def when():
        state["minutes"] += 41
        total = state["minutes"]
        return f"2025-02-{1 + total // 1440:02d}T{total % 1440 // 60:02d}:{total % 60:02d}:00+01:00"

    repo.commit("clock-in", when())
    compared = 0
    for step in range(45):
        action = rng.choice(["commit"] * 4 + ["amend", "reset", "branch", "config", "mailmap", "ledger"])
        _step(repo, rng, action, state, when)
        # The whole JSON document after every step (it shows every input: invoices, amounts,
        # anomalies), then two random reports.
        for flags in [["--format", "json", "--all"]] + rng.sample(FLAGS, 2):
            fresh = hourly(repo, *flags, env={"HOURLY_NO_CACHE": "1"})
            assert fresh.exit_code in (0, 1), fresh.output + fresh.stderr
            shown = hourly(repo, *flags)
            assert (shown.exit_code, shown.stdout, shown.stderr) == \
                (fresh.exit_code, fresh.stdout, fresh.stderr), (step, action, flags)
            compared += 1
    assert compared == 135 and store_file(repo).exists()
