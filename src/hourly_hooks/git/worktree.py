"""What hourly needs of the repository before it writes to it: a work tree,
and no merge, rebase, cherry-pick or revert half done.

Both are asked only where they matter (an error path, or just before
`hourly in` / `hourly out` commit), so the hook's fast path never pays for them.
"""

from __future__ import annotations

import os
from typing import Optional

from hourly_hooks.errors import GitError, Rejected
from hourly_hooks.git.run import run_git

# git's state files for an unfinished operation (`git status` reads the same),
# each with how to finish or abort it.
OPERATIONS = (
    ("MERGE_HEAD", "a merge", "git merge --continue (or git commit)", "git merge --abort"),
    ("rebase-merge", "a rebase", "git rebase --continue", "git rebase --abort"),
    ("rebase-apply", "a rebase or git am", "git rebase --continue (or git am --continue)",
     "git rebase --abort (or git am --abort)"),
    ("CHERRY_PICK_HEAD", "a cherry-pick", "git cherry-pick --continue", "git cherry-pick --abort"),
    ("REVERT_HEAD", "a revert", "git revert --continue", "git revert --abort"),
)


def bare_problem(cwd=None) -> Optional[str]:
    """Why cwd has no work tree (a bare repository, or inside the git directory); None if it
    has one or is no repository at all (the caller's own error says that)."""
    code, out, _ = run_git(["rev-parse", "--is-bare-repository", "--is-inside-work-tree",
                            "--absolute-git-dir"], cwd)
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    if code or len(lines) < 3:
        return None
    bare, inside, git_dir = lines[:3]
    if bare == "true":
        return f"{git_dir} is a bare repository: hourly needs a work tree"
    if inside != "true":
        return f"{os.path.abspath(cwd or '.')} is inside the git directory {git_dir}: hourly needs a work tree"
    return None


def require_work_tree(cwd=None) -> None:
    """GitError (exit 3) when cwd is in a repository without a work tree."""
    problem = bare_problem(cwd)
    if problem:
        raise GitError(problem, hint="Run hourly in a clone with a work tree (git clone BARE-PATH).")


def operation_in_progress(cwd=None) -> Optional[tuple]:
    """(what, continue, abort) of the merge / rebase / cherry-pick / revert under way, or None.

    The paths come from `git rev-parse --git-path`, which knows where a linked
    worktree keeps its own MERGE_HEAD and rebase state.
    """
    code, out, _ = run_git(["rev-parse", *(arg for name, *_ in OPERATIONS for arg in ("--git-path", name))], cwd)
    if code:
        return None
    paths = out.decode("utf-8", "surrogateescape").splitlines()
    return next(((what, resume, abort) for (_, what, resume, abort), path in zip(OPERATIONS, paths)
                 if os.path.exists(os.path.join(cwd or ".", path))), None)


def refuse_during_operation(command: str, cwd=None) -> None:
    """Rejected (exit 1) when a commit now would conclude someone's merge, rebase, etc."""
    found = operation_in_progress(cwd)
    if found:
        what, resume, abort = found
        raise Rejected(f"{what} is in progress: `{command}` would commit it as the marker.",
                       hint=f"Finish it first ({resume}) or abort it ({abort}), then run {command} again.")
