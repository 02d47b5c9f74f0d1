"""The one row model every format renders from.

``build`` reads a Timesheet once into rows: one per session (with its work log
when one was read) and, under ``--by``, one per group. The cells are typed
values (datetimes in the report's zone, Decimal hours and amounts, seconds as
int); each format (table, markdown, csv, json, timeclock, html) only decides
how to write them, so no format re-reads the sheet, reaches into another's
helpers, or edits text another one wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import Dict, List, Optional, Sequence, Tuple

from hourly_hooks.core import money
from hourly_hooks.core.sessions import Session
from hourly_hooks.core.timesheet import Line, Timesheet, grouped
from hourly_hooks.core.worklog import WorkCommit, WorkLog
from hourly_hooks.output import period as periods
from hourly_hooks.output.period import Period

__all__ = ["GroupRow", "Rows", "SessionRow", "build", "groups"]


class SessionRow:
    """One billed session: what each format writes about it, typed.

    Slotted: a big history has a row per session, and the JSON writer reads
    every field of every row.
    """

    __slots__ = ("line", "session", "author", "name", "repo", "start", "end", "seconds", "billed_seconds",
                 "hours", "amount", "currency", "invoice", "note", "in_commit", "out_commit", "commits")

    def __init__(self, line: Line, tz: tzinfo, invoice: Optional[str], commits: Sequence[WorkCommit]):
        session = line.session
        clock_in, clock_out = session.clock_in, session.clock_out
        assert clock_out is not None, "a timesheet line is a closed session"
        self.line, self.session = line, session
        self.author, self.name, self.repo, self.note = session.author, clock_in.name, session.repo, session.note
        self.start = datetime.fromtimestamp(clock_in.effective_epoch, tz)
        self.end = datetime.fromtimestamp(clock_out.effective_epoch, tz)
        self.seconds, self.billed_seconds, self.hours = session.seconds, line.seconds, line.hours
        rate = line.rate
        self.currency: Optional[str] = rate.currency if rate else None
        self.amount: Optional[Decimal] = line.amount if rate and line.amount is not None else None
        self.invoice, self.in_commit, self.out_commit = invoice, clock_in.sha, clock_out.sha
        self.commits: Tuple[WorkCommit, ...] = tuple(commits)

    @property
    def amount_text(self) -> str:
        """The amount without its currency, or "" for an unpriced session."""
        return money.format_amount(self.amount, self.currency) if self.amount is not None and self.currency else ""


@dataclass(frozen=True)
class GroupRow:
    """One group of ``--by``: its key and the part of the sheet it holds (hours and
    amounts shared out so that the groups add up to the sheet's totals)."""

    key: str
    sheet: Timesheet

    @property
    def sessions(self) -> int:
        return len(self.sheet.lines)

    @property
    def seconds(self) -> int:
        return self.sheet.worked_seconds

    @property
    def hours(self) -> Decimal:
        return self.sheet.hours

    @property
    def amounts(self) -> Dict[str, Decimal]:
        return self.sheet.amounts

    def by_currency(self) -> List[Timesheet]:
        """The group's sheet, or, when it mixes currencies, its part in each: their hours
        and amounts add up to the group's (one CSV row each, as the table lists each amount)."""
        if len(self.sheet.amounts) < 2:
            return [self.sheet]
        return [part.sheet for part in grouped(self.sheet, "currency")]


@dataclass
class Rows:
    """A report's rows. ``sessions`` under ``--by`` are the groups' shares of them, in
    the sheet's order, so that they add up to the groups beside them."""

    sheet: Timesheet
    by: str
    period: Period
    sessions: List[SessionRow]
    groups: List[GroupRow] = field(default_factory=list)
    worklog: bool = False  # each session row carries its commits
    billed: bool = False   # some session is on an invoice: the invoice column shows

    @property
    def open(self) -> List[Session]:
        return self.sheet.open

    @property
    def many_authors(self) -> bool:
        return len({row.session.identity for row in self.sessions}) > 1

    @property
    def many_repos(self) -> bool:
        return len({row.repo for row in self.sessions}) > 1

    @property
    def priced(self) -> bool:
        return bool(self.sheet.amounts)

    @property
    def many_commit_repos(self) -> bool:
        """The work log spans repositories: each commit then names its own."""
        return len({c.repo for row in self.sessions for c in row.commits}) > 1

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.sheet.selection.tz)


def groups(sheet: Timesheet, by: str) -> List[GroupRow]:
    """Lines grouped by a period of their clock-in, by author or by repo (timesheet.grouped)."""
    return [GroupRow(group.key, group.sheet) for group in grouped(sheet, by)]


def build(sheet: Timesheet, by: str = "session", billed: Optional[Dict[str, str]] = None,
          log: Optional[WorkLog] = None) -> Rows:
    """The rows of sheet under --by; billed: clock-in SHA -> invoice; log: the work log, when read."""
    billed = billed or {}
    parts = groups(sheet, by) if by != "session" else []
    lines = sheet.lines
    if parts:
        position = {id(line.session): index for index, line in enumerate(sheet.lines)}
        lines = sorted((line for group in parts for line in group.sheet.lines),
                       key=lambda line: position[id(line.session)])
    tz, commits = sheet.selection.tz, log or {}
    sessions = [SessionRow(line, tz, billed.get(line.session.clock_in.sha),
                           commits.get(line.session.clock_in.sha, ())) for line in lines]
    return Rows(sheet, by, periods.of(sheet.selection), sessions, parts, worklog=log is not None,
                billed=bool(billed))
