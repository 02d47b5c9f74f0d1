"""From marker commits to a timesheet: select sessions, round, price and total them.

Pure: ``build`` takes the marker commits already read (history.read_markers)
and returns data; the renderers in ``render.py`` only format what it returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Dict, Iterable, List, Optional, Sequence

from hourly_hooks import money
from hourly_hooks.money import Rate, Rounding
from hourly_hooks.sessions import Anomaly, Session, pair


@dataclass(frozen=True)
class Rates:
    """A default rate and per-identity rates (keyed by email, name or "Name <email>")."""

    default: Optional[Rate] = None
    by_identity: Dict[str, Rate] = field(default_factory=dict)

    def for_session(self, session: Session) -> Optional[Rate]:
        if not self.by_identity:
            return self.default
        lowered = {key.lower(): rate for key, rate in self.by_identity.items()}
        commit = session.clock_in
        for key in (commit.email, commit.name, commit.author, session.identity):
            if key.lower() in lowered:
                return lowered[key.lower()]
        return self.default


@dataclass(frozen=True)
class Selection:
    """What to read and what to keep; every field has a command-line flag."""

    tz: tzinfo
    since: Optional[datetime] = None
    until: Optional[datetime] = None
    ignore: Sequence[str] = ()
    exclude: Sequence[str] = ()
    rates: Rates = Rates()
    rounding: Optional[Rounding] = None
    identity: str = "email"


class Line:
    """One billable session as it appears on the timesheet."""

    __slots__ = ("session", "seconds", "hours", "rate", "rounded")

    def __init__(self, session: Session, seconds: int, hours: Decimal, rate: Optional[Rate],
                 rounded: bool = False):
        self.session = session
        self.seconds = seconds    # billed seconds: the session's, after rounding
        self.hours = hours        # as shown, two decimals
        self.rate = rate
        self.rounded = rounded    # a billing increment applies

    @property
    def exact_amount(self) -> Optional[Decimal]:
        if self.rate is None:
            return None
        # With a billing increment the client sees rounded hours, so bill those;
        # without one, bill the exact seconds (12:54:47 at 100/h is 1291.31).
        billed = self.hours if self.rounded else money.exact_hours(self.seconds)
        return billed * self.rate.amount

    @property
    def amount(self) -> Optional[Decimal]:
        exact = self.exact_amount
        return None if exact is None else money.round_amount(exact, self.rate.currency)


@dataclass
class Timesheet:
    selection: Selection
    lines: List[Line] = field(default_factory=list)
    open: List[Session] = field(default_factory=list)
    anomalies: List[Anomaly] = field(default_factory=list)
    ignored: List[Session] = field(default_factory=list)

    @property
    def sessions(self) -> List[Session]:
        return [line.session for line in self.lines]

    @property
    def seconds(self) -> int:
        return sum(line.seconds for line in self.lines)

    @property
    def worked_seconds(self) -> int:
        return sum(line.session.seconds for line in self.lines)

    @property
    def hours(self) -> Decimal:
        if self.selection.rounding:
            return sum((line.hours for line in self.lines), Decimal("0.00"))
        return money.hours(self.seconds)

    @property
    def amounts(self) -> Dict[str, Decimal]:
        """Total per currency, rounded once at the end."""
        totals: Dict[str, Decimal] = {}
        for line in self.lines:
            if line.rate is not None:
                currency = line.rate.currency
                totals[currency] = totals.get(currency, Decimal(0)) + line.exact_amount
        return {c: money.round_amount(total, c) for c, total in totals.items()}

    @property
    def currency(self) -> Optional[str]:
        amounts = self.amounts
        return next(iter(amounts)) if len(amounts) == 1 else None

    @property
    def amount(self) -> Optional[Decimal]:
        currency = self.currency
        return self.amounts[currency] if currency else None

    @property
    def unpriced(self) -> List[Line]:
        return [line for line in self.lines if line.rate is None]

    @property
    def start(self) -> Optional[datetime]:
        return min((s.start for s in self.sessions), default=None)

    @property
    def end(self) -> Optional[datetime]:
        return max((s.end for s in self.sessions), default=None)


def _in_period(moment: datetime, selection: Selection) -> bool:
    if selection.since and moment < selection.since:
        return False
    return not (selection.until and moment >= selection.until)


def _excluded(sha: str, exclude: Sequence[str]) -> bool:
    """exclude holds SHA prefixes (config `exclude`), lower-cased."""
    return any(sha.startswith(prefix) for prefix in exclude)


def build(selection: Selection, commits: Iterable) -> Timesheet:
    """The timesheet of the marker commits, as selection says."""
    exclude = tuple(prefix.lower() for prefix in selection.exclude if prefix)
    if exclude:
        commits = (c for c in commits if not _excluded(c.sha, exclude))
    pairing = pair(commits, selection.identity)
    sheet = Timesheet(selection)
    for session in pairing.sessions:
        if not _in_period(session.start, selection):
            continue
        if selection.ignore and any(session.mentions(text) for text in selection.ignore):
            sheet.ignored.append(session)
            continue
        sheet.lines.append(_line(session, selection))
    sheet.open = [s for s in pairing.open if _in_period(s.start, selection)]
    sheet.anomalies = [a for a in pairing.anomalies if _in_period(a.when, selection)]
    return sheet


def _line(session: Session, selection: Selection) -> Line:
    seconds = session.seconds
    if selection.rounding:
        seconds = selection.rounding.apply(seconds)
    return Line(session=session, seconds=seconds, hours=money.hours(seconds),
                rate=selection.rates.for_session(session),
                rounded=selection.rounding is not None)
