"""The one record of a marker commit, shared by the hook, `hourly status` and the report.

Kept apart from sessions.py (which holds dataclasses) so that the commit-msg
hook, which gets its answer as one of these, imports nothing but datetime.
"""

from __future__ import annotations

from datetime import datetime

from hourly_hooks.markers import IN, Marker


class MarkerCommit:
    """A commit carrying a clock marker, as read from history.

    A slotted class rather than a dataclass: a report holds one per marker
    (100k on a 1M-commit history), and slots halve what each one costs.

    ``rank`` orders markers with the same author second: the number of those
    markers that are ancestors of this one (the reader computes it with git),
    so an ancestor always sorts before its descendant, whatever the SHAs.
    """

    __slots__ = ("sha", "name", "email", "authored", "marker", "message", "repo", "effective",
                 "order", "epoch", "tz", "rank", "key")

    def __init__(self, sha: str, name: str, email: str, authored: datetime, marker: Marker,
                 message: str = "", repo: str = "", rank: int = 0, epoch=None, tz=None, offset=None):
        self.sha, self.name, self.email, self.marker = sha, name, email, marker
        self.authored = authored  # the author date, with its own UTC offset
        self.message, self.repo = message, repo
        self.effective = authored - marker.offset
        if epoch is None or tz is None or offset is None:  # the reader passes what it knows already
            stamp = authored.timestamp()
            epoch, offset = int(stamp), int(marker.offset.total_seconds())
            utc = authored.utcoffset()
            tz = int(utc.total_seconds()) // 60 if utc else 0
        self.epoch = epoch  # git's author dates are whole seconds
        self.tz = tz        # minutes east of UTC
        # Plain numbers to compare by: aware datetimes in different zones
        # compare through utcoffset() calls, which dominate pairing 10k markers.
        self.order = (epoch, epoch - offset)
        self.set_rank(rank)

    def set_rank(self, rank: int) -> None:
        """Place this marker among others of the same author second (see the class docstring)."""
        self.rank = rank
        # The pairing order: author date, then ancestry, then a clock-out before a
        # clock-in (a session ending at 10:00:00 and the next starting then),
        # then the effective time. Never the SHA: two copies of one history that
        # differ only in committer dates must bill the same.
        self.key = (self.order[0], rank, self.marker.kind == IN, self.order[1])

    @property
    def kind(self) -> str:
        return self.marker.kind

    @property
    def effective_epoch(self) -> int:
        return self.order[1]

    def __repr__(self) -> str:
        return f"MarkerCommit({self.short} {self.marker.kind} {self.authored.isoformat()} {self.email})"

    @property
    def author(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def short(self) -> str:
        return self.sha[:7]
