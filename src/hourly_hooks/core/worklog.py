"""The work log's pure part: the commits each person made during each of their sessions.

``attach`` matches commits already read to sessions by identity and author
time; git/worklog.py reads the commits, and only when a report asks for the
work log, so the default report stays one ``git log`` that git filters down
to the marker commits.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from typing import Dict, Iterable, List, cast

from hourly_hooks.core import markers
from hourly_hooks.core.sessions import MarkerCommit, Session, identity_of

WorkLog = Dict[str, List["WorkCommit"]]  # clock-in SHA -> the session's commits, oldest first


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
