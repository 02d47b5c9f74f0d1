"""`hourly report` on real repositories: formats, grouping, periods, branches, mailmap, repos."""

import csv
import io
import json
import re
import os
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from gitrepo import GitRepo
from hourly_hooks.cli import main


def report(repo, *args, repos=None):
    targets = repos or [repo]
    flags = [a for r in targets for a in ("--repo", str(r.path))]
    return CliRunner().invoke(main, ["report", *flags, *args])


def jreport(repo, *args, repos=None):
    return report(repo, *args, *(() if "--format" in args else ("--format", "json")), repos=repos)


def doc(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def week(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00-05:00")
    repo.commit("work", "2026-03-02T10:00:00-05:00", files={"a": "1"})
    repo.commit("clock-out: T-30m", "2026-03-02T12:30:00-05:00")               # 3:00
    repo.commit("clock-in: evening", "2026-03-03T22:00:00-05:00")
    repo.commit("wrap up\n\nClock: out", "2026-03-04T01:30:00-05:00", files={"a": "2"})  # 3:30 over midnight
    repo.commit("clock-in", "2026-03-09T09:00:00-05:00")
    repo.commit("clock-out", "2026-03-09T09:20:00-05:00")                     # 0:20
    return repo


def csv_rows(text):
    """The CSV's rows, after its first line: the period, as a comment."""
    comment, rest = text.split("\n", 1)
    assert comment.startswith("# period: ")
    return list(csv.DictReader(io.StringIO(rest)))


def test_csv_has_one_row_per_session(week):
    rows = csv_rows(report(week, "--tz", "America/New_York", "--format", "csv", "--rate", "80 EUR").stdout)
    assert [r["seconds"] for r in rows] == ["10800", "12600", "1200"]
    assert [r["amount"] for r in rows] == ["240.00", "280.00", "26.67"]
    assert rows[1]["start"] == "2026-03-03 22:00:00" and rows[1]["zone"] == "America/New_York"
    assert rows[1]["note"] == "evening"


def test_session_across_midnight_belongs_to_the_day_of_its_clock_in(week):
    result = report(week, "--tz", "America/New_York", "--since", "2026-03-03", "--until", "2026-03-03",
                    "--format", "json")
    assert [s["seconds"] for s in doc(result)["sessions"]] == [12600]
    later = report(week, "--tz", "America/New_York", "--since", "2026-03-04", "--until", "2026-03-08",
                   "--format", "json")
    assert doc(later)["sessions"] == []


def test_by_day_week_and_month(week):
    by_day = doc(jreport(week, "--tz", "America/New_York", "--by", "day", "--format", "json"))["groups"]
    assert [(g["key"], g["seconds"]) for g in by_day] == [
        ("2026-03-02", 10800), ("2026-03-03", 12600), ("2026-03-09", 1200)]
    by_week = doc(jreport(week, "--tz", "America/New_York", "--by", "week", "--format", "json"))["groups"]
    assert [(g["key"], g["seconds"]) for g in by_week] == [
        ("2026-W10 (2026-03-02)", 23400), ("2026-W11 (2026-03-09)", 1200)]
    table = report(week, "--tz", "America/New_York", "--by", "month", "--rate", "100 USD").stdout
    assert "2026-03" in table and "683.33 USD" in table and "6:50:00" in table


def test_tz_changes_display_and_day_boundaries(week):
    # In Tokyo (+09:00) the evening session starts on 2026-03-04.
    by_day = doc(jreport(week, "--tz", "Asia/Tokyo", "--by", "day", "--format", "json"))["groups"]
    assert [g["key"] for g in by_day] == ["2026-03-02", "2026-03-04", "2026-03-09"]


def test_markdown_and_table_totals(week):
    text = report(week, "--tz", "UTC", "--format", "markdown", "--rate", "100 USD").stdout
    # The document's header, the period, then the rows.
    assert re.match(r"# Timesheet [0-9a-f]{12}\n", text) and "**Period:** all history\n\n| Start | End |" in text
    assert "**6:50:00, 6.83 hours worked**" in text and "**683.33 USD**" in text


def test_rounding_bills_the_rounded_hours_shown(week):
    result = doc(jreport(week, "--tz", "UTC", "--rate", "100 USD", "--round", "15m", "--format", "json"))
    assert [s["billed_seconds"] for s in result["sessions"]] == [10800, 12600, 1800]
    assert [s["hours"] for s in result["sessions"]] == ["3.00", "3.50", "0.50"]
    assert result["total"]["hours"] == "7.00" and result["total"]["amount"] == "700.00"
    down = doc(jreport(week, "--tz", "UTC", "--rate", "100 USD", "--round", "15m", "--round-mode", "down",
                      "--format", "json"))
    assert down["total"]["hours"] == "6.75"


def test_json_open_sessions_and_anomalies(repo):
    repo.commit("clock-out", "2026-03-01T08:00:00+00:00")
    repo.commit("clock-in", "2026-03-01T09:00:00+00:00")
    result = doc(jreport(repo))
    assert result["sessions"] == []
    assert result["open"][0]["end"] is None and result["open"][0]["in_commit"]
    (anomaly,) = result["anomalies"]
    assert anomaly["kind"] == "clock-out-without-clock-in" and len(anomaly["commits"]) == 1
    assert result["total"]["amount"] is None and result["total"]["currency"] is None


def test_anomalies_go_to_stderr_with_their_shas(repo):
    sha = repo.commit("clock-in: T-abc", "2026-03-01T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-01T10:00:00+00:00")
    result = report(repo, "--anomalies")
    assert result.exit_code == 0
    assert sha[:10] in result.stderr and "malformed offset T-abc" in result.stderr
    assert "1 malformed-offset" in report(repo).stderr  # without --anomalies: a count per kind
    assert sha[:10] not in result.stdout
    assert report(repo, "--strict").exit_code == 1


def test_all_branches_with_a_rebased_copy_count_once(repo):
    repo.commit("base", "2026-03-01T08:00:00+00:00", files={"f": "0"})
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("clock-in", "2026-03-01T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-01T10:00:00+00:00")
    repo.git("checkout", "-q", "main")
    repo.commit("other work", "2026-03-01T09:30:00+00:00", files={"g": "1"})
    # A rebased copy of the feature branch; the original branch stays around.
    repo.git("checkout", "-q", "-b", "feature-rebased", "feature")
    repo.git("rebase", "-q", "main", env={"GIT_COMMITTER_DATE": "2026-03-02T00:00:00+00:00"})
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "feature-rebased")
    shas = repo.git("log", "--all", "--format=%H %s").splitlines()
    assert len([s for s in shas if s.endswith("clock-in")]) == 2
    result = doc(jreport(repo, "--all"))
    assert result["total"]["seconds"] == 3600 and result["anomalies"] == []
    assert doc(jreport(repo))["total"]["seconds"] == 3600  # HEAD alone sees the rebased copy


def test_mailmap_merges_identities(repo):
    repo.commit("clock-in", "2026-03-01T09:00:00+00:00", name="A. Old", email="old@example.com")
    repo.commit("clock-out", "2026-03-01T11:00:00+00:00", name="Alice Martin", email="alice@example.com")
    assert doc(jreport(repo))["anomalies"] != []
    (repo.path / ".mailmap").write_text("Alice Martin <alice@example.com> A. Old <old@example.com>\n")
    result = doc(jreport(repo))
    assert result["anomalies"] == [] and result["total"]["seconds"] == 7200
    assert result["sessions"][0]["author"] == "Alice Martin <alice@example.com>"
    assert doc(jreport(repo, "--author", "alice martin"))["total"]["seconds"] == 7200


def test_author_filter_is_a_case_insensitive_regex(repo):
    repo.commit("clock-in", "2026-03-01T09:00:00+00:00", name="Bob", email="bob@example.com")
    repo.commit("clock-out", "2026-03-01T10:00:00+00:00", name="Bob", email="bob@example.com")
    repo.commit("clock-in", "2026-03-01T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-01T11:00:00+00:00")
    assert doc(jreport(repo, "--author", "BOB@"))["total"]["seconds"] == 3600
    assert doc(jreport(repo, "--author", "^Alice"))["total"]["seconds"] == 7200
    assert doc(jreport(repo, "--author", "bob", "--author", "alice"))["total"]["seconds"] == 10800


def test_several_repositories_are_one_timesheet(tmp_path):
    one, two = GitRepo(tmp_path / "api"), GitRepo(tmp_path / "web")
    one.commit("clock-in", "2026-03-01T09:00:00+00:00")
    one.commit("clock-out", "2026-03-01T10:00:00+00:00")
    two.commit("clock-in", "2026-03-01T11:00:00+00:00")
    two.commit("clock-out", "2026-03-01T11:30:00+00:00")
    result = report(one, "--by", "repo", "--format", "json", repos=[one, two])
    assert [(g["key"], g["seconds"]) for g in doc(result)["groups"]] == [("api", 3600), ("web", 1800)]
    assert "Repo" in report(one, repos=[one, two]).stdout


def test_periods_are_computed_in_the_zone(repo):
    now = datetime.now(timezone.utc)
    last_week = now - timedelta(days=7)
    repo.commit("clock-in", last_week.isoformat(timespec="seconds"))
    repo.commit("clock-out", (last_week + timedelta(hours=1)).isoformat(timespec="seconds"))
    assert doc(jreport(repo, "--period", "last-week", "--tz", "UTC"))["total"]["seconds"] == 3600
    assert doc(jreport(repo, "--period", "this-week", "--tz", "UTC"))["total"]["seconds"] == 0


def test_output_file(week, tmp_path):
    target = tmp_path / "sheet.csv"
    result = report(week, "--format", "csv", "-o", str(target))
    assert result.exit_code == 0 and result.stdout == ""
    assert target.read_text().count("\n") == 5  # the period, the header, three sessions


@pytest.mark.skipif(not shutil.which("hledger"), reason="hledger is not installed")
def test_timeclock_reads_in_hledger(week, tmp_path):
    target = tmp_path / "work.timeclock"
    assert report(week, "--tz", "America/New_York", "--format", "timeclock", "-o", str(target)).exit_code == 0
    text = target.read_text()
    assert text.splitlines()[:3] == ["; period: all history", "i 2026/03/02 09:00:00 work:Alice Martin",
                                     "o 2026/03/02 12:00:00"]
    balance = subprocess.run(["hledger", "-f", str(target), "balance", "-N", "--output-format", "csv"],
                             capture_output=True, text=True, check=True).stdout
    assert "6.83h" in balance
    printed = subprocess.run(["hledger", "-f", str(target), "print"], capture_output=True, text=True, check=True)
    assert "(work:Alice Martin)" in printed.stdout


def test_a_clone_read_twice_counts_each_commit_once(repo, tmp_path):
    repo.commit("clock-in", "2026-03-01T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-01T10:00:00+00:00")
    clone = GitRepo(tmp_path / "clone", init=False)
    subprocess.run(["git", "clone", "-q", str(repo.path), str(clone.path)], check=True, env=repo.env)
    result = doc(jreport(repo, repos=[repo, clone]))
    assert result["total"]["seconds"] == 3600 and result["anomalies"] == []


def test_spaced_trailer_is_billed_as_the_hook_reads_it(repo):
    # `Clock : in` is a trailer the parser (and so the hook) accepts; the
    # report's grep once dropped it and billed only a lone clock-out.
    repo.commit("start\n\nClock : in", "2026-03-02T09:00:00-05:00", files={"a": "1"})
    repo.commit("clock-out", "2026-03-02T10:00:00-05:00")
    document = doc(jreport(repo, "--tz", "America/New_York"))
    assert [s["seconds"] for s in document["sessions"]] == [3600]
    assert document["anomalies"] == []


def _hourly(repo, *args, **kwargs):
    """The installed command in a real process, for what CliRunner cannot fake: its stdout."""
    import os
    import sys

    return subprocess.run([sys.executable, "-m", "hourly_hooks", "report", "--repo", str(repo.path), *args],
                          env={**os.environ, "HOURLY_NO_CACHE": "1"}, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.parametrize("target", ["missing/folder/sheet.csv", "/dev/full"])
def test_output_that_cannot_be_written_is_one_line(week, tmp_path, target):
    if target.startswith("/dev/") and not os.path.exists(target):
        pytest.skip(f"no {target} here")
    path = target if target.startswith("/") else str(tmp_path / target)
    result = report(week, "--format", "csv", "-o", path)
    assert result.exit_code == 74, result.output
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"Error: cannot write {path}: ")
    assert "bug" not in result.stderr


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
def test_stdout_that_cannot_be_written_is_one_line(week):
    with open("/dev/full", "w") as full:
        done = _hourly(week, "--rate", "100 USD", stdout=full)
    assert done.returncode == 74, done.stderr
    assert done.stderr == "Error: cannot write the report to stdout: No space left on device\n"


def test_a_reader_gone_from_the_pipe_is_a_quiet_exit(week):
    import os

    read, write = os.pipe()
    os.close(read)
    with os.fdopen(write, "w") as pipe:
        done = _hourly(week, "--format", "csv", stdout=pipe)
    assert done.returncode == 74 and done.stderr == ""


def test_dash_is_stdout(week, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = report(week, "--format", "csv", "-o", "-")
    assert result.exit_code == 0 and result.stdout.startswith("# period: all history\nauthor,start,end")
    assert not (tmp_path / "-").exists() and "Wrote" not in result.stderr


@pytest.mark.parametrize("rate, words", [("1,5 EUR", "use 1.5 EUR"), ("100,50 EUR", "use 100.50 EUR"),
                                         ("100 XYZ", "unknown currency 'XYZ'"), ("0 USD", "positive"),
                                         ("-5 USD", "not a rate"), ("inf USD", "not a rate"),
                                         ("1e999 USD", "not a rate")])
def test_a_bad_rate_is_a_usage_error_in_one_line(week, rate, words):
    result = report(week, "--rate", rate)
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and words in result.stderr and result.stdout == ""


def test_wide_characters_keep_the_columns_aligned(repo):
    repo.commit("clock-in: 設計レビュー", "2026-03-02T09:00:00+00:00", name="山田太郎", email="yamada@example.com")
    repo.commit("clock-out", "2026-03-02T10:00:00+00:00", name="山田太郎", email="yamada@example.com")
    repo.commit("clock-in: review", "2026-03-02T11:00:00+00:00", name="Bob Ng", email="bob@example.com")
    repo.commit("clock-out", "2026-03-02T11:30:00+00:00", name="Bob Ng", email="bob@example.com")
    import unicodedata

    def display_width(text):  # what a terminal shows: CJK takes two columns
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1
                   for c in text)

    table = report(repo, "--tz", "UTC", "--rate", "100 USD", "--wide").stdout.splitlines()
    header, rows = table[2], table[3:5]
    start = display_width(header[:header.index("Start")])
    for row in rows:
        # The Start column begins at the same screen column on every row.
        assert any(display_width(row[:i]) == start and row[i:].startswith("2026-") for i in range(len(row)))
    narrow = report(repo, "--tz", "UTC", "--rate", "100 USD").stdout.splitlines()
    header, rows = narrow[2], narrow[3:5]
    note = display_width(header[:header.index("Note")])
    assert [row[-len("設計レビュー"):] for row in rows] == ["設計レビュー", "review"[-6:]]
    for row in rows:  # after the names, the Note column begins at one screen column on every row
        assert any(display_width(row[:i]) == note and row[i:] in ("設計レビュー", "review") for i in range(len(row)))
    by_author = report(repo, "--tz", "UTC", "--by", "author").stdout.splitlines()[2:]
    ends = {display_width(line) for line in by_author[:3]}
    assert len(ends) == 1, by_author[:3]  # right-aligned Hours end every row at one column


def test_display_width():
    from hourly_hooks.output.table import display_width

    assert display_width("山田太郎") == 8 and display_width("Ｂｏｂ") == 6
    assert display_width("é") == 1 and display_width("e\u0301") == 1 and display_width("Bob") == 3


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_unwritable_file_is_left_as_it_was(week, tmp_path):
    target = tmp_path / "sheet.csv"
    target.write_text("last week's\n")
    target.chmod(0o444)
    result = report(week, "--format", "csv", "-o", str(target))
    assert result.exit_code == 74 and "Permission denied" in result.stderr
    assert target.read_text() == "last week's\n"


def test_markdown_cells_are_literal_text(repo):
    """A note or a name is shown as written: no emphasis from "*", no link from "<email>"."""
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out: fix *it* [now] `x` | y", "2026-03-02T10:00:00+00:00")
    text = report(repo, "--tz", "UTC", "--format", "markdown", "--wide").stdout
    [row] = [line for line in text.splitlines() if line.startswith("| 2026-03-02")]
    assert "fix \\*it\\* \\[now\\] \\`x\\` \\| y" in row
