"""`hourly in`, `hourly out` and `hourly status`, run as a user runs them, in real repositories.

`hourly` stamps commits with git's idea of "now", which GIT_AUTHOR_DATE
controls; the tests set it so every time and total is exact.
"""

from __future__ import annotations

import json

import pytest

from hook_helpers import ALICE, HookedRepo, install_plain_hooks


def now(stamp: str) -> dict:
    """The environment in which `hourly` believes it is `stamp` (ISO 8601 with offset)."""
    return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp,
            "GIT_AUTHOR_NAME": ALICE[0], "GIT_AUTHOR_EMAIL": ALICE[1]}


def at(hhmm: str, day: str = "2025-03-03") -> str:
    return f"{day}T{hhmm}:00-05:00"


@pytest.fixture
def repo(tmp_path) -> HookedRepo:
    return HookedRepo(tmp_path / "work")


@pytest.fixture(params=["no hook", "plain hook"])
def either(request, repo) -> HookedRepo:
    """The same behaviour is expected with and without the commit-msg hook."""
    if request.param == "plain hook":
        install_plain_hooks(repo)
    return repo


def hourly_ok(repo, *args, when):
    done = repo.hourly(*args, env=now(when))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_in_writes_an_empty_canonical_commit(either):
    output = hourly_ok(either, "in", when=at("09:00"))
    assert output.startswith("Clocked in at 2025-03-03 09:00 -05:00: clock-in  (")
    assert "empty commit" in output
    assert either.message() == "clock-in"
    assert either.git("log", "-1", "--format=%aI %an <%ae>").strip() == \
        "2025-03-03T09:00:00-05:00 Alice Martin <alice@example.com>"
    assert either.git("show", "--name-only", "--format=", "HEAD").strip() == ""


def test_in_status_and_anomalies_write_a_time_alike(repo):
    """One form for a person's time on every line: `hourly in`, `hourly status` and an anomaly all say -05:00."""
    assert "Clocked in at 2025-03-03 09:00 -05:00: " in hourly_ok(repo, "in", when=at("09:00"))
    status = hourly_ok(repo, "status", when=at("10:00"))
    assert status.startswith("Clocked in since 2025-03-03 09:00 -05:00 (1h ago, commit ")
    repo.commit("clock-in", at("10:30"))  # no hook here: a second clock-in is an anomaly
    status = hourly_ok(repo, "status", when=at("11:00")).splitlines()
    assert any("clock-in at 2025-03-03 10:30 -05:00 (" in line and "since 2025-03-03 09:00 -05:00 (" in line
               for line in status), status


def test_in_with_note_and_ago(either):
    output = hourly_ok(either, "in", "-m", "parser   work", "--ago", "15m", when=at("09:15"))
    assert either.message() == "clock-in: T-15m parser work"
    assert "Clocked in at 2025-03-03 09:00 -05:00" in output


def test_staged_changes_go_into_the_marker_commit(either):
    (either.path / "a.txt").write_text("a\n")
    either.git("add", "a.txt")
    (either.path / "unstaged.txt").write_text("not staged\n")
    output = hourly_ok(either, "in", when=at("09:00"))
    assert "with 1 staged file(s)" in output
    assert either.git("show", "--name-only", "--format=", "HEAD").split() == ["a.txt"]


def test_out_at_a_time_and_the_session_it_closes(either):
    hourly_ok(either, "in", when=at("09:00"))
    output = hourly_ok(either, "out", "--at", "11:30", "-m", "fixed the parser", when=at("12:00"))
    assert either.message() == "clock-out: T-30m fixed the parser"
    assert "Clocked out at 2025-03-03 11:30 -05:00" in output
    assert "Session: 2h30m since 2025-03-03 09:00 -05:00." in output


@pytest.mark.parametrize("steps, command, expected", [
    ([("in", "09:00")], ("in",), "already clocked in"),
    ([], ("out",), "not clocked in"),
    ([("in", "09:00"), ("out", "10:00")], ("out",), "not clocked in"),
    ([("in", "09:00")], ("out", "--at", "08:00"), "before its clock-in"),
    ([("in", "09:00"), ("out", "10:00")], ("in", "--ago", "1h30m"), "before your last clock-out"),
])
def test_same_refusals_as_the_hook(either, steps, command, expected):
    for kind, time in steps:
        hourly_ok(either, kind, when=at(time))
    head = either.head()
    done = either.hourly(*command, env=now(at("11:00")))
    assert done.returncode == 1
    assert expected in done.stderr
    assert "State: " in done.stderr and "Way out" in done.stderr
    assert either.head() == head


@pytest.mark.parametrize("args, expected", [
    (("--ago", "5m", "--at", "09:00"), "not both"),
    (("--ago", "5x"), "not a duration"),
    (("--at", "25:99"), "expected HH:MM"),
    (("--at", "23:00"), "in the future"),
    (("-m", "T-rex support"), "would read as an offset"),
])
def test_usage_errors(repo, args, expected):
    done = repo.hourly("in", *args, env=now(at("10:00")))
    assert done.returncode == 2
    assert expected in done.stderr
    assert repo.head() == ""


def test_in_and_out_in_the_same_second_stay_in_order(repo):
    install_plain_hooks(repo)
    hourly_ok(repo, "in", when=at("09:00"))
    hourly_ok(repo, "out", when=at("09:00"))  # waits for the next second rather than tie
    assert repo.git("log", "--format=%s %ad", "--date=raw").splitlines() == [
        "clock-out 1741010401 -0500", "clock-in 1741010400 -0500"]


def test_outside_a_repository(tmp_path):
    repo = HookedRepo(tmp_path / "plain", init=False)
    repo.path.mkdir()
    done = repo.hourly("in", env=now(at("09:00")))
    assert done.returncode == 3


# ------------------------------------------------------------------ status

@pytest.fixture
def week(repo) -> HookedRepo:
    """Alice: a lone clock-out on Saturday, 2h on Monday, 1h30m on Tuesday, in since Tuesday 13:00."""
    day = "2025-03-0{}T{}:00+00:00".format
    repo.commit("clock-out", day(1, "17:00"))                  # anomaly: no clock-in before it
    repo.commit("clock-in", day(3, "09:00"))
    repo.commit("clock-out", day(3, "11:00"))
    repo.commit("clock-in: T-15m", day(4, "09:15"))
    repo.commit("clock-out", day(4, "10:30"))
    repo.commit("clock-in", day(4, "13:00"))
    repo.commit("clock-in", day(4, "13:30"), name="Bob", email="bob@example.com")
    return repo


def test_status_text(week):
    output = hourly_ok(week, "status", "--tz", "UTC", when="2025-03-04T14:00:00+00:00")
    lines = output.splitlines()
    assert lines[0].startswith("Clocked in since 2025-03-04 13:00 +00:00 (1h ago, commit ")
    assert lines[1] == "Today: 2h30m (2.50 h, 1h of it running)."
    assert lines[2] == "This week: 4h30m (4.50 h, 1h of it running)."
    assert lines[3] == "Anomalies in the last 30 days (1):"
    assert "without a clock-in" in lines[4]
    assert "install-hook" in lines[-1]


def test_status_json(week):
    install_plain_hooks(week)
    document = json.loads(hourly_ok(week, "status", "--json", "--tz", "UTC", when="2025-03-04T14:00:00+00:00"))
    assert document["identity"] == "alice@example.com"
    assert document["state"] == "in"
    assert document["since"] == "2025-03-04T13:00:00+00:00"
    assert document["seconds"] == 3600
    assert document["today"] == {"seconds": 9000, "closed_seconds": 5400, "running_seconds": 3600, "hours": "2.50"}
    assert document["week"]["seconds"] == 9000 + 7200
    assert [a["kind"] for a in document["anomalies"]] == ["clock-out-without-clock-in"]
    assert document["hook"] == "installed"


def test_status_in_an_empty_repository(repo):
    output = hourly_ok(repo, "status", when=at("09:00"))
    assert output.startswith("Clocked out: no clock marker of yours in this history.")
    document = json.loads(hourly_ok(repo, "status", "--json", when=at("09:00")))
    assert document["state"] == "out" and document["commit"] is None and document["anomalies"] == []


# ------------------------------------------------------------ unfinished git operations

def _conflicting_branches(repo):
    repo.commit("base", at("08:00"), files={"f.txt": "base\n"})
    repo.git("switch", "-q", "-c", "side")
    repo.commit("side", at("08:10"), files={"f.txt": "side\n"})
    side = repo.head()
    repo.git("switch", "-q", "main")
    repo.commit("main", at("08:20"), files={"f.txt": "main\n"})
    return side


def _refused_during(repo, what: str, abort: str):
    head = repo.head()
    for command in ("in", "out"):
        done = repo.hourly(command, env=now(at("09:00")))
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"{what} is in progress" in done.stderr and abort in done.stderr
        assert repo.head() == head


def test_in_refuses_during_a_merge_instead_of_committing_it(repo):
    repo.commit("base", at("08:00"), files={"f.txt": "base\n"})
    repo.git("switch", "-q", "-c", "side")
    repo.commit("side", at("08:10"), files={"s.txt": "side\n"})
    repo.git("switch", "-q", "main")
    repo.commit("main", at("08:20"), files={"m.txt": "main\n"})
    repo.git("merge", "--no-commit", "--no-ff", "side")
    _refused_during(repo, "a merge", "git merge --abort")
    repo.git("merge", "--abort")
    hourly_ok(repo, "in", when=at("09:00"))
    assert repo.subject() == "clock-in" and len(repo.git("log", "-1", "--format=%P").split()) == 1


def test_in_refuses_during_a_conflicted_rebase_and_cherry_pick(repo):
    side = _conflicting_branches(repo)
    repo.git("cherry-pick", side, check=False)
    _refused_during(repo, "a cherry-pick", "git cherry-pick --abort")
    repo.git("cherry-pick", "--abort")
    repo.git("revert", "--no-commit", "HEAD")
    _refused_during(repo, "a revert", "git revert --abort")
    repo.git("revert", "--abort")
    repo.git("switch", "-q", "side")
    repo.git("rebase", "main", check=False, env={"GIT_EDITOR": "true"})
    _refused_during(repo, "a rebase", "git rebase --abort")


def test_in_refuses_during_a_merge_in_a_linked_worktree(repo, tmp_path):
    _conflicting_branches(repo)
    worktree = tmp_path / "wt"
    repo.git("worktree", "add", "-q", "-b", "wt", str(worktree), "main")
    repo.run("git", "merge", "side", cwd=worktree)
    done = repo.hourly("in", env=now(at("09:00")), cwd=worktree)
    assert done.returncode == 1 and "a merge is in progress" in done.stderr
    hourly_ok(repo, "in", when=at("09:00"))  # the main work tree has no merge going on


# ------------------------------------------------------------ bare repositories

@pytest.mark.parametrize("args", [("in",), ("out",), ("status",), ("report",)])
def test_a_bare_repository_is_named_as_one(tmp_path, args):
    bare = HookedRepo(tmp_path / "store.git", init=False)
    bare.run("git", "init", "-q", "--bare", str(bare.path), cwd=tmp_path)
    done = bare.hourly(*args, env=now(at("09:00")))
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"{bare.path} is a bare repository: hourly needs a work tree" in done.stderr
    assert "not inside" not in done.stderr


# ------------------------------------------------------------ --at as people type it

def test_at_takes_a_day_and_a_time(repo):
    output = hourly_ok(repo, "in", "--at", "yesterday 5:30pm", when=at("09:00", day="2025-03-04"))
    assert "Clocked in at 2025-03-03 17:30 -05:00" in output
    assert repo.message() == "clock-in: T-15h30m"
    output = hourly_ok(repo, "out", "--at", "monday 23:00", when=at("09:05", day="2025-03-04"))
    assert "Clocked out at 2025-03-03 23:00 -05:00" in output


def test_at_a_day_without_a_time_is_a_usage_error(repo):
    done = repo.hourly("in", "--at", "yesterday", env=now(at("09:00")))
    assert done.returncode == 2 and "a day without a time" in done.stderr


def test_status_hours_are_the_reports_decimal_hours(repo):
    # 450 s is 0.125 h: the report rounds half up to 0.13; float formatting said 0.12.
    repo.commit("clock-in", "2025-03-04T09:00:00+00:00")
    repo.commit("clock-out", "2025-03-04T09:07:30+00:00")
    document = json.loads(hourly_ok(repo, "status", "--json", "--tz", "UTC", when="2025-03-04T14:00:00+00:00"))
    assert document["today"]["seconds"] == 450
    assert document["today"]["hours"] == "0.13"
    report = json.loads(repo.hourly("report", "--format", "json", "--tz", "UTC").stdout)
    assert report["total"]["hours"] == "0.13"
