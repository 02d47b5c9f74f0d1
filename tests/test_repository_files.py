"""The hook's repository probe from files (Repository.started) against git's own answer.

The commit-msg hook reads the work tree's layout (top, common git dir,
shallowness, HEAD) from the files git keeps, instead of asking `git
rev-parse`; wherever the files could say something else than git, it must ask
git. Each case builds a real layout and compares both probes field by field,
and says whether the files were trusted.
"""

from __future__ import annotations

import os

import pytest

from gitrepo import GitRepo
from hook_helpers import ALICE, HookedRepo, at, install_plain_hooks
from hourly_hooks.git.repository import Repository

FIELDS = ("top_dir", "common_dir", "shallow", "head", "head_parents")


def probes(path, monkeypatch, env=None):
    """(the files' probe, git's probe) of the work tree at path, run there as git runs a hook."""
    monkeypatch.chdir(path)
    for key, value in (env or {}).items():
        monkeypatch.setenv(key, value)
    quick = Repository.started()
    known = quick.known
    quick.ready()
    slow = Repository()
    assert {f: getattr(quick, f) for f in FIELDS} == {f: getattr(slow, f) for f in FIELDS}
    assert quick.config() == slow.config()
    return known, quick, slow


@pytest.fixture
def history(repo):
    repo.commit("clock-in", at("09:00"))
    repo.commit("work", at("09:30"))
    repo.commit("clock-out", at("10:00"))
    return repo


def test_a_loose_branch_is_read_from_the_files(history, monkeypatch):
    known, quick, _ = probes(history.path, monkeypatch)
    assert known and quick.head == history.git("rev-parse", "HEAD").strip()
    assert not quick.shallow


def test_a_packed_branch_is_read_from_packed_refs(history, monkeypatch):
    history.git("pack-refs", "--all", "--prune")
    assert not (history.path / ".git" / "refs" / "heads" / "main").exists()
    known, quick, _ = probes(history.path, monkeypatch)
    assert known and quick.head == history.git("rev-parse", "HEAD").strip()


def test_a_loose_ref_wins_over_a_stale_packed_one(history, monkeypatch):
    history.git("pack-refs", "--all")  # packed at the third commit, kept loose too
    history.commit("clock-in", at("11:00"))  # the loose ref moves on, the packed one stays
    known, quick, _ = probes(history.path, monkeypatch)
    assert known and quick.head == history.git("rev-parse", "HEAD").strip()


def test_a_detached_head_is_read_from_the_files(history, monkeypatch):
    history.git("switch", "-q", "--detach", "HEAD~1")
    known, quick, _ = probes(history.path, monkeypatch)
    assert known and quick.head == history.git("rev-parse", "HEAD~0").strip()


def test_a_linked_worktree_is_read_from_its_git_file(history, tmp_path, monkeypatch):
    worktree = tmp_path / "wt"
    history.git("worktree", "add", "-q", "-b", "wt", str(worktree), "HEAD~1")
    known, quick, _ = probes(worktree, monkeypatch)
    assert known and quick.top_dir == str(worktree.resolve())
    assert quick.common_dir == str((history.path / ".git").resolve())
    # As git runs a hook in a linked worktree: GIT_DIR exported, the work tree its top.
    git_dir = GitRepo(worktree, history.env, init=False).git("rev-parse", "--absolute-git-dir").strip()
    known, quick, _ = probes(worktree, monkeypatch, {"GIT_DIR": git_dir})
    assert known and quick.head == history.git("rev-parse", "HEAD~1").strip()


def test_a_git_dir_set_by_the_user_is_honoured(history, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    known, quick, _ = probes(elsewhere, monkeypatch, {"GIT_DIR": str(history.path / ".git")})
    assert known and quick.top_dir == str(elsewhere.resolve())  # git's rule: GIT_DIR alone, the top is here
    assert quick.common_dir == str(history.path / ".git")


def test_a_work_tree_set_by_the_user_is_left_to_git(history, tmp_path, monkeypatch):
    known, _, _ = probes(tmp_path, monkeypatch, {"GIT_DIR": str(history.path / ".git"),
                                                 "GIT_WORK_TREE": str(history.path)})
    assert not known


def test_core_worktree_is_left_to_git(history, tmp_path, monkeypatch):
    """With core.worktree the top is elsewhere: the files seemed to answer, the config says ask git."""
    history.git("config", "core.worktree", str(history.path))
    known, quick, _ = probes(history.path, monkeypatch)
    assert known  # the files looked fine before the config came back...
    assert not quick.known  # ...which sent the probe to git


def test_a_shallow_clone_is_seen_from_its_shallow_file(history, tmp_path, monkeypatch):
    clone = tmp_path / "shallow"
    history.git("clone", "-q", "--depth", "1", f"file://{history.path}", str(clone))
    known, quick, _ = probes(clone, monkeypatch)
    assert known and quick.shallow and quick.head_parents == []


def test_a_subdirectory_unborn_branch_and_symbolic_ref_are_left_to_git(history, tmp_path, monkeypatch):
    (history.path / "sub").mkdir()
    assert not probes(history.path / "sub", monkeypatch)[0]  # git would look upwards
    history.git("symbolic-ref", "refs/heads/alias", "refs/heads/main")
    history.git("symbolic-ref", "HEAD", "refs/heads/alias")
    known, quick, _ = probes(history.path, monkeypatch)
    assert not known and quick.head == history.git("rev-parse", "main").strip()
    empty = GitRepo(tmp_path / "empty")
    known, quick, _ = probes(empty.path, monkeypatch)
    assert not known and quick.head is None


def test_the_hook_reads_a_packed_head_and_a_detached_one(tmp_path):
    """Real commits through the hook: its answers come from the HEAD the files name."""
    hooked = HookedRepo(tmp_path / "hooked")
    install_plain_hooks(hooked)
    assert hooked.try_commit("clock-in", when=at("09:00")).returncode == 0
    hooked.git("pack-refs", "--all", "--prune")
    assert "already clocked in" in hooked.refuse("clock-in", when=at("09:30"))
    assert hooked.try_commit("clock-out", when=at("10:00")).returncode == 0
    hooked.git("switch", "-q", "--detach", "HEAD~1")  # back before the clock-out: clocked in there
    assert "already clocked in" in hooked.refuse("clock-in", when=at("10:30"))
    assert hooked.try_commit("clock-out", when=at("10:45"), who=ALICE).returncode == 0
