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
from hourly_hooks import hookinstall
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
    env = {"PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    repo.git("commit", "-q", "--allow-empty", "-m", "base", env=env)
    done = subprocess.run(["git", "commit", "--allow-empty", "-m", "Clock In T-0M starting"], cwd=repo.path,
                          env={**repo.env, **env}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert repo.git("log", "-1", "--format=%s").strip() == "clock-in: starting"
    again = subprocess.run(["git", "commit", "--allow-empty", "-m", "clock-in"], cwd=repo.path,
                           env={**repo.env, **env}, capture_output=True, text=True)
    assert again.returncode == 1 and "already clocked in" in again.stderr.lower(), again.stderr
    (repo.path / "notes.txt").write_text("-----BEGIN EC PRIVATE KEY-----\nMHQCAQEEIA==\n-----END EC PRIVATE KEY-----\n")
    repo.git("add", "notes.txt")
    keyed = subprocess.run(["git", "commit", "-m", "notes"], cwd=repo.path, env={**repo.env, **env},
                           capture_output=True, text=True)
    assert keyed.returncode == 1 and "refusing to commit notes.txt" in keyed.stderr, keyed.stderr
