"""The work log read from git: the commits each person made during each of their sessions.

``read_commits`` reads them with one streamed ``git log`` per repository, and
only when a report asks for the work log, so the default report stays one
``git log`` that git filters down to the marker commits. Matching them to
sessions is pure: core/worklog.py.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timedelta
from typing import Iterable, Iterator, List, Optional, Sequence, cast

from hourly_hooks.core.sessions import Session
from hourly_hooks.core.worklog import WorkCommit, WorkLog, attach
from hourly_hooks.errors import GitError
from hourly_hooks.git.run import git_message
from hourly_hooks.git.log import ended, split_records

_FORMAT = "%H%x00%at%x00%aI%x00%aN%x00%aE%x00%s"

# git log --since compares committer dates, and stops walking a line of history at
# the first commit older than it. A commit is normally committed at or after it is
# authored, so a window opened a day before the first session keeps every commit
# authored during a session, with room for a committer clock that ran behind.
_SINCE_MARGIN = timedelta(days=1)


def log_command(since: Optional[datetime], all_refs: bool = False, authors: Sequence[str] = ()) -> List[str]:
    """The one git log that lists the candidate commits of a repository.

    No --until: a rebase gives a commit a committer date long after its author
    date, and --until would drop it. No --grep either: every commit is a
    candidate, and Python keeps those authored during a session.
    """
    command = ["git", "-c", "log.showSignature=false", "log", "-z", "-i", "-E",
               f"--format={_FORMAT}", "--use-mailmap"]
    if since is not None:
        command.append(f"--since={int((since - _SINCE_MARGIN).timestamp())}")
    command += [f"--author={author}" for author in authors]
    command.append("--all" if all_refs else "HEAD")
    return command


def read_commits(top: os.PathLike, repo_name: str, since: Optional[datetime] = None,
                 until: Optional[datetime] = None, all_refs: bool = False,
                 authors: Sequence[str] = ()) -> Iterator[WorkCommit]:
    """The commits of one repository authored within [since, until], streamed."""
    low = since.timestamp() if since else None
    high = until.timestamp() if until else None
    env = dict(os.environ, GIT_PAGER="cat", LC_ALL="C")
    try:
        process = subprocess.Popen(log_command(since, all_refs, authors), cwd=top, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL)
    except OSError:
        raise GitError("git is not installed or not on PATH") from None
    assert process.stdout is not None and process.stderr is not None
    try:
        for fields in split_records(process.stdout, 6):
            stamp = int(fields[1])
            if (low is not None and stamp < low) or (high is not None and stamp > high):
                continue
            sha, _, date, name, email, subject = [f.decode("utf-8", "replace") for f in fields]
            yield WorkCommit(sha.lstrip("\n"), name, email, stamp, date, subject, repo_name)
    finally:
        code, stderr = ended(process)
        # A consumer that stops early closes the pipe: git then dies quietly of SIGPIPE.
        if code and stderr:
            raise GitError(git_message(stderr) or "git log failed")


def for_sessions(sessions: Sequence[Session], repos: Iterable, key: str = "email",
                 all_refs: bool = False, authors: Sequence[str] = ()) -> WorkLog:
    """Read and attach the work log of sessions: one git log per repository.

    repos are history.Repository values (anything with .top and .name).
    """
    closed = [s for s in sessions if s.end is not None]
    if not closed:
        return {}
    since = min(s.start for s in closed)
    until = max(cast(datetime, s.end) for s in closed)
    return attach(closed, (commit for repo in repos
                           for commit in read_commits(repo.top, repo.name, since, until, all_refs, authors)), key)
