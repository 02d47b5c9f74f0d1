"""The timesheet's origin names the root commits HEAD descends from. The store remembers them with
the HEAD they were found at (history.Roots), so a later report walks only the commits since; these
tests hold the remembered answer to what git says of the whole history, through new commits, a
merge of an unrelated history and a rewritten one."""

from __future__ import annotations

import json

from click.testing import CliRunner

from hourly_hooks.cli import main
from gitrepo import GitRepo


def origin_roots(repo: GitRepo) -> list:
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--tz", "UTC", "--json"])
    assert result.exit_code == 0, (result.output, result.exception)
    [source] = json.loads(result.stdout)["document"]["origin"]["repositories"]
    return source["roots"]


def git_roots(repo: GitRepo) -> list:
    return repo.git("rev-list", "--max-parents=0", "HEAD").split()


def remembered(repo: GitRepo) -> str:
    import sqlite3

    with sqlite3.connect(repo.path / ".git" / "hourly" / "markers.sqlite3") as db:
        [(value,)] = db.execute("SELECT v FROM meta WHERE k = 'fact:roots'").fetchall()
    return value


def test_the_roots_follow_new_commits_merges_and_rewrites(repo):
    first = repo.commit("clock-in", "2026-11-02T09:00:00+00:00")
    repo.commit("clock-out", "2026-11-02T12:00:00+00:00")
    assert origin_roots(repo) == [first] == git_roots(repo)
    assert remembered(repo) == f"{repo.head()} {first}"

    repo.commit("clock-in", "2026-11-03T09:00:00+00:00")        # a later HEAD: only the new commit walked
    assert origin_roots(repo) == [first] and remembered(repo).startswith(repo.head())

    repo.git("checkout", "-q", "--orphan", "other")               # an unrelated history, merged in
    repo.git("rm", "-rq", "--cached", ".", check=False)
    other = repo.commit("start of the other history", "2026-11-01T08:00:00+00:00")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--allow-unrelated-histories", "--no-edit", "other")
    assert sorted(origin_roots(repo)) == sorted([first, other]) == sorted(git_roots(repo))

    repo.git("reset", "-q", "--hard", other)                      # rewritten: HEAD no longer descends from it
    assert origin_roots(repo) == [other] == git_roots(repo)


def test_a_damaged_remembered_answer_is_not_trusted_beyond_what_git_confirms(repo):
    first = repo.commit("clock-in", "2026-11-02T09:00:00+00:00")
    repo.commit("clock-out", "2026-11-02T12:00:00+00:00")
    origin_roots(repo)
    import sqlite3

    with sqlite3.connect(repo.path / ".git" / "hourly" / "markers.sqlite3") as db:  # a tip git never made
        db.execute("UPDATE meta SET v = ? WHERE k = 'fact:roots'", ("0" * 40 + " " + "1" * 40,))
    assert origin_roots(repo) == [first]
