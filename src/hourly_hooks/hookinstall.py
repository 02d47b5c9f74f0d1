"""Install and remove the plain commit-msg hook (for repositories without pre-commit).

Where: ``git rev-parse --git-path hooks``, so ``core.hooksPath`` and worktrees
are honoured (a worktree shares its repository's hooks).

What: the packaged ``hooks/commit-msg`` script, with the installing Python's
path filled in (like pre-commit's own hook template), so the hook does not
depend on PATH or an activated virtualenv.

A foreign commit-msg hook is never lost: by default it is moved aside to
``commit-msg.pre-hourly`` and run first by ours (its refusal stands);
``--force`` replaces it instead. Installing twice only refreshes the script;
uninstalling removes only a hook that carries our marker line, and puts a
chained hook back.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Optional

from hourly_hooks.gitcmd import git_text
from hourly_hooks.errors import GitError, Rejected

HOOK = "commit-msg"
CHAINED_SUFFIX = ".pre-hourly"
SIGNATURE = "### hourly-hooks commit-msg hook ###"


def template() -> str:
    """The packaged hook script (shipped as package data)."""
    return (Path(__file__).parent / "hooks" / HOOK).read_text(encoding="utf-8")


def hooks_dir(cwd=None) -> Path:
    """Where git runs hooks from for this repository."""
    try:
        path = git_text(["rev-parse", "--git-path", "hooks"], cwd).strip()
    except GitError as error:
        raise GitError(f"{error.message}: run this inside the repository to protect") from None
    return Path(cwd or ".").joinpath(path).resolve()


def is_ours(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return SIGNATURE in handle.read(4096).splitlines()[:3]
    except OSError:
        return False


def render(python: str, package_parent: Optional[str] = None) -> str:
    """The script with the installing Python and the package's location filled in."""
    if package_parent is None:
        package_parent = str(Path(__file__).resolve().parent.parent)
    text = template().replace("INSTALL_PYTHON=''", f"INSTALL_PYTHON={_quote(python)}", 1)
    return text.replace("HOURLY_PATH=''", f"HOURLY_PATH={_quote(package_parent)}", 1)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def install(cwd=None, force: bool = False, python: Optional[str] = None) -> str:
    """Install (or refresh) the hook; returns what was done, for the user."""
    directory = hooks_dir(cwd)
    directory.mkdir(parents=True, exist_ok=True)
    target, chained = directory / HOOK, directory / (HOOK + CHAINED_SUFFIX)
    python = python or sys.executable
    if target.exists() and not is_ours(target):
        if force:
            note = f"replaced the existing {HOOK} hook (--force)"
        elif chained.exists():
            raise Rejected(f"{target} is not hourly's, and {chained.name} is taken already.",
                           hint="Merge them by hand, or replace the hook with: hourly install-hook --force")
        else:
            os.replace(target, chained)
            note = f"the existing hook now runs first, from {chained.name}"
    elif target.exists():
        note = "refreshed the existing hourly hook"
    else:
        note = "new"
    _write_executable(target, render(python))
    return f"Installed the hourly commit-msg hook in {target} ({note})."


def _write_executable(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".hourly-tmp")
    temporary.write_text(text, encoding="utf-8")
    mode = temporary.stat().st_mode
    temporary.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.replace(temporary, path)


def uninstall(cwd=None) -> str:
    """Remove our hook (and put a chained one back); refuse to touch anyone else's."""
    directory = hooks_dir(cwd)
    target, chained = directory / HOOK, directory / (HOOK + CHAINED_SUFFIX)
    if not target.exists():
        return f"No commit-msg hook in {directory}: nothing to remove."
    if not is_ours(target):
        raise Rejected(f"{target} was not installed by hourly (or was rewritten): left as it is.",
                       hint="Remove it by hand if you really want it gone.")
    target.unlink()
    if chained.exists():
        os.replace(chained, target)
        return f"Removed the hourly hook; {target} is the hook that was there before."
    return f"Removed the hourly commit-msg hook from {target}."


def status(cwd=None) -> str:
    """'installed', 'pre-commit' (its hook, with hourly-clock configured), 'foreign' or 'absent'."""
    target = hooks_dir(cwd) / HOOK
    if not target.exists():
        return "absent"
    if is_ours(target):
        return "installed"
    config = Path(cwd or ".") / ".pre-commit-config.yaml"
    try:
        uses_pre_commit = "pre_commit" in target.read_text(errors="replace") and "hourly-clock" in config.read_text()
    except OSError:
        uses_pre_commit = False
    return "pre-commit" if uses_pre_commit else "foreign"
