"""The work log: commits matched to sessions (pure), read from real git, shown by `hourly report`."""

import json
from datetime import datetime

import pytest
from click.testing import CliRunner

from gitrepo import GitRepo
from hourly_hooks.core import markers
from hourly_hooks.cli import main
from hourly_hooks.history import open_repository
from hourly_hooks.core.sessions import MarkerCommit, pair
from hourly_hooks.core.worklog import WorkCommit, attach, is_marker_only
from hourly_hooks.git.worklog import for_sessions, log_command

_count = iter(range(10**6))


def mc(message, when, email="alice@example.com", name="Alice"):
    return MarkerCommit(sha=f"{next(_count):040x}", name=name, email=email,
                        authored=datetime.fromisoformat(when), marker=markers.parse(message), message=message)


def wc(subject, when, email="alice@example.com", name="Alice", sha=None):
    return WorkCommit.at(sha or f"{next(_count):040x}", name, email, datetime.fromisoformat(when), subject)


def two_sessions(**kwargs):
    """Alice 09:00-12:00 and 13:00-14:00; Bob 09:30-10:30 (all +01:00)."""
    result = pair([mc("clock-in", "2026-01-05T09:00:00+01:00", **kwargs),
                   mc("clock-out", "2026-01-05T12:00:00+01:00", **kwargs),
                   mc("clock-in: T-15m", "2026-01-05T13:15:00+01:00", **kwargs),
                   mc("clock-out", "2026-01-05T14:00:00+01:00", **kwargs),
                   mc("clock-in", "2026-01-05T09:30:00+01:00", email="bob@example.com", name="Bob"),
                   mc("clock-out", "2026-01-05T10:30:00+01:00", email="bob@example.com", name="Bob")])
    return result.sessions


def subjects(log, session):
    return [c.subject for c in log[session.clock_in.sha]]


# --- the pure matcher ------------------------------------------------------------------

def test_commits_go_to_the_session_of_their_person_and_time():
    alice_morning, bob, alice_afternoon = two_sessions()
    log = attach([alice_morning, bob, alice_afternoon], [
        wc("late", "2026-01-05T13:30:00+01:00"),
        wc("early", "2026-01-05T09:45:00+01:00"),
        wc("bob's", "2026-01-05T10:00:00+01:00", email="bob@example.com", name="Bob"),
        wc("at lunch", "2026-01-05T12:30:00+01:00"),           # between Alice's sessions
        wc("before the offset", "2026-01-05T12:59:59+01:00"),  # clock-in T-15m: starts 13:00
        wc("carol's", "2026-01-05T10:00:00+01:00", email="carol@example.com"),
    ])
    assert subjects(log, alice_morning) == ["early"]
    assert subjects(log, bob) == ["bob's"]
    assert subjects(log, alice_afternoon) == ["late"]


def test_bounds_are_inclusive_and_zones_do_not_matter():
    alice_morning, _, alice_afternoon = two_sessions()
    log = attach([alice_morning, alice_afternoon], [
        wc("at clock-in", "2026-01-05T08:00:00+00:00"),     # 09:00 +01:00
        wc("at clock-out", "2026-01-05T06:00:00-05:00"),    # 12:00 +01:00
        wc("a second late", "2026-01-05T11:00:01+00:00"),   # 12:00:01 +01:00
        wc("end of day", "2026-01-05T14:00:00+01:00"),
    ])
    assert subjects(log, alice_morning) == ["at clock-in", "at clock-out"]
    assert subjects(log, alice_afternoon) == ["end of day"]


def test_a_commit_where_two_sessions_touch_goes_to_the_later():
    result = pair([mc("clock-in", "2026-01-05T09:00:00+01:00"), mc("clock-out", "2026-01-05T10:00:00+01:00"),
                   mc("clock-in", "2026-01-05T10:00:00+01:00"), mc("clock-out", "2026-01-05T11:00:00+01:00")])
    first, second = result.sessions
    log = attach([first, second], [wc("on the hour", "2026-01-05T10:00:00+01:00")])
    assert subjects(log, first) == [] and subjects(log, second) == ["on the hour"]


def test_marker_commits_are_left_out_but_a_work_commit_with_a_trailer_stays():
    (alice_morning, *_) = two_sessions()
    log = attach([alice_morning], [
        wc("clock-in", "2026-01-05T09:00:00+01:00"),
        wc("clock-out: T-10m done", "2026-01-05T11:00:00+01:00"),
        wc("fixed bug preventing users from clocking in", "2026-01-05T10:00:00+01:00"),
    ])
    assert subjects(log, alice_morning) == ["fixed bug preventing users from clocking in"]
    assert is_marker_only("Clock-Out: T-5m") and not is_marker_only("clock-in-progress flag")


def test_identity_follows_the_report_key_and_ignores_email_case():
    (alice_morning, *_) = two_sessions()
    shouting = wc("same person", "2026-01-05T10:00:00+01:00", email="ALICE@Example.com", name="A. M.")
    assert subjects(attach([alice_morning], [shouting]), alice_morning) == ["same person"]
    by_name = pair([mc("clock-in", "2026-01-05T09:00:00+01:00"), mc("clock-out", "2026-01-05T12:00:00+01:00")],
                   "name").sessions
    other_email = wc("laptop", "2026-01-05T10:00:00+01:00", email="alice@laptop.local")
    assert subjects(attach(by_name, [other_email], "name"), by_name[0]) == ["laptop"]
    assert subjects(attach(by_name, [shouting], "name"), by_name[0]) == []


def test_one_sha_counts_once_and_commits_are_in_time_order():
    (alice_morning, *_) = two_sessions()
    twice = wc("pushed to two repos", "2026-01-05T11:00:00+01:00", sha="f" * 40)
    log = attach([alice_morning], [twice, wc("first", "2026-01-05T09:30:00+01:00"), twice])
    assert subjects(log, alice_morning) == ["first", "pushed to two repos"]


def test_every_session_has_an_entry_and_open_sessions_none():
    result = pair([mc("clock-in", "2026-01-05T09:00:00+01:00"), mc("clock-out", "2026-01-05T10:00:00+01:00"),
                   mc("clock-in", "2026-01-05T11:00:00+01:00")])
    (closed,), (still_open,) = result.sessions, result.open
    log = attach([closed, still_open], [wc("after", "2026-01-05T11:30:00+01:00")])
    assert log == {closed.clock_in.sha: []}


def test_the_git_window_opens_a_day_early_and_never_closes():
    command = log_command(datetime.fromisoformat("2026-01-05T09:00:00+00:00"), authors=["<a@x>"])
    assert "--since=1767517200" in command  # 2026-01-04T09:00:00Z
    assert not any(arg.startswith("--until") for arg in command)
    assert "--use-mailmap" in command and "--author=<a@x>" in command and command[-1] == "HEAD"
    assert "--all" in log_command(None, all_refs=True) and not any(
        a.startswith("--since") for a in log_command(None))


# --- against real git ------------------------------------------------------------------

@pytest.fixture
def day(repo):
    """Alice works 09:00-12:00 -05:00 with two commits; others and near misses around."""
    shas = {}
    repo.commit("before", "2026-03-02T08:59:59-05:00", files={"a": "0"})
    repo.commit("clock-in", "2026-03-02T09:00:00-05:00")
    shas["parser"] = repo.commit("parser: handle CRLF", "2026-03-02T09:40:00-05:00", files={"a": "1"})
    shas["bob"] = repo.commit("bob's fix", "2026-03-02T10:00:00-05:00", name="Bob", email="bob@example.com",
                              files={"b": "1"})
    # Rebased two weeks later: the committer date is long after the window, the author date in it.
    shas["rebased"] = repo.commit("tests: DST", "2026-03-02T11:00:00-05:00", files={"a": "2"},
                                  committed="2026-03-16T10:00:00-05:00")
    repo.commit("clock-out: T-30m", "2026-03-02T12:30:00-05:00")                    # ends 12:00
    repo.commit("just after", "2026-03-02T12:00:01-05:00", files={"a": "3"})
    repo.commit("clock-in", "2026-03-03T09:00:00-05:00")
    shas["trailer"] = repo.commit("wrap up\n\nClock: out", "2026-03-03T10:00:00-05:00", files={"a": "4"})
    return repo, shas


def report(repo, *args, repos=None):
    flags = [a for r in (repos or [repo]) for a in ("--repo", str(r.path))]
    return CliRunner().invoke(main, ["report", *flags, "--tz", "America/New_York", *args])


def test_read_from_git_matches_by_author_date_and_person(day):
    repo, shas = day
    result = json.loads(report(repo, "--format", "json", "--worklog").stdout)
    first, second = result["sessions"]
    assert [c["sha"] for c in first["commits"]] == [shas["parser"], shas["rebased"]]
    assert first["commits"][0] == {"sha": shas["parser"], "subject": "parser: handle CRLF"}
    assert [c["sha"] for c in second["commits"]] == [shas["trailer"]]
    # what git itself lists between the two clock events, for comparison: Bob's commit, excluded above
    listed = repo.git("log", "--format=%H %ae", "--author-date-order").split("\n")
    assert f"{shas['bob']} bob@example.com" in listed


def test_json_has_commits_only_with_worklog(day):
    repo, _ = day
    plain = json.loads(report(repo, "--format", "json").stdout)
    assert all("commits" not in session for session in plain["sessions"])


def test_table_lists_commits_under_each_session_row(day):
    repo, shas = day
    for flags, first in (((), "2026-03-02  09:00-"), (("--wide",), "2026-03-02 09:00:00 -05:00")):
        lines = report(repo, "--worklog", *flags).stdout.splitlines()
        assert lines[0].startswith("Period: ") and lines[2].startswith(("Date", "Start"))
        assert lines[3].startswith(first)
        assert lines[4:6] == [f"    {shas['parser'][:7]}  parser: handle CRLF", f"    {shas['rebased'][:7]}  tests: DST"]
        assert lines[6].startswith(first.replace("-02", "-03", 1))
        assert lines[7] == f"    {shas['trailer'][:7]}  wrap up"
    assert "bob's fix" not in "\n".join(lines) and "just after" not in "\n".join(lines)
    assert "parser" not in report(repo).stdout  # only when asked


def test_markdown_and_grouped_table_get_a_work_log_section(day):
    repo, shas = day
    text = report(repo, "--worklog", "--format", "markdown").stdout
    section = text[text.index("**Work log**"):].splitlines()
    assert section[2:5] == ["- 2026-03-02 09:00:00 -05:00, 3:00:00", f"  - `{shas['parser'][:7]}` parser: handle CRLF",
                            f"  - `{shas['rebased'][:7]}` tests: DST"]
    grouped = report(repo, "--worklog", "--by", "day").stdout
    assert "Work log:" in grouped and f"    {shas['trailer'][:7]}  wrap up" in grouped


def test_author_filter_and_mailmap(day):
    repo, _ = day
    (repo.path / ".mailmap").write_text("Alice Martin <alice@example.com> <alice@laptop.local>\n")
    repo.git("add", ".mailmap")
    repo.commit("from the laptop", "2026-03-02T11:30:00-05:00", email="alice@laptop.local", name="alice")
    sessions = json.loads(report(repo, "--format", "json", "--worklog", "--author", "alice",
                                 "--until", "2026-03-03").stdout)["sessions"]
    assert [c["subject"] for c in sessions[0]["commits"]] == ["parser: handle CRLF", "tests: DST", "from the laptop"]


def test_commits_from_another_repository_during_the_session(day, tmp_path):
    repo, _ = day
    other = GitRepo(tmp_path / "docs")
    other.commit("docs: usage", "2026-03-02T10:30:00-05:00", files={"d": "1"})
    lines = report(repo, "--worklog", repos=[repo, other]).stdout.splitlines()
    assert any(line.endswith("docs: usage (docs)") for line in lines)


def test_worklog_refused_where_it_cannot_show(day):
    repo, _ = day
    result = report(repo, "--worklog", "--format", "csv")
    assert result.exit_code == 2 and "--worklog" in result.stderr


def test_for_sessions_with_no_sessions_runs_no_git(tmp_path):
    assert for_sessions([], [open_repository(GitRepo(tmp_path / "r").path)]) == {}
