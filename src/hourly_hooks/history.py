"""Read marker commits out of git, through the marker store: what report and invoice call.

The reading itself (one streamed ``git log`` per repository, the SQLite
store that remembers it) is in store.py; the repository probe in
git/repository.py. This module keeps the report's vocabulary: repositories in,
records.MarkerCommit out, and a clear error for a repository without commits.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator, Optional, Sequence

from hourly_hooks import store
from hourly_hooks.core import markers
from hourly_hooks.errors import GitError, UsageError
from hourly_hooks.git.run import run_git
from hourly_hooks.core.records import MarkerCommit
from hourly_hooks.git.repository import Repository, open_repository

__all__ = ["GREP_PATTERNS", "MarkerCommit", "Repository", "author_pattern", "has_commits",
           "marker_before", "open_repository", "read_all", "read_markers", "refuse_shallow", "shallow_warning"]

GREP_PATTERNS = markers.GREP


def has_commits(repo: Repository) -> bool:
    return run_git(["rev-parse", "-q", "--verify", "HEAD"], repo.top_dir)[0] == 0


def author_pattern(email: str) -> str:
    """A ``git log --author`` pattern matching exactly this email.

    --author takes an extended, case-insensitive regex on "Name <email>": the
    email is escaped and anchored on <...>, so bob@x.com does not also match
    jimbob@x.com.
    """
    return "<" + re.sub(r"([.\[\]{}()*+?^$|\\])", r"\\\1", email) + ">"


def check_author_patterns(repo: Repository, patterns: Sequence[str]) -> None:
    """UsageError, in our words, for a --author pattern git cannot compile.

    git compiles the patterns before it walks, so ``-n0`` asks it to do only
    that: the answer costs no walk, and git's regex dialect (POSIX ERE) decides.
    """
    if not patterns:
        return
    from hourly_hooks.git.run import git_message
    code, _, err = run_git(["log", "-n0", "-i", "-E", *[f"--author={p}" for p in patterns],
                            "HEAD", "--"], repo.top)
    if code and has_commits(repo):
        shown = " ".join(repr(p) for p in patterns)
        reason = git_message(err).split(": ", 1)[-1]
        raise UsageError(f"--author {shown}: not a valid regular expression ({reason})",
                         hint="--author takes a case-insensitive extended regex on 'Name <email>'; "
                              "escape ( [ . * + ? with a backslash to match them literally.")


def read_markers(repo: Repository, all_refs: bool = False, authors: Iterable[str] = (),
                 since=None, exclude: Sequence[str] = ()) -> Iterator[MarkerCommit]:
    """The commits of repo that carry a clock marker, in pairing order.

    since (an aware datetime) lets the store leave out markers that cannot
    change anything from then on (see store.cut); exclude: SHA prefixes the
    timesheet will drop (they matter for that decision).
    """
    if repo.head is None and (not all_refs or not repo.tips(True)):
        _refuse_empty(repo)
    progress = store.Progress()
    try:
        commits = store.read(repo, all_refs, tuple(authors), since, exclude, progress)
    finally:
        progress.done()
    return iter(commits)


def read_all(repos: Iterable[Repository], all_refs: bool = False, authors: Iterable[str] = (),
             since=None, exclude: Sequence[str] = ()) -> Iterator[MarkerCommit]:
    """The marker commits of several repositories, one after the other."""
    authors = tuple(authors)
    repos = tuple(repos)
    if len(repos) > 1:
        since = None  # one person's markers interleave across repositories: no per-repository cut
    for repo in repos:
        yield from read_markers(repo, all_refs, authors, since, exclude)


def marker_before(repo: Repository, identity: str, commit: MarkerCommit) -> Optional[MarkerCommit]:
    """The identity's marker before `commit` (its last over what commit's parents reach), or None:
    what clockrules.check asks when a new event falls at the very time of `commit`."""
    return store.last_marker(repo, identity, heads=repo.parents(commit.sha))


def shallow_warning(repo: Repository) -> Optional[str]:
    """What to tell the user when the history is cut (a shallow clone), else None."""
    if not repo.shallow:
        return None
    return (f"{repo.top_dir} is a shallow clone: the history is cut, so earlier markers are missing and "
            "sessions may be under-billed. Fetch the whole history with: git fetch --unshallow")


def refuse_shallow(repo: Repository) -> None:
    """GitError for commands that must not bill from a cut history (invoice)."""
    if repo.shallow:
        raise GitError(f"{repo.top_dir} is a shallow clone: the history is cut, so sessions would be missing",
                       hint="Fetch the whole history first: git fetch --unshallow")


def _refuse_empty(repo: Repository) -> None:
    raise GitError(f"{repo.top_dir} has no commits yet", hint="Clock in first: hourly in")
