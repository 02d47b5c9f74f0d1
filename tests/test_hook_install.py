"""`hourly install-hook` / `uninstall-hook`: where the hook goes, what it keeps, what it removes."""

from __future__ import annotations

import os
import shutil
import stat

import pytest

from hook_helpers import PYTHON, ROOT, HookedRepo

from hourly_hooks import hookinstall

FOREIGN = "#!/bin/sh\necho foreign ran >> \"$(git rev-parse --git-dir)/foreign.log\"\n" \
          "if grep -q WIP \"$1\"; then echo 'foreign: no WIP commits' >&2; exit 1; fi\n"


def at(hhmm: str) -> str:
    return f"2025-03-03T{hhmm}:00+01:00"


@pytest.fixture
def repo(tmp_path) -> HookedRepo:
    return HookedRepo(tmp_path / "work")


def hook_path(repo: HookedRepo, name: str = "commit-msg"):
    return repo.git_dir() / "hooks" / name


def write_foreign(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(FOREIGN)
    path.chmod(0o755)


def test_install_writes_an_executable_hook_that_knows_this_python(repo):
    done = repo.install_hook()
    target = hook_path(repo)
    assert str(target) in done.stdout
    assert target.stat().st_mode & stat.S_IXUSR
    text = target.read_text()
    assert hookinstall.SIGNATURE in text.splitlines()[1]
    assert f"INSTALL_PYTHON='{PYTHON}'" in text
    repo.accept("clock-in", when=at("09:00"))
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))


def test_install_is_idempotent(repo):
    repo.install_hook()
    first = hook_path(repo).read_text()
    done = repo.install_hook()
    assert "refreshed" in done.stdout
    assert hook_path(repo).read_text() == first
    assert sorted(p.name for p in hook_path(repo).parent.iterdir() if p.name.startswith("commit-msg") and not p.name.endswith(".sample")) == ["commit-msg"]
    repo.accept("clock-in", when=at("09:00"))
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))


def test_foreign_hook_is_chained_and_still_runs_first(repo):
    write_foreign(hook_path(repo))
    done = repo.install_hook()
    assert "commit-msg.pre-hourly" in done.stdout
    assert hook_path(repo, "commit-msg.pre-hourly").read_text() == FOREIGN
    assert "foreign: no WIP" in repo.refuse("clock-in WIP", when=at("09:00"))
    repo.accept("clock-in", when=at("09:00"))
    assert (repo.git_dir() / "foreign.log").read_text().count("foreign ran") == 2
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))
    repo.install_hook()  # again: still chained once, not twice
    assert hook_path(repo, "commit-msg.pre-hourly").read_text() == FOREIGN


def test_force_replaces_a_foreign_hook(repo):
    write_foreign(hook_path(repo))
    done = repo.install_hook("--force")
    assert "--force" in done.stdout
    assert not hook_path(repo, "commit-msg.pre-hourly").exists()
    repo.accept("clock-in WIP", when=at("09:00"))


def test_refuses_when_both_names_are_taken(repo):
    write_foreign(hook_path(repo))
    write_foreign(hook_path(repo, "commit-msg.pre-hourly"))
    done = repo.hourly("install-hook")
    assert done.returncode == 1
    assert "--force" in done.stderr
    assert hook_path(repo).read_text() == FOREIGN


def test_uninstall_removes_ours_and_restores_the_chained_hook(repo):
    write_foreign(hook_path(repo))
    repo.install_hook()
    done = repo.hourly("uninstall-hook")
    assert done.returncode == 0, done.stderr
    assert hook_path(repo).read_text() == FOREIGN
    assert not hook_path(repo, "commit-msg.pre-hourly").exists()
    repo.accept("clock-in", when=at("09:00"))
    repo.accept("clock-in", when=at("09:30"))  # no clock hook any more


def test_uninstall_leaves_a_foreign_hook_alone(repo):
    write_foreign(hook_path(repo))
    done = repo.hourly("uninstall-hook")
    assert done.returncode == 1
    assert "not installed by hourly" in done.stderr
    assert hook_path(repo).read_text() == FOREIGN


def test_uninstall_without_a_hook_is_harmless(repo):
    done = repo.hourly("uninstall-hook")
    assert done.returncode == 0 and "nothing to remove" in done.stdout


def test_core_hooks_path_is_honoured(repo):
    repo.git("config", "core.hooksPath", ".githooks")
    done = repo.install_hook()
    assert (repo.path / ".githooks" / "commit-msg").exists()
    assert not hook_path(repo).exists()
    assert ".githooks" in done.stdout
    repo.accept("clock-in", when=at("09:00"))
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))


def test_install_from_a_worktree_serves_the_whole_repository(repo, tmp_path):
    repo.accept("start", when=at("08:00"))
    worktree = tmp_path / "wt"
    repo.git("worktree", "add", "-q", "-b", "wt", str(worktree))
    repo.install_hook(cwd=worktree)
    assert hook_path(repo).exists()  # the common git dir's hooks
    assert repo.try_commit("clock-in", when=at("09:00"), cwd=worktree).returncode == 0
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"), cwd=worktree)


def test_outside_a_repository(tmp_path):
    repo = HookedRepo(tmp_path / "norepo", init=False)
    repo.path.mkdir()
    done = repo.hourly("install-hook")
    assert done.returncode == 3
    assert "not a git repository" in done.stderr.lower()


def test_packaged_and_top_level_hook_scripts_are_the_same():
    packaged = ROOT / "src" / "hourly_hooks" / "hooks" / "commit-msg"
    assert (ROOT / "hooks" / "commit-msg").read_text() == packaged.read_text()
    assert hookinstall.template() == packaged.read_text()


def test_top_level_script_copied_by_hand_finds_hourly_on_path(repo):
    # No `hourly install-hook`: the user copies hooks/commit-msg. INSTALL_PYTHON is
    # empty, so the script falls back to hourly-clock / python3 on PATH.
    target = hook_path(repo)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "hooks" / "commit-msg", target)
    target.chmod(0o755)
    repo.accept("Clock In", when=at("09:00"))
    assert repo.subject() == "clock-in"
    assert "already clocked in" in repo.refuse("clock-in", when=at("09:30"))


def test_hook_whose_python_is_gone_explains_itself(repo, tmp_path):
    repo.install_hook()
    target = hook_path(repo)
    target.write_text(target.read_text().replace(f"INSTALL_PYTHON='{PYTHON}'", "INSTALL_PYTHON='/nonexistent/python'"))
    # PATH without any Python that has hourly_hooks, nor hourly-clock.
    empty = tmp_path / "emptybin"
    empty.mkdir()
    for tool in ("git", "sh", "grep", "dirname"):
        found = shutil.which(tool)
        if found:
            os.symlink(found, empty / tool)
    done = repo.try_commit("clock-in", when=at("09:00"), env={"PATH": str(empty), "PYTHONPATH": ""})
    assert done.returncode == 1
    assert "hourly-hooks is not installed" in done.stderr
    assert "--no-verify" in done.stderr
