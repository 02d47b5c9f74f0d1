"""From marker commits to a timesheet: select sessions, round, price, total and group them.

Pure: ``build`` takes the marker commits already read (history.read_markers)
and returns data; the renderers in ``render.py`` only format what it returns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Set, Tuple

from hourly_hooks.core import money
from hourly_hooks.core.money import Rate, Rounding
from hourly_hooks.core.periods import week_start
from hourly_hooks.core.sessions import MAX_SESSION, Anomaly, Session, pair


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

    def unmatched(self, people: Iterable[Tuple[str, str]]) -> List[str]:
        """The per-identity keys that none of people (name, email) has, as for_session
        matches them: its email, its name or "Name <email>", in any case."""
        spellings: Set[str] = set()
        for name, email in people:
            spellings.update((email.lower(), name.lower(), f"{name} <{email}>".lower()))
        return [key for key in self.by_identity if key.lower() not in spellings]


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
    max_session: Optional[timedelta] = MAX_SESSION   # longer sessions are anomalies (None: no limit)
    allow_long: Sequence[str] = ()                   # clock-in SHA prefixes allowed to be longer


class Line:
    """One billable session as it appears on the timesheet.

    ``hours`` and ``amount`` are the values printed on the session's row: the
    timesheet that holds the line sets them so that its rows add up to its
    totals (see Timesheet). A Line made alone rounds its own values. The first
    timesheet to hold a line sets them in place; another (a group, a sheet of
    fewer lines) holds copies, so that each keeps its own shares.
    """

    __slots__ = ("session", "seconds", "hours", "rate", "rounded", "amount", "_held")

    def __init__(self, session: Session, seconds: int, hours: Optional[Decimal] = None,
                 rate: Optional[Rate] = None, rounded: bool = False, amount: Optional[Decimal] = None):
        self.session = session
        self.seconds = seconds    # billed seconds: the session's, after rounding
        self.rate = rate
        self.rounded = rounded    # a billing increment applies
        self.hours: Decimal = money.hours(seconds) if hours is None else hours
        if amount is None and rate is not None:
            amount = rate.price(seconds)
        self.amount: Optional[Decimal] = amount
        self._held = False        # a Timesheet has set hours and amount to its shares

    @classmethod
    def _unrounded(cls, session: Session, seconds: int, rate: Optional[Rate], rounded: bool) -> "Line":
        """A line whose shown values its Timesheet will set (build makes thousands)."""
        line = cls.__new__(cls)
        line.session, line.seconds, line.rate, line.rounded = session, seconds, rate, rounded
        line.hours, line.amount, line._held = Decimal(0), None, False
        return line

    def _copy(self) -> "Line":
        return Line._unrounded(self.session, self.seconds, self.rate, self.rounded)


@dataclass(frozen=True)
class Totals:
    """A timesheet's rounded totals: hours, and the amount per currency."""

    hours: Decimal
    amounts: Dict[str, Decimal]


@dataclass
class Timesheet:
    """Billable lines and their totals, with what was left out and why.

    The totals are rounded once from the exact figures: the billed seconds
    (12:54:47 is 12.91 hours) and, per currency, those seconds times the rate
    (12:54:47 at 100 USD/h is 1291.31 USD). Each total is then shared out to the
    lines by largest remainder, so the rows printed under a total add up to it
    (three 20-minute sessions at 100 USD/h are 33.34 + 33.33 + 33.33 = 100.00).
    A group's sheet (``grouped``) is given its share of the whole as ``shares``.
    The lines are allocated when the sheet is made: make a new Timesheet for
    another set of lines rather than changing ``lines`` in place.
    """

    selection: Selection
    lines: List[Line] = field(default_factory=list)
    open: List[Session] = field(default_factory=list)
    anomalies: List[Anomaly] = field(default_factory=list)
    ignored: List[Session] = field(default_factory=list)
    # (name, email) of every marker read, outside the period too; only with per-identity
    # rates, whose keys it checks (rate_keys.py).
    people: Set[Tuple[str, str]] = field(default_factory=set)
    warnings: List[str] = field(default_factory=list)  # said on stderr with the report
    # With several repositories (merged): each one's own selection (rate, rounding, ...), by name.
    repositories: Dict[str, Selection] = field(default_factory=dict)
    # A group's share of its parent's totals; computed from the lines otherwise.
    # Init-only, so dataclasses.replace(sheet, lines=fewer) totals the new lines.
    shares: InitVar[Optional[Totals]] = None
    totals: Totals = field(init=False, repr=False, compare=False)

    def __post_init__(self, shares: Optional[Totals]) -> None:
        self.totals, self.lines = _allocated(self.lines, shares)

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
        return self.totals.hours

    @property
    def amounts(self) -> Dict[str, Decimal]:
        """Total per currency, rounded once from the exact amounts."""
        return dict(self.totals.amounts)

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
        return max((s.end for s in self.sessions if s.end is not None), default=None)


def _priced_units(lines: Sequence[Line]) -> Dict[str, Tuple[int, List[Tuple[int, int]]]]:
    """Per currency, in order of first use: a denominator and the (position, numerator)
    of each priced line's exact amount in the currency's minor unit."""
    factors: Dict[int, Tuple[str, int, int]] = {}   # id(rate) -> currency, price of a second
    raw: Dict[str, List[Tuple[int, int, int]]] = {}
    for index, line in enumerate(lines):
        rate = line.rate
        if rate is None:
            continue
        factor = factors.get(id(rate))
        if factor is None:
            currency = rate.currency
            factor = factors[id(rate)] = (currency, *rate.cost_units(1, money.minor_units(currency)))
            raw.setdefault(currency, [])
        raw[factor[0]].append((index, line.seconds * factor[1], factor[2]))
    priced = {}
    for currency, items in raw.items():
        # Each denominator is 3600 * 10**p: the largest is a multiple of the others.
        common = max(denominator for _, _, denominator in items)
        priced[currency] = (common, [(i, n if d == common else n * (common // d)) for i, n, d in items])
    return priced


def _allocated(lines: Sequence[Line], shares: Optional[Totals]) -> Tuple[Totals, List[Line]]:
    """The totals (computed unless given), and the lines with shown values that sum to them."""
    held = [line._copy() if line._held else line for line in lines]
    seconds = []
    for line in held:
        line._held = True
        seconds.append(line.seconds)
    hours = shares.hours if shares else money.hours(sum(seconds))
    from_units = money.from_units
    for line, share in zip(held, money.allocate_units(_units(hours, 2), seconds, money.SECONDS_PER_HOURS_PLACE)):
        line.hours = from_units(share, 2)
    amounts: Dict[str, Decimal] = {}
    for currency, (denominator, priced) in _priced_units(held).items():
        places = money.minor_units(currency)
        given = shares.amounts.get(currency) if shares else None
        if given is None:
            given = from_units(money.half_up(sum(n for _, n in priced), denominator), places)
        amounts[currency] = given
        parts = money.allocate_units(_units(given, places), [n for _, n in priced], denominator)
        for (index, _), part in zip(priced, parts):
            held[index].amount = from_units(part, places)
    return Totals(hours, amounts), held


def _units(value: Decimal, places: int) -> int:
    """A rounded Decimal as a whole number of 10**-places."""
    return int(value.scaleb(places))


@dataclass(frozen=True)
class Group:
    key: str
    sheet: Timesheet


GROUPINGS = ("session", "day", "week", "month", "author", "repo")


def group_key(by: str, line: Line, tz: tzinfo) -> str:
    """The group of a line: the day, ISO week or month of its clock-in in tz, its author or repo."""
    if by == "author":
        return line.session.author
    if by == "repo":
        return line.session.repo
    if by == "currency":  # not a --by choice: a group's rows in each currency (render.csv_text)
        return line.rate.currency if line.rate else ""
    start = line.session.start.astimezone(tz)
    if by == "day":
        return start.date().isoformat()
    if by == "week":
        monday = week_start(start.date())
        year, week, _ = monday.isocalendar()
        return f"{year}-W{week:02d} ({monday.isoformat()})"
    if by == "month":
        return start.strftime("%Y-%m")
    raise ValueError(f"unknown grouping {by!r} (expected one of {', '.join(GROUPINGS[1:])})")


def grouped(sheet: Timesheet, by: str) -> List[Group]:
    """Lines grouped by a period of their clock-in, by author or by repo, in key order.

    The sheet's totals are shared out to the groups as to lines (largest
    remainder), and each group's to its lines, so groups add up to the total.
    """
    buckets: Dict[str, List[Line]] = {}
    for line in sheet.lines:
        buckets.setdefault(group_key(by, line, sheet.selection.tz), []).append(line)
    keys = sorted(buckets)
    seconds = [sum(line.seconds for line in buckets[key]) for key in keys]
    hours = [money.from_units(share, 2) for share in
             money.allocate_units(_units(sheet.hours, 2), seconds, money.SECONDS_PER_HOURS_PLACE)]
    amounts: List[Dict[str, Decimal]] = [{} for _ in keys]
    priced = [_priced_units(buckets[key]) for key in keys]
    for currency, total in sheet.amounts.items():
        places = money.minor_units(currency)
        having = [i for i in range(len(keys)) if currency in priced[i]]
        # Denominators differ between groups when their rates have different decimals.
        common = max(priced[i][currency][0] for i in having)
        exact = [sum(n for _, n in priced[i][currency][1]) * (common // priced[i][currency][0]) for i in having]
        for i, share in zip(having, money.allocate_units(_units(total, places), exact, common)):
            amounts[i][currency] = money.from_units(share, places)
    return [Group(key, Timesheet(sheet.selection, lines=buckets[key], shares=Totals(hours[i], amounts[i])))
            for i, key in enumerate(keys)]


@dataclass(frozen=True)
class Subtotal:
    """One repository's part of a timesheet over several, billed by its own settings."""

    repo: str
    selection: Selection
    sheet: Timesheet


def subtotals(sheet: Timesheet) -> List[Subtotal]:
    """Per repository (per client), its share of the totals, when the sheet covers
    several (see merged); the shares add up to the sheet's totals, as groups do."""
    if len(sheet.repositories) < 2:
        return []
    parts = {group.key: group.sheet for group in grouped(sheet, "repo")}
    empty = Timesheet(sheet.selection)
    return [Subtotal(name, selection, parts.get(name, empty)) for name, selection in sheet.repositories.items()]


def merged(selection: Selection, parts: Sequence[Tuple[str, Timesheet]]) -> Timesheet:
    """One timesheet of several repositories' own (each built by its own selection:
    rate, rounding, max_session, ignore, exclude, identity), in start order.

    A session read in an earlier repository (the same clock-in commit, as in a
    fork and its upstream) is counted there only. Sessions of one person that
    overlap in two repositories are both kept (each client had the time) but
    named in the warnings: the same hour billed twice is for the user to check.
    """
    seen: Set[str] = set()
    lines: List[Line] = []
    sheet = Timesheet(selection, repositories={name: part.selection for name, part in parts})
    for _, part in parts:
        for line in part.lines:
            if line.session.clock_in.sha not in seen:
                seen.add(line.session.clock_in.sha)
                lines.append(line)
        sheet.open += part.open
        sheet.anomalies += part.anomalies
        sheet.ignored += part.ignored
        sheet.people |= part.people
        sheet.warnings += part.warnings
    lines.sort(key=lambda line: (line.session.clock_in.effective_epoch, line.session.identity))
    sheet.warnings += _overlaps(lines)
    # Made again with the lines: their shown values are shared out of the whole's totals.
    return dataclasses.replace(sheet, lines=lines)


def _overlaps(lines: Sequence[Line]) -> List[str]:
    """Warnings for one person's sessions that overlap in two repositories."""
    last: Dict[str, Session] = {}
    found = []
    for line in lines:
        session = line.session
        who = session.clock_in.email.lower()
        before = last.get(who)
        if before is not None and before.repo != session.repo and before.end is not None \
                and session.start < before.end:
            found.append(f"Warning: {session.author}'s session at {session.start.isoformat(timespec='seconds')} "
                         f"in {session.repo} overlaps their session in {before.repo} "
                         f"(from {before.start.isoformat(timespec='seconds')}): both are billed, one per repository.")
        if before is None or before.end is None or (session.end is not None and session.end > before.end):
            last[who] = session
    return found


def _in_period(moment: datetime, selection: Selection) -> bool:
    if selection.since and moment < selection.since:
        return False
    return not (selection.until and moment >= selection.until)


def _bound(moment: Optional[datetime]) -> Optional[int]:
    """The first whole epoch second at or after moment (None for None): for a
    whole second t, ``t < moment`` exactly when ``t < _bound(moment)``."""
    if moment is None:
        return None
    delta = moment - _EPOCH
    return delta.days * 86400 + delta.seconds + (1 if delta.microseconds else 0)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _excluded(sha: str, exclude: Sequence[str]) -> bool:
    """exclude holds SHA prefixes (config `exclude`), lower-cased."""
    return any(sha.startswith(prefix) for prefix in exclude)


def build(selection: Selection, commits: Iterable) -> Timesheet:
    """The timesheet of the marker commits, as selection says."""
    exclude = tuple(prefix.lower() for prefix in selection.exclude if prefix)
    if exclude:
        commits = (c for c in commits if not _excluded(c.sha, exclude))
    people: Set[Tuple[str, str]] = set()
    if selection.rates.by_identity:
        commits = _noting(commits, people)
    pairing = pair(commits, selection.identity, max_session=selection.max_session, allow=selection.allow_long)
    since, until = _bound(selection.since), _bound(selection.until)

    def inside(session: Session) -> bool:  # its start in [since, until), on whole seconds
        start = session.clock_in.effective_epoch
        return (since is None or start >= since) and (until is None or start < until)

    lines: List[Line] = []
    ignored: List[Session] = []
    ignore = selection.ignore
    line_of = _Lines(selection)
    for session in pairing.sessions:
        if not inside(session):
            continue
        if ignore and any(session.mentions(text) for text in ignore):
            ignored.append(session)
            continue
        lines.append(line_of(session))
    return Timesheet(selection, lines=lines, ignored=ignored, people=people,
                     open=[s for s in pairing.open if inside(s)],
                     anomalies=[a for a in pairing.anomalies if _in_period(a.when, selection)])


def _noting(commits: Iterable, people: Set[Tuple[str, str]]) -> Iterator:
    """commits, each one's (name, email) added to people as it passes."""
    add = people.add
    for commit in commits:
        add((commit.name, commit.email))
        yield commit


class _Lines:
    """Makes the selection's line of a session; rates and rounded durations are
    looked up once per person and per duration (a report has many sessions, few of either)."""

    def __init__(self, selection: Selection):
        self.rounding = selection.rounding
        self.rates = selection.rates
        self.rounded: Dict[int, int] = {}
        self.rate_of: Dict[Tuple[str, str, str], Optional[Rate]] = {}

    def __call__(self, session: Session) -> Line:
        seconds = session.seconds
        rounding = self.rounding
        if rounding:
            billed = self.rounded.get(seconds)
            if billed is None:
                billed = self.rounded[seconds] = rounding.apply(seconds)
            seconds = billed
        rates = self.rates
        if rates.by_identity:
            commit = session.clock_in
            key = (commit.email, commit.name, session.identity)  # all that Rates.for_session reads
            if key in self.rate_of:
                rate = self.rate_of[key]
            else:
                rate = self.rate_of[key] = rates.for_session(session)
        else:
            rate = rates.default
        return Line._unrounded(session, seconds, rate, rounding is not None)
