"""The top-level hooks/ folder: the plain hook scripts, ready for core.hooksPath or copying.

They are generated from the one template in the package; these tests hold them equal to
what `hourly install-hook --print=HOOK --portable` prints, and run them as git would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gitrepo import GitRepo
from hourly_hooks.hooks import install as hookinstall
from hourly_hooks.cli import main

FOLDER = Path(__file__).resolve().parent.parent / "hooks"


@pytest.mark.parametrize("hook", sorted(hookinstall.HOOKS))
def test_each_script_is_what_install_hook_prints(hook):
    printed = CliRunner().invoke(main, ["install-hook", f"--print={hook}", "--portable"])
    assert printed.exit_code == 0, printed.output
    script = FOLDER / hook
    assert script.read_text(encoding="utf-8") == printed.stdout, \
        f"hooks/{hook} is stale: hourly install-hook --print={hook} --portable > hooks/{hook}"
    assert os.access(script, os.X_OK)
    if hook == "prepare-commit-msg":
        assert "INSTALL_PYTHON" not in printed.stdout and "python3" not in printed.stdout  # plain sh, no Python
    else:
        assert "INSTALL_PYTHON=''" in printed.stdout and "HOURLY_PATH=''" in printed.stdout  # names no Python


def test_the_folder_holds_every_hook_and_nothing_else_runnable():
    runnable = {p.name for p in FOLDER.iterdir() if p.is_file() and os.access(p, os.X_OK)}
    assert runnable == set(hookinstall.HOOKS)


def test_portable_needs_print():
    result = CliRunner().invoke(main, ["install-hook", "--portable"])
    assert result.exit_code == 2 and "--portable goes with --print" in result.stderr


def test_core_hooks_path_runs_them(repo: GitRepo):
    """With core.hooksPath at the folder and hourly's scripts on PATH, commits are checked."""
    repo.git("config", "core.hooksPath", str(FOLDER))
    path = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}

    def commit(*args: str, at: str) -> subprocess.CompletedProcess:
        env = {**repo.env, **path, "GIT_AUTHOR_DATE": at, "GIT_COMMITTER_DATE": at}  # a second apart, always
        return subprocess.run(["git", "commit", *args], cwd=repo.path, env=env, capture_output=True, text=True)

    assert commit("-q", "--allow-empty", "-m", "base", at="2026-11-02T08:00:00+00:00").returncode == 0
    done = commit("--allow-empty", "-m", "Clock In T-0M starting", at="2026-11-02T09:00:00+00:00")
    assert done.returncode == 0, done.stderr
    assert repo.git("log", "-1", "--format=%s").strip() == "clock-in: starting"
    again = commit("--allow-empty", "-m", "clock-in", at="2026-11-02T09:30:00+00:00")
    assert again.returncode == 1 and "already clocked in" in again.stderr.lower(), again.stderr
    (repo.path / "notes.txt").write_text("-----BEGIN EC PRIVATE KEY-----\nMHQCAQEEIA==\n-----END EC PRIVATE KEY-----\n")
    repo.git("add", "notes.txt")
    keyed = commit("-m", "notes", at="2026-11-02T09:40:00+00:00")
    assert keyed.returncode == 1 and "refusing to commit notes.txt" in keyed.stderr, keyed.stderr
