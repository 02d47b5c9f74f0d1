"""The work log: the commits each person made during each of their sessions.

``attach`` is pure: it matches commits already read to sessions by identity
and author time. ``read_commits`` reads them with one streamed ``git log`` per
repository, and only when a report asks for the work log, so the default
report stays one ``git log`` that git filters down to the marker commits.
"""

from __future__ import annotations

import bisect
import os
import subprocess
from datetime import datetime, timedelta
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, cast

from hourly_hooks.core import markers
from hourly_hooks.errors import GitError
from hourly_hooks.git.run import git_message
from hourly_hooks.store import split_records
from hourly_hooks.core.sessions import MarkerCommit, Session, identity_of

WorkLog = Dict[str, List["WorkCommit"]]  # clock-in SHA -> the session's commits, oldest first

_FORMAT = "%H%x00%at%x00%aI%x00%aN%x00%aE%x00%s"

# git log --since compares committer dates, and stops walking a line of history at
# the first commit older than it. A commit is normally committed at or after it is
# authored, so a window opened a day before the first session keeps every commit
# authored during a session, with room for a committer clock that ran behind.
_SINCE_MARGIN = timedelta(days=1)


class WorkCommit:
    """A commit as the work log shows it.

    Slotted, with the author date kept as git's epoch seconds and ISO text: a work
    log reads every commit of the period, and most are only compared by time.
    """

    __slots__ = ("sha", "name", "email", "stamp", "date", "subject", "repo")

    def __init__(self, sha: str, name: str, email: str, stamp: int, date: str, subject: str,
                 repo: str = ""):
        self.sha, self.name, self.email, self.subject, self.repo = sha, name, email, subject, repo
        self.stamp = stamp  # author date, seconds since the epoch
        self.date = date    # author date, ISO 8601 with the author's UTC offset

    @classmethod
    def at(cls, sha: str, name: str, email: str, authored: datetime, subject: str,
           repo: str = "") -> "WorkCommit":
        return cls(sha, name, email, int(authored.timestamp()), authored.isoformat(), subject, repo)

    def __repr__(self) -> str:
        return f"WorkCommit({self.short} {self.date} {self.email} {self.subject!r})"

    @property
    def authored(self) -> datetime:
        return datetime.fromisoformat(self.date)

    @property
    def short(self) -> str:
        return self.sha[:7]


def is_marker_only(subject: str) -> bool:
    """True for a clock commit in subject form: its subject is the marker, not work.

    A work commit carrying a ``Clock:`` trailer keeps its place in the log: its
    subject says what was done.
    """
    if subject.lstrip()[:5].lower() != "clock":
        return False  # most subjects: no need to run the parser
    marker = markers.parse(subject)
    return marker is not None and marker.form == "subject"


def attach(sessions: Iterable[Session], commits: Iterable[WorkCommit], key: str = "email") -> WorkLog:
    """Each session's commits: same identity, author time within [start, end].

    Every session gets an entry, empty when nothing was committed during it.
    Clock commits in subject form are left out (see is_marker_only), and a SHA
    read from two repositories or refs counts once. A commit on the boundary of two sessions
    that touch goes to the later one.
    """
    by_identity: Dict[str, List[Session]] = {}
    log: WorkLog = {}
    for session in sessions:
        if session.end is None:
            continue  # open: no end to bound its commits
        by_identity.setdefault(session.identity, []).append(session)
        log[session.clock_in.sha] = []
    starts: Dict[str, List[float]] = {}
    for identity, own in by_identity.items():
        own.sort(key=lambda s: s.start.timestamp())
        starts[identity] = [s.start.timestamp() for s in own]
    ends = {s.clock_in.sha: cast(datetime, s.end).timestamp() for own in by_identity.values() for s in own}
    seen = set()
    for commit in commits:
        # identity_of reads only .name and .email, which a WorkCommit has.
        identity = identity_of(cast(MarkerCommit, commit), key)
        candidates = by_identity.get(identity)
        if not candidates:
            continue
        index = bisect.bisect_right(starts[identity], commit.stamp) - 1
        if index < 0:
            continue
        session = candidates[index]
        if commit.stamp > ends[session.clock_in.sha] or commit.sha in seen or is_marker_only(commit.subject):
            continue
        seen.add(commit.sha)
        log[session.clock_in.sha].append(commit)
    for found in log.values():
        found.sort(key=lambda c: (c.stamp, c.sha))
    return log


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
        process.stdout.close()
        stderr = process.stderr.read()
        process.stderr.close()
        # A consumer that stops early closes the pipe: git then dies quietly of SIGPIPE.
        if process.wait() != 0 and stderr:
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

    def commits() -> Iterator[WorkCommit]:
        for repo in repos:
            yield from read_commits(repo.top, repo.name, since, until, all_refs, authors)

    return attach(closed, commits(), key)
