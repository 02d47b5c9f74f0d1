"""Pair clock markers into work sessions per identity (pure: no I/O).

Markers are taken in the order they were committed (author date), which is
the order the person actually clocked; the effective times (author date minus
offset) then give each session's start and end. Every irregularity becomes an
Anomaly naming its commits, and none of them shifts how later markers pair
(pairing the n-th clock-in with the n-th clock-out would let one missing
marker corrupt every session after it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Iterable, Optional

from hourly_hooks.core.markers import IN, OUT, NEAR_MISS as NEAR_MISS_FORM, format_duration, format_minutes, format_time
from hourly_hooks.core.records import MarkerCommit, records

DOUBLE_IN = "clock-in-while-clocked-in"
LONE_OUT = "clock-out-without-clock-in"
OUT_BEFORE_IN = "clock-out-before-clock-in"
OVERLAP = "overlapping-sessions"
MALFORMED = "malformed-offset"
NEAR_MISS = "near-miss-marker"
TOO_LONG = "session-too-long"

# A session longer than this is an anomaly until fixed or allowed (config
# `max_session`): a forgotten clock-out must not bill the night.
MAX_SESSION = timedelta(hours=24)


class Session:
    """A clock-in and its clock-out (None while the session is open).

    Slotted, with seconds derived once; start and end are the markers'
    effective datetimes, made when first asked for.
    """

    __slots__ = ("identity", "clock_in", "clock_out", "seconds")

    def __init__(self, identity: str, clock_in: MarkerCommit, clock_out: Optional[MarkerCommit] = None):
        self.identity, self.clock_in, self.clock_out = identity, clock_in, clock_out
        self.seconds = clock_out.effective_epoch - clock_in.effective_epoch if clock_out else 0

    def __repr__(self) -> str:
        return f"Session({self.identity} {self.start.isoformat()} {self.seconds}s)"

    @property
    def start(self) -> datetime:
        return self.clock_in.effective

    @property
    def end(self) -> Optional[datetime]:
        return self.clock_out.effective if self.clock_out else None

    @property
    def author(self) -> str:
        return self.clock_in.author

    @property
    def repo(self) -> str:
        return self.clock_in.repo

    @property
    def note(self) -> str:
        first = self.clock_in.marker.note
        last = self.clock_out.marker.note if self.clock_out else ""
        if not last or last == first:
            return first
        return f"{first}; {last}" if first else last

    @property
    def commits(self) -> tuple:
        return tuple(c.sha for c in (self.clock_in, self.clock_out) if c)

    def mentions(self, text: str) -> bool:
        """True when the clock-in or clock-out message contains text (case-insensitive)."""
        text = text.lower()
        return any(text in c.message.lower() for c in (self.clock_in, self.clock_out) if c)


@dataclass(frozen=True)
class Anomaly:
    kind: str
    identity: str
    commits: tuple
    message: str
    when: datetime


@dataclass
class Pairing:
    sessions: list = field(default_factory=list)
    open: list = field(default_factory=list)
    anomalies: list = field(default_factory=list)


def identity_of(commit: MarkerCommit, key: str = "email") -> str:
    """The grouping key: the (mailmapped) email by default, or name, or both."""
    if key == "name":
        return commit.name
    if key in ("name+email", "name-email", "both"):
        return f"{commit.name} <{commit.email.lower()}>"
    return commit.email.lower()


def unique(commits: Iterable[MarkerCommit], key: str = "email") -> dict:
    """identity -> its commits, without repeated SHAs nor rebased/cherry-picked
    copies (same identity, kind and effective time)."""
    seen_sha: set = set()
    seen_event: set = set()
    by_identity: dict = {}
    lowered: dict = {}  # email -> its lower case: a report has few people and many markers
    by_email = key not in ("name", "name+email", "name-email", "both")
    for commit in commits:
        if by_email:
            email = commit.email
            identity = lowered.get(email)
            if identity is None:
                identity = lowered[email] = email.lower()
        else:
            identity = identity_of(commit, key)
        event = (identity, commit.marker.kind, commit.effective_epoch)
        sha = commit.sha
        if sha in seen_sha or event in seen_event:
            continue
        seen_sha.add(sha)
        seen_event.add(event)
        own = by_identity.get(identity)
        if own is None:
            own = by_identity[identity] = []
        own.append(commit)
    return by_identity


_BY_KEY = attrgetter("key")  # see MarkerCommit.set_rank
_BY_START = attrgetter("clock_in.effective_epoch", "identity")


def pair(commits: Iterable[MarkerCommit], key: str = "email",
         max_session: Optional[timedelta] = MAX_SESSION, allow: Iterable[str] = ()) -> Pairing:
    """Sessions, open sessions and anomalies for every identity in commits.

    A session longer than max_session (None: no limit) is an anomaly, not
    billed, unless its clock-in's SHA starts with one of the prefixes in allow.
    """
    by_identity = unique(commits, key)
    result = Pairing()
    limits = _Limits(max_session, allow)
    for identity, markers in by_identity.items():
        markers.sort(key=_BY_KEY)
        _pair_one(identity, markers, result, limits)
    result.sessions.sort(key=_BY_START)
    result.open.sort(key=_BY_START)
    result.anomalies.sort(key=lambda a: (a.when.timestamp(), a.identity))
    return result


def _stamp(commit: MarkerCommit) -> str:
    """``2020-01-03 18:44 -05:00 (1a2b3c4)``: the marker's effective time, in its author date's offset."""
    return f"{format_time(commit.effective)} ({commit.short})"


class _Limits:
    """max_session in seconds (None: none) and the clock-in SHA prefixes allowed past it."""

    __slots__ = ("seconds", "text", "allow")

    def __init__(self, max_session: Optional[timedelta], allow: Iterable[str]):
        self.seconds = None if max_session is None else int(max_session.total_seconds())
        self.text = format_duration(max_session) if max_session is not None else ""
        self.allow = tuple(prefix.strip().lower() for prefix in allow if prefix and prefix.strip())

    def allowed(self, sha: str) -> bool:
        return any(sha.startswith(prefix) for prefix in self.allow)


def _problem(identity: str, commit: MarkerCommit) -> Anomaly:
    marker = commit.marker
    if marker.form == NEAR_MISS_FORM:
        return Anomaly(NEAR_MISS, identity, (commit.sha,),
                       f"{commit.short}: {marker.problem} It is read as the clock-{marker.kind} meant; "
                       f"the session it touches is not billed until the marker is fixed", commit.authored)
    return Anomaly(MALFORMED, identity, (commit.sha,),
                   f"{marker.problem} in {commit.short}; the session it belongs to is not billed",
                   commit.authored)


def _pair_one(identity: str, markers: list, result: Pairing, limits: _Limits) -> None:
    opened: Optional[MarkerCommit] = None
    previous: Optional[Session] = None  # the last session billed
    sessions, anomalies = result.sessions, result.anomalies
    limit = limits.seconds
    for commit in markers:
        marker = commit.marker
        if marker.problem:
            anomalies.append(_problem(identity, commit))
        if marker.kind == IN:
            if opened:
                anomalies.append(Anomaly(
                    DOUBLE_IN, identity, (opened.sha, commit.sha),
                    f"clock-in at {_stamp(commit)} while already clocked in since {_stamp(opened)}; "
                    f"the earlier clock-in has no clock-out and is not billed",
                    opened.effective))
            opened = commit
            continue
        if not opened:
            anomalies.append(Anomaly(
                LONE_OUT, identity, (commit.sha,),
                f"clock-out at {_stamp(commit)} without a clock-in before it; not billed",
                commit.effective))
            continue
        session, opened = Session(identity, opened, commit), None
        start, end = session.clock_in.effective_epoch, commit.effective_epoch
        # The usual session, which _accept would take without a word, is taken here.
        usual = end >= start >= 0 and not marker.problem and not session.clock_in.marker.problem \
            and (limit is None or end - start <= limit) \
            and (previous is None or start >= previous.clock_out.effective_epoch)  # type: ignore[union-attr]
        if usual or _accept(session, previous, result, limits):
            sessions.append(session)
            previous = session
    if opened:
        result.open.append(Session(identity, opened))


def _accept(session: Session, previous: Optional[Session], result: Pairing, limits: _Limits) -> bool:
    """Check a paired session's times; record why it cannot be billed."""
    clock_in, clock_out = session.clock_in, session.clock_out
    assert clock_out is not None  # a paired session
    if clock_in.marker.problem or clock_out.marker.problem:
        return False  # already reported as malformed
    start, end = clock_in.effective_epoch, clock_out.effective_epoch
    if end < start:
        result.anomalies.append(Anomaly(
            OUT_BEFORE_IN, session.identity, session.commits,
            f"clock-out {_stamp(clock_out)} is before its clock-in {_stamp(clock_in)} "
            f"once offsets are applied; not billed", session.start))
        return False
    if start < 0:
        result.anomalies.append(Anomaly(
            MALFORMED, session.identity, (clock_in.sha,),
            f"offset T-{format_duration(clock_in.marker.offset)} in {clock_in.short} puts its clock-in "
            f"before 1970 ({clock_in.effective:%Y-%m-%d}); the session is not billed", clock_in.authored))
        return False
    if limits.seconds is not None and session.seconds > limits.seconds and not limits.allowed(clock_in.sha):
        result.anomalies.append(Anomaly(
            TOO_LONG, session.identity, session.commits,
            f"session from {_stamp(clock_in)} to {_stamp(clock_out)} lasts {format_minutes(session.seconds)}, "
            f"longer than max_session ({limits.text}); not billed until its markers are fixed "
            f"or its clock-in {clock_in.short} is allowed", session.start))
        return False
    if previous is not None and previous.clock_out is not None and start < previous.clock_out.effective_epoch:
        result.anomalies.append(Anomaly(
            OVERLAP, session.identity, previous.commits + session.commits,
            f"session from {_stamp(clock_in)} overlaps the previous one, which ended "
            f"{_stamp(previous.clock_out)}; the later session is not billed", session.start))
        return False
    return True


def cut(rows, since: int, exclude=()):
    """An author second from which on the markers before it stop mattering to pair(), or None.

    Kept beside pair() because it restates its rules: a change to how pair()
    treats a marker must be checked against the conditions below
    (tests/test_cut.py holds the two to one answer). Pairing walks each
    person's markers in order with a state: the open clock-in and the last
    accepted session. Reading only the markers
    from second S on gives the same sessions and anomalies from `since` on as
    the whole history when S <= since and

    * every marker from S on has its effective time >= S: the last accepted
      session before S ends before S, so it cannot overlap a session starting
      from S on, and no marker from S on duplicates one before S;
    * for every person (by email, by name and by both: the three identity
      keys), the first marker from S on is a clock-in (and no clock-out shares
      its second): the open clock-in before S then only makes a "clock-in
      while clocked in" anomaly, dated before S.

    rows: records.COLUMNS rows from their first author second on, sorted by
    author date (history.py reads them from the store); `exclude`: SHA
    prefixes the timesheet drops before pairing.
    """
    prefixes = tuple(p.lower() for p in exclude if p)
    if prefixes:
        rows = [r for r in rows if not r[0].startswith(prefixes)]
    first: dict = {}
    bad = 0
    lowest = None
    i = len(rows)
    while i > 0:
        second = rows[i - 1][3]
        j = i
        while j > 0 and rows[j - 1][3] == second:
            j -= 1
            _, name, email, epoch, _, kind, off = rows[j][:7]
            effective = epoch - off
            lowest = effective if lowest is None or effective < lowest else lowest
            out = kind == OUT
            for person in (email.lower(), "\0" + name, f"{name} <{email.lower()}>"):
                seen = first.get(person)
                if seen is None or seen[0] > epoch:
                    bad += out - (seen[1] if seen else 0)
                    first[person] = (epoch, out)
                elif out and not seen[1]:
                    bad += 1
                    first[person] = (epoch, True)
        if second <= since and bad == 0 and lowest is not None and lowest >= second:
            return second
        i = j
    return None


# Candidate seconds cut_after() asks pair() about before it gives up: the first
# usually holds (nobody works across midnight at a period's end).
_CUT_AFTER_TRIES = 6
_KEYS = ("email", "name", "both")  # every identity key (see identity_of)


def cut_after(rows, until: int, later: Optional[int], exclude=()):
    """An author second from which on the markers stop mattering to pair() before `until`, or None.

    cut()'s mirror, for a window that ends before the history does. Reading
    only the markers before second U gives the same sessions, open sessions and
    anomalies before `until` as reading them all, when U >= until and

    * every marker from U on has its effective time >= until: a session it
      starts or ends, and an anomaly it makes, is dated then or later (pairing
      never changes what it has made, and dates each anomaly at the effective or
      author time of a marker, or at the start of a session, it is about);
    * pairing the markers before U leaves no one clocked in since before
      `until`, by every identity key: no clock-in dated before `until` waits for
      a clock-out from U on. This is asked of pair() itself. Without the
      ancestry ranks of same-second markers (history.py asks git for them
      later), pair() puts a second's clock-outs first: it may see someone
      clocked in who is not, never the other way round, but not always by the
      same clock-in, so no marker of an open clock-in's second may be dated
      before `until`.

    rows: records.COLUMNS rows sorted by author date, up to some second;
    `later`: the lowest effective time of the markers after them (None: none);
    `exclude`: SHA prefixes the timesheet drops before pairing.
    tests/test_cut.py holds cut() and cut_after() together to pair()'s answer.
    """
    prefixes = tuple(p.lower() for p in exclude if p)
    if prefixes:
        rows = [r for r in rows if not r[0].startswith(prefixes)]
    lowest: list = [later] * (len(rows) + 1)  # lowest[k]: the lowest effective time of rows[k:] and of `later`
    for k in range(len(rows) - 1, -1, -1):
        effective, after = rows[k][3] - rows[k][6], lowest[k + 1]
        lowest[k] = effective if after is None or effective < after else after
    early = {r[3] for r in rows if r[3] - r[6] < until}  # seconds with a marker dated before `until`
    first = next((k for k, r in enumerate(rows) if r[3] >= until), len(rows))
    # U = until, then just after each second from `until` on: the rows before U are rows[:k].
    ends = [first] + [k + 1 for k in range(first, len(rows)) if k + 1 == len(rows) or rows[k + 1][3] != rows[k][3]]
    commits = records(rows)
    i = 0
    for _ in range(_CUT_AFTER_TRIES):
        while i < len(ends) and lowest[ends[i]] is not None and lowest[ends[i]] < until:
            i += 1
        if i == len(ends):
            return None
        k = ends[i]
        waiting = [(key, s.identity) for key in _KEYS for s in pair(commits[:k], key).open if s.clock_in.epoch in early]
        if not waiting:
            return until if k == first else rows[k - 1][3] + 1
        # Each one waiting stays clocked in, by the same clock-in, until their next marker:
        # the next U worth asking about is after the last of those.
        following = [next((j for j in range(k, len(commits)) if identity_of(commits[j], key) == who), -1)
                     for key, who in waiting]
        if -1 in following:  # someone never clocks out in the rows read
            return None
        while i < len(ends) and ends[i] <= max(following):
            i += 1
    return None
