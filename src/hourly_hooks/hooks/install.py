"""Install and remove the plain git hooks (for repositories without pre-commit).

Which: ``commit-msg`` (the clock-marker check, ``hourly-clock``),
``prepare-commit-msg`` (``hourly-clock-source``: notes for the check whether
git is amending, which git tells that hook only) and ``pre-commit`` (the key
check, ``hourly-protect-keys``), all from the one packaged script
``hooks/hook.sh`` with the hook's name filled in.

Where: ``git rev-parse --git-path hooks``, so ``core.hooksPath`` and worktrees
are honoured (a worktree shares its repository's hooks).

What: the script with the installing Python's path filled in (like
pre-commit's own hook template), so the hook does not depend on PATH or an
activated virtualenv.

A foreign hook is never lost: by default it is moved aside to
``<hook>.pre-hourly`` and run first by ours (its refusal stands); ``--force``
replaces it instead. Installing twice only refreshes the scripts;
uninstalling removes only hooks that carry our signature line, and puts
chained hooks back.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Dict, List, Optional

from hourly_hooks.git.run import git_text
from hourly_hooks.errors import GitError, OutputError, Rejected
from hourly_hooks.git.worktree import require_work_tree

HOOK = "commit-msg"
CHAINED_SUFFIX = ".pre-hourly"
# The hook name -> (console script, function in hourly_hooks.hooks.entry).
HOOKS: Dict[str, tuple] = {
    "commit-msg": ("hourly-clock", "clock_main"),
    "prepare-commit-msg": ("hourly-clock-source", "source_main"),
    "pre-commit": ("hourly-protect-keys", "protect_keys_main"),
}
# Only the clock check is certain to need nothing outside the standard
# library, so only it is started with `python -S` (the key check reads the
# configuration, which needs tomli on Python < 3.11).
STDLIB_ONLY = ("commit-msg",)
# prepare-commit-msg is plain sh (it only notes what git says): no Python to find.
TEMPLATE = "hook.sh"
# Hooks and a hooks folder hourly makes: run by git for everyone who commits here, written by the owner only.
HOOK_MODE = 0o755


def signature(hook: str) -> str:
    """The line (second of the script) by which hourly knows its own hook."""
    return f"### hourly-hooks {hook} hook ###"


def template() -> str:
    """The packaged hook script, with placeholders (shipped as package data)."""
    return (Path(__file__).parent / TEMPLATE).read_text(encoding="utf-8")


def hooks_dir(cwd=None) -> Path:
    """Where git runs hooks from for this repository."""
    try:
        path = git_text(["rev-parse", "--git-path", "hooks"], cwd).strip()
    except GitError as error:
        raise GitError(f"{error.message}: run this inside the repository to protect") from None
    return Path(cwd or ".").joinpath(path).resolve()


def is_ours(path: Path, hook: str = HOOK) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return signature(hook) in handle.read(4096).splitlines()[:3]
    except OSError:
        return False


def render(python: str, package_parent: Optional[str] = None, hook: str = HOOK) -> str:
    """The script for hook, with the installing Python and the package's location filled in."""
    if hook not in HOOKS:
        raise ValueError(f"unknown hook {hook!r} (expected one of {', '.join(HOOKS)})")
    command, entry = HOOKS[hook]
    text = _sections(template(), hook)
    text = text.replace("@HOOK@", hook).replace("@COMMAND@", command).replace("@ENTRY@", entry)
    text = text.replace("INSTALL_PYTHON=''", f"INSTALL_PYTHON={_quote(python)}", 1)
    if hook not in STDLIB_ONLY:
        return text
    if package_parent is None:
        package_parent = str(Path(__file__).resolve().parents[2])
    return text.replace("HOURLY_PATH=''", f"HOURLY_PATH={_quote(package_parent)}", 1)


def _sections(text: str, hook: str) -> str:
    """The template's lines for hook: a ``#@@ HOOK...`` line starts lines for those hooks only,
    a bare ``#@@`` lines for every hook again (one template, each script only its own part)."""
    kept, wanted = [], True
    for line in text.splitlines(keepends=True):
        if line.startswith("#@@"):
            names = line.split()[1:]
            wanted = not names or hook in names
            continue
        if wanted:
            kept.append(line)
    return "".join(kept)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def install(cwd=None, force: bool = False, python: Optional[str] = None, hooks=tuple(HOOKS)) -> str:
    """Install (or refresh) the hooks (both by default); returns what was done, one line per hook."""
    require_work_tree(cwd)
    directory = hooks_dir(cwd)
    python = python or sys.executable
    # Refuse before writing anything: half an install would be worse than none.
    for hook in hooks:
        target, chained = directory / hook, directory / (hook + CHAINED_SUFFIX)
        if target.exists() and not is_ours(target, hook) and not force and chained.exists():
            raise Rejected(f"{target} is not hourly's, and {chained.name} is taken already.",
                           hint="Merge them by hand, or replace the hooks with: hourly install-hook --force")
    try:
        return _install(directory, hooks, python, force)
    except OSError as error:  # a read-only .git, a file where the folder should be, a full disk
        raise _unwritable(directory, error) from None


def _install(directory: Path, hooks, python: str, force: bool) -> str:
    _make_dirs(directory)
    lines = []
    for hook in hooks:
        target, chained = directory / hook, directory / (hook + CHAINED_SUFFIX)
        if target.exists() and not is_ours(target, hook):
            if force:
                note = f"replaced the existing {hook} hook (--force)"
            else:
                os.replace(target, chained)
                note = f"the existing hook now runs first, from {chained.name}"
        elif target.exists():
            note = "refreshed the existing hourly hook"
        else:
            note = "new"
        _write_executable(target, render(python, hook=hook))
        lines.append(f"Installed the hourly {hook} hook in {target} ({note}).")
    return "\n".join(lines)


def _make_dirs(directory: Path) -> None:
    """The hooks folder and its missing parents, 0755 whatever the umask."""
    missing = [directory, *directory.parents]
    missing = list(reversed(missing[:next(i for i, p in enumerate(missing) if p.exists())]))
    for path in missing:
        path.mkdir(HOOK_MODE)
        path.chmod(HOOK_MODE)  # the umask only narrows: under 000 it stays 0755, under 077 it opens


def _write_executable(path: Path, text: str) -> None:
    """The hook, 0755 whatever the umask: under umask 000 a hook anyone can rewrite would
    run their code at everyone's next commit."""
    temporary = path.with_name(path.name + ".hourly-tmp")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()  # left by a crash, perhaps with another mode
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, HOOK_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, HOOK_MODE)  # the umask only narrowed the mode asked for
    os.replace(temporary, path)


def _unwritable(directory: Path, error: OSError) -> OutputError:
    where = error.filename or directory
    return OutputError(f"cannot change the hooks in {directory}: {error.strerror or error} ({where})",
                       hint=f"Make {directory} a writable folder (or point core.hooksPath at one) and run "
                            "`hourly install-hook` again.")


def uninstall(cwd=None) -> str:
    """Remove our hooks (and put chained ones back); never touch anyone else's."""
    require_work_tree(cwd)
    directory = hooks_dir(cwd)
    try:
        return _uninstall(directory)
    except OSError as error:
        raise _unwritable(directory, error) from None


def _uninstall(directory: Path) -> str:
    lines: List[str] = []
    foreign: List[Path] = []
    for hook in HOOKS:
        target, chained = directory / hook, directory / (hook + CHAINED_SUFFIX)
        if not target.exists():
            continue
        if not is_ours(target, hook):
            foreign.append(target)
            continue
        target.unlink()
        if chained.exists():
            os.replace(chained, target)
            lines.append(f"Removed the hourly {hook} hook; {target} is the hook that was there before.")
        else:
            lines.append(f"Removed the hourly {hook} hook from {target}.")
    if foreign and not lines:
        verb = "was" if len(foreign) == 1 else "were"
        raise Rejected(f"{' and '.join(map(str, foreign))} {verb} not installed by hourly (or was rewritten): "
                       "left as it is.", hint="Remove it by hand if you really want it gone.")
    lines += [f"Left {path} alone: it was not installed by hourly." for path in foreign]
    return "\n".join(lines) or f"No hourly hook in {directory}: nothing to remove."


def status(cwd=None) -> str:
    """'installed', 'pre-commit' (its hook, with hourly or hourly-clock configured), 'foreign' or 'absent'."""
    import re

    target = hooks_dir(cwd) / HOOK
    if not target.exists():
        return "absent"
    if is_ours(target):
        return "installed"
    config = Path(cwd or ".") / ".pre-commit-config.yaml"
    try:
        uses_pre_commit = "pre_commit" in target.read_text(errors="replace") \
            and re.search(r"""^[\s-]*id:\s*["']?hourly(-clock)?["']?\s*(#.*)?$""", config.read_text(), re.M) is not None
    except OSError:
        uses_pre_commit = False
    return "pre-commit" if uses_pre_commit else "foreign"
