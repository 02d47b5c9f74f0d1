"""A full read split in two walks (``git log tips ^B`` beside ``git log B``) lists the same rows.

Real git, small histories: the split is forced (log.SPLIT_FROM = 0) or
given its split commit, and compared with the one walk.
"""

from __future__ import annotations

import os
import random
import subprocess

import pytest

from gitrepo import GitRepo

from hourly_hooks import history
from hourly_hooks.git import log
from hourly_hooks.errors import GitError
from hourly_hooks.git.repository import Repository

PEOPLE = [("Alice", "alice@example.com"), ("Bob", "bob@example.com")]


def one_walk(monkeypatch, cwd, tips, authors=()):
    with monkeypatch.context() as inner:
        inner.setattr(log, "SPLIT_FROM", 10 ** 9)
        return list(log.stream_rows(cwd, tips, authors))


def clock(repo, n, name="Alice", email="alice@example.com"):
    kind = "clock-in" if n % 2 == 0 else "clock-out"
    return repo.commit(f"{kind}: note {n}", f"2026-03-{1 + n // 24:02d}T{n % 24:02d}:00:00+00:00",
                       name=name, email=email)


@pytest.fixture
def merged(repo):
    """main and topic fork, both carry markers, topic is merged; a third branch stays apart."""
    n = 0
    for _ in range(3):
        clock(repo, n)
        n += 1
    repo.git("branch", "topic")
    repo.git("branch", "apart")
    for _ in range(3):
        clock(repo, n)
        n += 1
    repo.git("switch", "-q", "topic")
    for _ in range(4):
        clock(repo, n, *PEOPLE[1])
        n += 1
    repo.git("switch", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "clock-in merged", "topic")
    clock(repo, n)
    n += 1
    repo.git("switch", "-q", "apart")
    clock(repo, n, *PEOPLE[1])
    repo.git("switch", "-q", "main")
    return repo


def every_commit(repo, *tips):
    return repo.git("rev-list", *tips).split()


def test_every_split_commit_gives_the_one_walk_rows(merged, monkeypatch):
    tips = Repository(str(merged.path)).tips(True)
    expected = one_walk(monkeypatch, merged.path, tips)
    assert len(expected) == 13  # the merge commit is a clock-in too
    topic_side = set(every_commit(merged, "main~1^2")) - set(every_commit(merged, "main~1^1"))
    bases = every_commit(merged, *tips)
    assert topic_side & set(bases)  # split commits on the merged side branch are among those tried
    for base in bases:
        got = list(log.stream_rows(merged.path, tips, base=base))
        assert len(got) == len(set(got)) == len(expected), base  # nothing twice, nothing lost
        assert sorted(got) == sorted(expected), base


def test_tips_below_the_split_commit_and_author_filters(merged, monkeypatch):
    # A tip that is an ancestor of the split commit, one beside it, and HEAD itself.
    old = merged.git("rev-parse", "main~3").strip()
    tips = [merged.git("rev-parse", ref).strip() for ref in ("main", "apart")] + [old]
    base = merged.git("rev-parse", "main~1").strip()
    for authors in ((), ("<bob@example.com>",), ("alice", "bob")):
        expected = one_walk(monkeypatch, merged.path, tips, authors)
        got = list(log.stream_rows(merged.path, tips, authors, base=base))
        assert len(got) == len(set(got))
        assert sorted(got) == sorted(expected), authors


def test_negative_revisions_bound_both_walks(merged, monkeypatch):
    tips = [merged.git("rev-parse", "main").strip(), "^" + merged.git("rev-parse", "main~4").strip()]
    expected = one_walk(monkeypatch, merged.path, tips)
    assert 0 < len(expected) < 13
    for base in every_commit(merged, *tips):
        assert sorted(log.stream_rows(merged.path, tips, base=base)) == sorted(expected), base


def test_the_split_commit_is_reachable_and_splits(merged, monkeypatch):
    monkeypatch.setattr(log, "SPLIT_FROM", 0)
    tips = Repository(str(merged.path)).tips(True)
    base = log.split_point(merged.path, tips)
    reach = every_commit(merged, *tips)
    assert base in reach
    below = every_commit(merged, base)
    assert 0 < len(below) < len(reach)  # both walks have something to do
    assert log.split_point(merged.path, []) is None


def test_no_split_for_a_small_history_or_one_cpu(merged, monkeypatch):
    tips = Repository(str(merged.path)).tips(True)
    monkeypatch.setattr(log, "SPLIT_FROM", 10)
    merged.git("commit-graph", "write", "--reachable")
    if log._cpus() >= 2:
        assert log.split_point(merged.path, tips) is not None  # 14 commits >= 10
    monkeypatch.setattr(log, "_cpus", lambda: 1)
    assert log.split_point(merged.path, tips) is None
    monkeypatch.undo()
    monkeypatch.setattr(log, "SPLIT_FROM", 1000)
    assert log.split_point(merged.path, tips) is None


def test_a_failing_walk_is_a_git_error(merged, monkeypatch):
    tips = Repository(str(merged.path)).tips(True)
    with pytest.raises(GitError):
        list(log.stream_rows(merged.path, tips, base="0" * 40))
    with pytest.raises(GitError):
        list(log.stream_rows(merged.path, ["1" * 40], base=tips[0]))


def test_no_split_without_a_commit_graph(merged, monkeypatch):
    """Without a commit-graph git parses every commit to count or skip them, as the walk does."""
    tips = Repository(str(merged.path)).tips(True)
    monkeypatch.setattr(log, "SPLIT_FROM", 10)
    monkeypatch.setattr(log, "_cpus", lambda: 2)
    assert not log.has_commit_graph(merged.path)
    assert log.split_point(merged.path, tips) is None
    merged.git("commit-graph", "write", "--reachable", "--split")  # a chain of layers counts too
    assert log.has_commit_graph(merged.path)
    assert log.split_point(merged.path, tips) in every_commit(merged, *tips)


def test_the_commit_graph_is_found_from_a_linked_work_tree_and_a_shared_clone(merged, tmp_path, monkeypatch):
    merged.git("commit-graph", "write", "--reachable")
    merged.git("worktree", "add", "-q", str(tmp_path / "linked"), "apart")
    assert log.has_commit_graph(str(tmp_path / "linked"))
    (merged.path / "sub").mkdir()
    assert log.has_commit_graph(str(merged.path / "sub"))
    # A --shared clone has no objects of its own: its source's (an alternate) and their graph serve it.
    subprocess.run(["git", "clone", "-q", "--shared", str(merged.path), str(tmp_path / "shared")], check=True,
                   env=merged.env)
    assert log.has_commit_graph(str(tmp_path / "shared"))
    monkeypatch.setattr(log, "SPLIT_FROM", 10)
    monkeypatch.setattr(log, "_cpus", lambda: 2)
    tips = Repository(str(tmp_path / "shared")).tips(True)
    base = log.split_point(str(tmp_path / "shared"), tips)
    assert base in every_commit(merged, "--all")
    assert sorted(log.stream_rows(str(tmp_path / "shared"), tips)) == \
        sorted(one_walk(monkeypatch, str(tmp_path / "shared"), tips))
    os.unlink(merged.path / ".git" / "objects" / "info" / "commit-graph")
    assert not log.has_commit_graph(str(tmp_path / "shared"))


@pytest.mark.parametrize("fresh_max", [0, history.FRESH_MAX])
def test_the_store_filled_by_a_split_read_answers_as_one_walk(tmp_path, monkeypatch, fresh_max):
    """Random histories with merges: a cold store filled by split reads gives what one uncached walk gives,
    whether the fill keeps its rows at hand or reads them back (fresh_max 0)."""
    monkeypatch.setattr(history, "FRESH_MAX", fresh_max)
    rng = random.Random(11)
    repo = GitRepo(tmp_path / "r")
    messages = ["clock-in", "clock-out: T-3m", "work", "work\n\nClock: out", "clock-in: T-2h", "clock-out"]
    minute = iter(range(0, 10 ** 6, 41))

    def commit():
        total = next(minute)
        name, email = rng.choice(PEOPLE)
        repo.commit(rng.choice(messages), f"2025-02-{1 + total // 1440:02d}T{total % 1440 // 60:02d}:"
                    f"{total % 60:02d}:00+01:00", name=name, email=email)

    commit()
    repo.git("branch", "side")
    path = tmp_path / "r" / ".git" / "hourly" / "markers.sqlite3"
    splits = 0
    for step in range(25):
        action = rng.choice(["commit"] * 4 + ["switch", "merge", "branch"])
        if action == "commit":
            commit()
        elif action == "switch":
            repo.git("switch", "-q", rng.choice(repo.git("branch", "--format=%(refname:short)").split()))
        elif action == "merge":
            other = "side" if repo.git("branch", "--show-current").strip() != "side" else "main"
            repo.git("merge", "-q", "--no-ff", "--no-verify", "-m", "Merge", other, check=False)
        else:
            repo.git("branch", "-f", f"b{step}")
        probe = Repository(str(repo.path))
        for all_refs in (False, True):
            for authors in ((), ("bob",)):
                with monkeypatch.context() as inner:
                    inner.setenv("HOURLY_NO_CACHE", "1")
                    inner.setattr(log, "SPLIT_FROM", 10 ** 9)
                    expected = history.read(probe, all_refs, authors)
                for suffix in ("", "-wal", "-shm"):
                    if os.path.exists(f"{path}{suffix}"):
                        os.unlink(f"{path}{suffix}")
                with monkeypatch.context() as inner:
                    inner.setattr(log, "SPLIT_FROM", 0)
                    splits += log.split_point(probe.top_dir, probe.tips(all_refs)) is not None
                    got = history.read(probe, all_refs, authors)  # fills the store by a split read
                    assert facts(got) == facts(expected), (step, action, all_refs, authors)
                    inner.setenv("HOURLY_NO_CACHE", "1")
                    assert facts(history.read(probe, all_refs, authors)) == facts(expected)  # split, no store
                assert facts(history.read(probe, all_refs, authors)) == facts(expected)  # warm, from the store
        # A scope filled in full into a store that holds rows already (another scope's).
        with monkeypatch.context() as inner:
            inner.setenv("HOURLY_NO_CACHE", "1")
            expected = history.read(probe, True, ("alice",))
        with monkeypatch.context() as inner:
            inner.setattr(log, "SPLIT_FROM", 0)
            assert facts(history.read(probe, True, ("alice",))) == facts(expected), (step, "second scope")
    assert splits > 0


def facts(commits):
    return [(c.sha, c.name, c.email, c.authored.isoformat(), c.marker, c.message, c.rank) for c in commits]


def test_the_report_is_the_same_with_and_without_the_split(merged, monkeypatch):
    def report(split_from):
        env = dict(os.environ, HOURLY_NO_CACHE="1")
        script = ("import sys; from hourly_hooks.git import log; log.SPLIT_FROM = int(sys.argv[1]); "
                  "from hourly_hooks.cli import main; main(['report', '--all', '--format', 'json'])")
        return subprocess.run([os.sys.executable, "-c", script, str(split_from)], cwd=merged.path, env=env,
                              capture_output=True, check=True).stdout
    assert report(0) == report(10 ** 9)


def test_a_long_history_read_in_chunks_gives_every_row(repo, monkeypatch):
    """Thousands of commits (made by git fast-import): output far beyond one pipe read, both walks long."""
    kinds = ("clock-in", "clock-out")
    repo.import_line((f"{kinds[n % 2]}: {'x' * (n % 97)} {n}\n\nwork on part {n}\n".encode(), 1700000000 + 60 * n,
                      "+0100") for n in range(3000))
    tips = [repo.git("rev-parse", "main").strip()]
    expected = one_walk(monkeypatch, repo.path, tips)
    assert len(expected) == 3000
    for base in ("main~1500", "main~10", "main~2990"):
        got = list(log.stream_rows(repo.path, tips, base=repo.git("rev-parse", base).strip()))
        assert len(got) == len(set(got)) == 3000
        assert sorted(got) == sorted(expected)
    monkeypatch.setattr(log, "SPLIT_FROM", 0)
    assert sorted(log.stream_rows(repo.path, tips)) == sorted(expected)
