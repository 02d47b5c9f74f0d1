"""The marker cache makes reports faster, never different."""

import json

import pytest
from click.testing import CliRunner

from hourly_hooks.cli import main


def total(repo, *args, env=None):
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--format", "json", *args], env=env)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    return document["total"]["seconds"], len(document["anomalies"])


def cache_file(repo):
    return repo.path / ".git" / "hourly" / "markers.json"


@pytest.fixture
def worked(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-02T10:00:00+00:00")
    return repo


def test_same_tips_read_from_the_cache_without_git(worked):
    assert total(worked) == (3600, 0)
    path = cache_file(worked)
    data = json.loads(path.read_text())
    # Tamper with the cached clock-out's date: if the next run used git, it would not see this.
    (scope,) = data["scopes"].values()
    for record in scope["records"]:
        if record[4].startswith("clock-out"):
            record[1] = "2026-03-02T11:00:00+00:00"
    path.write_text(json.dumps(data))
    assert total(worked) == (7200, 0)
    assert total(worked, env={"HOURLY_NO_CACHE": "1"}) == (3600, 0)


def test_new_commits_are_read_incrementally(worked):
    assert total(worked) == (3600, 0)
    worked.commit("clock-in", "2026-03-03T09:00:00+00:00")
    worked.commit("work\n\nClock: out", "2026-03-03T09:30:00+00:00", files={"f": "1"})
    assert total(worked) == (5400, 0)


def test_reset_and_rebase_are_never_served_stale(worked):
    assert total(worked) == (3600, 0)
    worked.commit("clock-in", "2026-03-03T09:00:00+00:00")
    worked.commit("clock-out", "2026-03-03T09:30:00+00:00")
    assert total(worked) == (5400, 0)
    worked.git("reset", "-q", "--hard", "HEAD~2")
    assert total(worked) == (3600, 0)
    worked.git("commit", "-q", "--amend", "--allow-empty", "-m", "clock-out: T-30m")
    assert total(worked) == (1800, 0)


def test_deleted_branch_disappears_from_all(worked):
    worked.git("checkout", "-q", "-b", "side")
    worked.commit("clock-in", "2026-03-04T09:00:00+00:00", name="Bob", email="bob@example.com")
    worked.commit("clock-out", "2026-03-04T10:00:00+00:00", name="Bob", email="bob@example.com")
    worked.git("checkout", "-q", "main")
    assert total(worked, "--all") == (7200, 0)
    assert total(worked) == (3600, 0)
    worked.git("branch", "-q", "-D", "side")
    assert total(worked, "--all") == (3600, 0)


def test_mailmap_change_invalidates(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00", name="Old", email="old@example.com")
    repo.commit("clock-out", "2026-03-02T10:00:00+00:00")
    assert total(repo) == (0, 1)  # an open clock-in for old@, a lone clock-out for alice@
    (repo.path / ".mailmap").write_text("Alice Martin <alice@example.com> <old@example.com>\n")
    assert total(repo) == (3600, 0)


def test_author_filters_have_their_own_scope(worked):
    worked.commit("clock-in", "2026-03-03T09:00:00+00:00", name="Bob", email="bob@example.com")
    worked.commit("clock-out", "2026-03-03T11:00:00+00:00", name="Bob", email="bob@example.com")
    assert total(worked, "--author", "bob") == (7200, 0)
    assert total(worked, "--author", "alice") == (3600, 0)
    assert total(worked) == (10800, 0)


def test_damaged_cache_is_ignored_and_rewritten(worked):
    assert total(worked) == (3600, 0)
    cache_file(worked).write_text("{not json")
    assert total(worked) == (3600, 0)
    assert json.loads(cache_file(worked).read_text())["version"] == 1


def test_no_cache_writes_nothing(worked):
    total(worked, env={"HOURLY_NO_CACHE": "1"})
    assert not cache_file(worked).exists()
