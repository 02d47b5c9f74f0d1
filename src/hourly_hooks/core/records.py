"""The one record of a marker commit, shared by the hook, `hourly status` and the report.

Also the rows records are made from (COLUMNS: what git/log.py reads and the
store keeps) and the order of markers of one author second (ties, ranked by
ancestry). Kept apart from sessions.py (which holds dataclasses) so that the
commit-msg hook, which gets its answer as one of these, imports nothing but
datetime and the standard library's built-in modules.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from operator import itemgetter

from hourly_hooks.core.markers import IN, OUT, Marker

_ZONES: dict = {}  # minutes east of UTC -> its fixed-offset zone, made once each


def zone_of(minutes: int) -> timezone:
    """The fixed-offset zone of a git author date's UTC offset (minutes east)."""
    zone = _ZONES.get(minutes)
    if zone is None:
        zone = _ZONES[minutes] = timezone(timedelta(minutes=minutes))
    return zone


class MarkerCommit:
    """A commit carrying a clock marker, as read from history.

    A slotted class rather than a dataclass: a report holds one per marker
    (100k on a 1M-commit history), and slots halve what each one costs. The
    pairing works on the plain numbers (``epoch``, ``effective_epoch``,
    ``key``); the datetimes ``authored`` and ``effective`` are made on first
    use, as only the sessions shown and the anomalies need them.

    ``message`` is the commit message, or, for a record read from the marker
    store without it, an object whose ``fill()`` sets the messages of every
    record it was given (see history.Messages): only ``--ignore`` reads them.

    ``rank`` orders markers with the same author second: the number of those
    markers that are ancestors of this one (the reader computes it with git),
    so an ancestor always sorts before its descendant, whatever the SHAs.
    """

    __slots__ = ("sha", "name", "email", "marker", "repo", "epoch", "tz", "effective_epoch", "rank", "key",
                 "_authored", "_effective", "_message")

    def __init__(self, sha: str, name: str, email: str, authored: datetime, marker: Marker,
                 message: str = "", repo: str = "", rank: int = 0, epoch=None, tz=None, offset=None):
        self.sha, self.name, self.email, self.marker = sha, name, email, marker
        # The author date, with its own UTC offset (annotations never evaluated: no typing import here).
        self._authored: datetime | None = authored
        self._effective: datetime | None = None
        self._message, self.repo = message, repo
        if epoch is None or tz is None or offset is None:  # the reader passes what it knows already
            stamp = authored.timestamp()
            epoch, offset = int(stamp), int(marker.offset.total_seconds())
            utc = authored.utcoffset()
            tz = int(utc.total_seconds()) // 60 if utc else 0
        self.epoch = epoch  # git's author dates are whole seconds
        self.tz = tz        # minutes east of UTC
        # Plain numbers to compare by: aware datetimes in different zones
        # compare through utcoffset() calls, which dominate pairing 10k markers.
        self.effective_epoch = epoch - offset
        self.set_rank(rank)

    @classmethod
    def stored(cls, sha: str, name: str, email: str, epoch: int, tz: int, marker: Marker, offset: int,
               message, repo: str) -> "MarkerCommit":
        """A record from the reader's numbers (offset: the marker's, in seconds); see the class docstring."""
        commit = cls.__new__(cls)
        commit.sha, commit.name, commit.email, commit.marker, commit.repo = sha, name, email, marker, repo
        commit.epoch, commit.tz, commit.effective_epoch = epoch, tz, epoch - offset
        commit._authored = commit._effective = None
        commit._message = message
        commit.set_rank(0)
        return commit

    def set_rank(self, rank: int) -> None:
        """Place this marker among others of the same author second (see the class docstring)."""
        self.rank = rank
        # The pairing order: author date, then ancestry, then a clock-out before a
        # clock-in (a session ending at 10:00:00 and the next starting then),
        # then the effective time. Never the SHA: two copies of one history that
        # differ only in committer dates must bill the same.
        self.key = (self.epoch, rank, self.marker.kind == IN, self.effective_epoch)

    @property
    def authored(self) -> datetime:
        """The author date, in its own UTC offset."""
        authored = self._authored
        if authored is None:
            authored = self._authored = datetime.fromtimestamp(self.epoch, zone_of(self.tz))
        return authored

    @property
    def effective(self) -> datetime:
        """When the clock event was: the author date minus the marker's offset, in the author date's offset."""
        effective = self._effective
        if effective is None:
            effective = self._effective = self.authored - self.marker.offset
        return effective

    @property
    def message(self) -> str:
        message = self._message
        if not isinstance(message, str):
            message.fill()
            message = self._message
        return message

    @message.setter
    def message(self, text: str) -> None:
        self._message = text

    @property
    def kind(self) -> str:
        return self.marker.kind

    def __repr__(self) -> str:
        return f"MarkerCommit({self.short} {self.marker.kind} {self.authored.isoformat()} {self.email})"

    @property
    def author(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def short(self) -> str:
        return self.sha[:7]


# --------------------------------------------------------------------------- rows

# What git/log.py reads of a marker commit, and the store keeps, as one plain tuple
# (a row): these fields, in this order. The marker's fields are Marker's; `off` its
# offset in seconds, `tz` the author date's UTC offset in minutes east, `body` the
# message (left out of the rows the store gives a report: see history.Messages).
COLUMNS = "sha, name, email, epoch, tz, kind, off, note, form, problem, line, body"

_MARKERS: dict = {}  # (kind, off, note, form, problem, line) -> its Marker: most markers are alike


def to_commit(row, repo_name: str = "", messages=None) -> MarkerCommit:
    """A row as the record the rest of hourly uses (see records)."""
    return records(iter((row,)), repo_name, messages)[0]


def records(rows, repo_name: str = "", messages=None) -> list:
    """The rows as records, in their order.

    A row without its message (the store's, see store.Store.rows) gets `messages`, a
    history.Messages that reads it back when asked for; `messages` is then given every
    record made.
    """
    made: list = []
    append = made.append
    shapes = _MARKERS
    intern = sys.intern
    new = MarkerCommit.__new__
    for row in rows:
        shape = row[5:11]
        marker = shapes.get(shape)
        if marker is None:
            marker = _marker(shape)
        # MarkerCommit.stored() and set_rank(0), inlined: this runs once per marker of a report.
        commit = new(MarkerCommit)
        epoch = row[3]
        effective = epoch - row[6]
        commit.sha, commit.name, commit.email, commit.marker, commit.repo = \
            row[0], intern(row[1]), intern(row[2]), marker, repo_name
        commit.epoch, commit.tz, commit.effective_epoch, commit.rank = epoch, row[4], effective, 0
        commit._authored = commit._effective = None
        commit._message = row[11] if len(row) > 11 else messages
        commit.key = (epoch, 0, row[5] == IN, effective)
        append(commit)
    if messages is not None:
        messages.commits += made
    return made


def _marker(shape: tuple) -> Marker:
    kind, off, note, form, problem, line = shape
    if kind not in (IN, OUT):
        raise ValueError(f"bad marker kind {kind!r}")
    marker = _MARKERS[shape] = Marker(kind, timedelta(seconds=off), note, form, problem, line)
    return marker


# --------------------------------------------------------------------------- ties

def tie_pairs(rows) -> list:
    """(a, b) SHA pairs whose ancestry orders them: same author second, maybe the same person.

    Identical events (same person, kind and effective time) are left out: pairing
    keeps one of them, so their mutual order never matters.
    """
    by_second: dict = {}
    for row in rows:
        by_second.setdefault(row[3], []).append(row)
    pairs = []
    for group in by_second.values():
        if len(group) < 2:
            continue
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                same_person = a[2].lower() == b[2].lower() or a[1] == b[1]
                same_event = (a[1], a[2].lower(), a[5], a[6]) == (b[1], b[2].lower(), b[5], b[6])
                if same_person and not same_event and a[0] != b[0]:
                    pairs.append((a[0], b[0]))
    return pairs


def tied(rows) -> list:
    """The rows (sorted by author second) that share their second with another:
    all that tie_pairs can pair."""
    seconds = list(map(itemgetter(3), rows))
    shared = {second for second, following in zip(seconds, seconds[1:]) if second == following}
    return [row for row in rows if row[3] in shared] if shared else []

def apply_ranks(commits, ancestry: dict) -> None:
    """Set each commit's rank: how many same-second commits are its ancestors."""
    if not ancestry:
        return
    counts: dict = {}
    for (a, b), yes in ancestry.items():
        if yes and a != b:
            counts[b] = counts.get(b, 0) + 1
    for commit in commits:
        if commit.sha in counts:
            commit.set_rank(counts[commit.sha])
