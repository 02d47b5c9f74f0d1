"""The marker store makes answers faster, never different.

Every answer of the store (the hook's "this identity's last marker reachable
from HEAD", the report's "all markers reachable from HEAD / --all from this
time on") is compared with a full read of git without the store.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import stat
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from gitrepo import GitRepo

from hourly_hooks import history, store
from hourly_hooks.git import log
from hourly_hooks.cli import main
from hourly_hooks.git.repository import Repository
from hourly_hooks.core.timesheet import Selection, build


def total(repo, *args, env=None):
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--format", "json", *args], env=env)
    assert result.exit_code == 0, result.output + result.stderr
    document = json.loads(result.stdout)
    return document["total"]["seconds"], len(document["anomalies"])


def store_file(repo):
    return repo.path / ".git" / "hourly" / "markers.sqlite3"


@pytest.fixture
def worked(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-02T10:00:00+00:00")
    return repo


# ------------------------------------------------------------------ the report's answers

def test_same_tips_are_answered_from_the_store_without_reading_git(worked):
    assert total(worked) == (3600, 0)
    # Tamper with the stored clock-out's date: if the next run read git, it would not see this.
    with closing(sqlite3.connect(store_file(worked))) as db, db:
        assert db.execute("UPDATE markers SET epoch = epoch + 3600 "
                          "WHERE shape IN (SELECT id FROM shapes WHERE kind = 'out')").rowcount == 1
    assert total(worked) == (7200, 0)
    assert total(worked, env={"HOURLY_NO_CACHE": "1"}) == (3600, 0)


def test_every_marker_field_is_stored(worked):
    worked.commit("work\n\nbody line\n\nClock: in T-15m parser work", "2026-03-03T09:15:00-05:00")
    total(worked)
    with closing(sqlite3.connect(store_file(worked))) as db, db:
        row = db.execute("SELECT a.name, a.email, m.epoch, m.tz, s.kind, s.off, s.note, s.form, s.problem, s.line, "
                         "m.body FROM markers m JOIN authors a ON a.id = m.author JOIN shapes s ON s.id = m.shape "
                         "WHERE s.form = 'trailer'").fetchone()
    assert row == ("Alice Martin", "alice@example.com", 1772547300, -300, "in", 900, "parser work",
                   "trailer", None, 4, "work\n\nbody line\n\nClock: in T-15m parser work")


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


def test_mailmap_change_empties_the_store(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00", name="Old", email="old@example.com")
    repo.commit("clock-out", "2026-03-02T10:00:00+00:00")
    assert total(repo) == (0, 1)  # an open clock-in for old@, a lone clock-out for alice@
    (repo.path / ".mailmap").write_text("Alice Martin <alice@example.com> <old@example.com>\n")
    assert total(repo) == (3600, 0)


def test_mailmap_blob_is_part_of_the_digest(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00", name="Old", email="old@example.com")
    repo.commit("clock-out", "2026-03-02T10:00:00+00:00")
    mapping = repo.path / "map.txt"
    mapping.write_text("Alice Martin <alice@example.com> <old@example.com>\n")
    blob = repo.git("hash-object", "-w", str(mapping)).strip()
    mapping.unlink()
    assert total(repo) == (0, 1)
    repo.git("config", "mailmap.blob", blob)
    assert total(repo) == (3600, 0)
    assert total(repo, env={"HOURLY_NO_CACHE": "1"}) == (3600, 0)


def test_author_filters_have_their_own_scope(worked):
    worked.commit("clock-in", "2026-03-03T09:00:00+00:00", name="Bob", email="bob@example.com")
    worked.commit("clock-out", "2026-03-03T11:00:00+00:00", name="Bob", email="bob@example.com")
    assert total(worked, "--author", "bob") == (7200, 0)
    assert total(worked, "--author", "alice") == (3600, 0)
    assert total(worked) == (10800, 0)


@pytest.mark.parametrize("damage", [b"", b"garbage" * 100, "half", "zeroes"])
def test_a_damaged_store_is_rebuilt(worked, damage):
    assert total(worked) == (3600, 0)
    path = store_file(worked)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    if damage == "half":
        damage = data[: len(data) // 2]
    elif damage == "zeroes":
        damage = data[:100] + b"\0" * (len(data) - 100)
    path.write_bytes(damage)
    assert total(worked) == (3600, 0)
    assert total(worked) == (3600, 0)
    with closing(sqlite3.connect(path)) as db, db:
        assert db.execute("SELECT count(*) FROM markers").fetchone() == (2,)


@pytest.mark.parametrize("damage", ["DELETE FROM shapes", "DELETE FROM authors", "UPDATE shapes SET kind = NULL"])
def test_a_marker_row_that_names_no_author_or_shape_is_damage(worked, damage):
    # A marker row holds its author and marker fields as ids into their own tables:
    # a row whose ids lead nowhere was written by no reader. The answer comes from
    # git, and the store is rebuilt.
    assert total(worked) == (3600, 0)
    with closing(sqlite3.connect(store_file(worked))) as db, db:
        db.execute(damage)
    assert total(worked) == (3600, 0)
    assert total(worked) == (3600, 0)
    with closing(sqlite3.connect(store_file(worked))) as db, db:
        assert db.execute("SELECT count(*) FROM markers JOIN authors ON authors.id = markers.author "
                          "JOIN shapes ON shapes.id = markers.shape WHERE kind IS NOT NULL").fetchone() == (2,)


def test_a_store_of_the_earlier_format_starts_again(worked):
    # Format 3 kept every field in the marker row; format 4 keeps authors and shapes apart.
    assert total(worked) == (3600, 0)
    with closing(sqlite3.connect(store_file(worked))) as db, db:
        key = db.execute("SELECT v FROM meta WHERE k = 'key'").fetchone()[0]
        assert key.startswith("4\0")
        db.execute("UPDATE meta SET v = ? WHERE k = 'key'", ("3" + key[1:],))
        db.execute("UPDATE markers SET epoch = epoch + 3600")  # what the old file says is never used
    assert total(worked) == (3600, 0)
    with closing(sqlite3.connect(store_file(worked))) as db, db:
        assert db.execute("SELECT v FROM meta WHERE k = 'key'").fetchone()[0] == key


def test_no_cache_writes_nothing(worked):
    total(worked, env={"HOURLY_NO_CACHE": "1"})
    assert not store_file(worked).exists()


def test_a_read_only_git_dir_still_gets_its_answer(worked):
    if os.geteuid() == 0:
        pytest.skip("root writes anywhere")
    git_dir = worked.path / ".git"
    mode = git_dir.stat().st_mode
    git_dir.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        assert total(worked) == (3600, 0)
        assert not store_file(worked).exists()
    finally:
        git_dir.chmod(mode)


def test_a_store_that_cannot_be_created_is_skipped(worked):
    (worked.path / ".git" / "hourly").write_text("not a directory")
    assert total(worked) == (3600, 0)
    assert (worked.path / ".git" / "hourly").read_text() == "not a directory"


def test_shallow_clones_bypass_the_store_and_warn(worked, tmp_path):
    for day in range(3, 9):
        worked.commit("clock-in", f"2026-03-{day:02d}T09:00:00+00:00")
        worked.commit("clock-out", f"2026-03-{day:02d}T10:00:00+00:00")
    clone = GitRepo(tmp_path / "shallow", init=False)
    worked.git("clone", "-q", "--depth", "3", f"file://{worked.path}", str(clone.path))
    result = CliRunner().invoke(main, ["report", "--repo", str(clone.path), "--format", "json"])
    assert result.exit_code == 0
    assert "shallow clone" in result.stderr and "git fetch --unshallow" in result.stderr
    assert not store_file(clone).exists()
    strict = CliRunner().invoke(main, ["report", "--repo", str(clone.path), "--strict"])
    assert strict.exit_code == 1 and "history is cut" in strict.stderr
    assert Repository(str(clone.path)).shallow and not Repository(str(worked.path)).shallow
    # Unshallowed, the whole history is billed again.
    clone.git("fetch", "-q", "--unshallow")
    assert total(clone) == (7 * 3600, 0)


def test_replace_refs_bypass_the_store(repo):
    first = repo.commit("clock-in", "2025-02-01T09:00:00+00:00")
    second = repo.commit("clock-out", "2025-02-01T10:00:00+00:00")
    assert total(repo) == (3600, 0)
    repo.git("replace", second, first)
    with store.connect(Repository(str(repo.path))) as opened:
        assert opened is None
    assert total(repo) == total(repo, env={"HOURLY_NO_CACHE": "1"})


# ------------------------------------------------------------------ the cut before --since

def test_a_clock_in_dated_back_across_since_is_read_with_what_came_before(repo):
    day = "2026-03-02T{}:00+00:00".format
    repo.commit("clock-in", day("08:00"))
    repo.commit("clock-out", day("12:00"))
    repo.commit("clock-in: T-2h", day("13:00"))      # 11:00: overlaps 08:00-12:00, not billed
    repo.commit("clock-out", day("14:00"))
    repo.commit("clock-in: T-40m", day("14:10"))     # 13:30: after 12:00, the last billed end
    repo.commit("clock-out", day("15:00"))
    since = ("--since", "2026-03-02T13:00:00+00:00", "--tz", "UTC")
    assert total(repo, *since, env={"HOURLY_NO_CACHE": "1"}) == (5400, 0)
    assert total(repo, *since) == (5400, 0)  # read from 13:00 on only, 13:30-15:00 would overlap 11:00-14:00


# ------------------------------------------------------------------ the proof by random histories

PEOPLE = [("Alice", "alice@example.com"), ("Bob", "bob@example.com"), ("Cleo", "cleo@example.com")]
MESSAGES = ["clock-in", "clock-out: T-3m", "work", "work\n\nClock: out", "Clock in - note",
            "fixed clocking in", "clock-in: T-2h", "clock-out: T-1d", "clock-out"]


def uncached(patch, call, *args, **kwargs):
    with patch.context() as inner:
        inner.setenv("HOURLY_NO_CACHE", "1")
        return call(*args, **kwargs)


def facts(commits):
    return [(c.sha, c.name, c.email, c.authored.isoformat(), c.marker, c.message, c.rank) for c in commits]


def sheet_facts(sheet):
    return ([(line.session.commits, line.seconds) for line in sheet.lines],
            [s.commits for s in sheet.open],
            [(a.kind, a.commits, a.when.isoformat()) for a in sheet.anomalies])


def test_the_store_never_disagrees_with_a_full_read(tmp_path, monkeypatch):
    """Random commits, amends, resets, branch switches and deletions, rebases, merges,
    gc --prune=now, a damaged store file and a mailmap change: after every step every
    answer of the store equals a full read without it, for the hook's question (each
    person's last marker from HEAD, and from HEAD's parents as for an --amend) and the
    report's (all markers from HEAD and from every ref, and the timesheet from a time on)."""
    rng = random.Random(7)
    repo = GitRepo(tmp_path / "r")
    minute = iter(range(0, 10**6, 37))

    def when():
        total = next(minute)
        return f"2025-02-{1 + total // 1440:02d}T{total % 1440 // 60:02d}:{total % 60:02d}:00+01:00"

    def commit(amend=False):
        name, email = rng.choice(PEOPLE[:2]) if rng.random() < 0.8 else PEOPLE[2]
        message = rng.choice(MESSAGES) if email != PEOPLE[2][1] else "work"
        if amend:
            repo.git("commit", "-q", "--amend", "--no-verify", "--allow-empty", "-m", message)
        else:
            repo.commit(message, when(), name=name, email=email)

    def current():
        return repo.git("branch", "--show-current").strip()

    commit()
    repo.git("branch", "side")
    path = store_file(repo)
    checked = 0
    prefetches_used = 0
    for step in range(60):
        action = rng.choice(["commit"] * 6 + ["amend", "reset", "switch", "rebase", "merge", "gc",
                                              "damage", "branch", "delete", "mailmap"])
        if action == "commit":
            commit()
        elif action == "amend":
            commit(amend=True)
        elif action == "reset":
            count = int(repo.git("rev-list", "--count", "HEAD"))
            if count > 1:
                repo.git("reset", "-q", "--hard", f"HEAD~{rng.randint(1, min(3, count - 1))}")
        elif action == "switch":
            branches = repo.git("branch", "--format=%(refname:short)").split()
            repo.git("switch", "-q", rng.choice(branches))
        elif action == "rebase":
            other = "side" if current() != "side" else "main"
            if repo.git("rebase", "-q", other, check=False) == "" and (repo.path / ".git" / "rebase-merge").exists():
                repo.git("rebase", "--abort")
        elif action == "merge":
            other = "side" if current() != "side" else "main"
            repo.git("merge", "-q", "--no-ff", "--no-verify", "-m", "Merge", other, check=False)
        elif action == "gc":
            repo.git("reflog", "expire", "--expire=now", "--all")
            repo.git("gc", "-q", "--prune=now")
        elif action == "damage" and path.exists():
            data = path.read_bytes()
            path.write_bytes(rng.choice([b"", b"garbage", data[: len(data) // 2]]))
        elif action == "branch":
            repo.git("branch", "-f", f"b{step}")
        elif action == "delete":
            extra = [b for b in repo.git("branch", "--format=%(refname:short)").split()
                     if b not in ("main", "side", current())]
            if extra:
                repo.git("branch", "-q", "-D", rng.choice(extra))
        elif action == "mailmap":
            mailmap = repo.path / ".mailmap"
            if mailmap.exists():
                mailmap.unlink()
            else:
                mailmap.write_text("Alice <alice@example.com> <bob@example.com>\n")

        probe = Repository(str(repo.path))
        for _, email in PEOPLE:
            expected = uncached(monkeypatch, history.last_marker, probe, email)
            # The hook's way first (its git log started before the probe), while
            # the stored tips still trail HEAD; then the plain way.
            prefetched = history.Prefetch.start(probe.top_dir)
            got = history.last_marker(Repository(str(repo.path)), email, prefetched=prefetched)
            assert facts([got] if got else []) == facts([expected] if expected else []), (step, action, "early")
            prefetches_used += prefetched is not None and prefetched.taken
            got = history.last_marker(probe, email)
            assert facts([got] if got else []) == facts([expected] if expected else []), (step, action, email)
            parents = probe.parents(probe.head)
            expected = uncached(monkeypatch, history.last_marker, probe, email, heads=parents)
            got = history.last_marker(Repository(str(repo.path)), email, heads=parents)
            assert facts([got] if got else []) == facts([expected] if expected else []), (step, action, "amend")
            probe = Repository(str(repo.path))
        for all_refs in (False, True):
            full = uncached(monkeypatch, history.read, probe, all_refs)
            assert facts(history.read(probe, all_refs)) == facts(full), (step, action, all_refs)
            for days in (2, 5, 9):
                since = datetime(2025, 2, days, 12, tzinfo=timezone(timedelta(hours=1)))
                selection = Selection(tz=timezone.utc, since=since)
                windowed = history.read(probe, all_refs, since=since)
                assert set(facts(windowed)) <= set(facts(full))
                assert sheet_facts(build(selection, windowed)) == sheet_facts(build(selection, full)), \
                    (step, action, all_refs, days)
                checked += len(full) - len(windowed)
    assert checked > 0  # the cut did leave markers out, so the comparison had something to prove
    assert prefetches_used > 0  # the hook's early git log did answer, so it was compared too


def test_the_store_never_disagrees_with_a_full_read_when_reads_are_split(tmp_path, monkeypatch):
    """The same proof with every full read split in two walks (store fills and uncached reads alike);
    tests/test_store_split.py shows split reads equal one walk."""
    monkeypatch.setattr(log, "SPLIT_FROM", 0)
    test_the_store_never_disagrees_with_a_full_read(tmp_path, monkeypatch)


def test_the_hooks_questions_import_nothing_heavy():
    # The commit-msg hook asks history.last_marker through the store on every marker
    # commit: neither may pull in contextlib (and collections, functools...), typing,
    # re, dataclasses or subprocess, each milliseconds of every commit.
    heavy = ("contextlib", "collections", "functools", "typing", "re", "dataclasses", "subprocess")
    code = ("import sys; import hourly_hooks.hooks.entry, hourly_hooks.history, hourly_hooks.store; "
            f"print([m for m in {heavy!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stderr
