"""The one record of a marker commit, shared by the hook, `hourly status` and the report.

Kept apart from sessions.py (which holds dataclasses) so that the commit-msg
hook, which gets its answer as one of these, imports nothing but datetime.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hourly_hooks.core.markers import IN, Marker

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
    record it was given (see store.Messages): only ``--ignore`` reads them.

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
