"""Budgets: hours allowed per week or month, or in total under a contract.

Pure: it takes the sessions' (start, seconds), the budget spec, "now" and a
time zone, and says how much of the budget is used and how much remains.
Reading history and configuration is the commands' job.

Specs, as the configuration spells them:

* ``budget = "40h/week"`` or ``"160h/month"``: per calendar week (Monday to
  Monday) or month, in the report's time zone;
* ``contract = "120h"`` with ``contract_start = "2026-01-01"``: one total
  from the start day's midnight on, with no period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Iterable, Optional, Tuple

from hourly_hooks.core import money, periods
from hourly_hooks.core.markers import parse_duration

PERIODS = ("week", "month")
_BUDGET = re.compile(r"\s*(?P<amount>[^/]+?)\s*/\s*(?P<per>[A-Za-z]+)\s*")


@dataclass(frozen=True)
class Spec:
    """A budget: `limit` seconds per `per` (week, month or contract)."""

    limit: int
    per: str                         # week | month | contract
    start: Optional[date] = None     # the contract's first day


@dataclass(frozen=True)
class Usage:
    """How much of a budget the sessions in [start, end) use."""

    spec: Spec
    start: datetime
    end: Optional[datetime]          # None: a contract runs on
    used_seconds: int

    @property
    def used(self) -> Decimal:
        return money.hours(self.used_seconds)

    @property
    def limit(self) -> Decimal:
        return money.hours(self.spec.limit)

    @property
    def remaining(self) -> Decimal:
        """Hours left; negative once the budget is exceeded."""
        return self.limit - self.used

    @property
    def exceeded(self) -> bool:
        return self.used_seconds > self.spec.limit

    def to_json(self) -> dict:
        return {"per": self.spec.per, "start": self.start.isoformat(),
                "end": self.end.isoformat() if self.end else None,
                "used_seconds": self.used_seconds, "limit_seconds": self.spec.limit,
                "used": money.format_hours(self.used), "limit": money.format_hours(self.limit),
                "remaining": money.format_hours(self.remaining), "exceeded": self.exceeded}

    def line(self) -> str:
        return describe(self.to_json())


def describe(document: dict) -> str:
    """A Usage's JSON as one line for people:
    ``Budget (week from 2026-03-02): 12.50 h used of 40.00 h, 27.50 h left.``"""
    head = f"Budget ({document['per']} from {document['start'][:10]}): " \
           f"{document['used']} h used of {document['limit']} h"
    if document["exceeded"]:
        over = money.format_hours(-Decimal(document["remaining"]))
        return f"{head}, exceeded by {over} h."
    return f"{head}, {document['remaining']} h left."


def parse_limit(text: str) -> int:
    """A budget's hours, like ``"120h"``, in seconds; ValueError unless a positive duration."""
    seconds = int(parse_duration(text).total_seconds())
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    return seconds


def parse_budget(text: str) -> Spec:
    """``"40h/week"``, ``"160h/month"`` -> Spec; ValueError otherwise."""
    found = _BUDGET.fullmatch(text)
    per = found.group("per").lower() if found else ""
    if not found or per not in PERIODS:
        raise ValueError(f"not a budget: {text!r} (expected hours per week or month, like \"40h/week\")")
    return Spec(parse_limit(found.group("amount")), per)


def parse_start(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a day: {text!r} (expected YYYY-MM-DD, like \"2026-01-01\")") from None


def parse_contract(text: str, start: str) -> Spec:
    """``"120h"`` from ``"2026-01-01"`` -> Spec; ValueError otherwise."""
    return Spec(parse_limit(text), "contract", parse_start(start))


def spec_of(budget: Optional[str], contract: Optional[str], contract_start: Optional[str]) -> Optional[Spec]:
    """The configured budget, if any; ValueError when the keys do not make one."""
    if budget and contract:
        raise ValueError("set budget or contract, not both")
    if budget:
        return parse_budget(budget)
    if contract:
        if not contract_start:
            raise ValueError("contract needs contract_start, the day the contract began (YYYY-MM-DD)")
        return parse_contract(contract, contract_start)
    return None


def bounds(spec: Spec, now: datetime, tz: tzinfo) -> Tuple[datetime, Optional[datetime]]:
    """[start, end) of the budget period holding `now`, in tz (a contract has no end)."""
    if spec.per == "contract":
        assert spec.start is not None, "a contract has a start"
        return periods.midnight(spec.start, tz), None
    return periods.period(f"this-{spec.per}", tz, now)


def usage(spec: Spec, sessions: Iterable[Tuple[datetime, int]], now: datetime, tz: tzinfo) -> Usage:
    """The budget's use by the sessions (start, seconds) that start in its period."""
    start, end = bounds(spec, now, tz)
    used = sum(seconds for began, seconds in sessions
               if start <= began and (end is None or began < end))
    return Usage(spec, start, end, used)


def reference(until: Optional[datetime], now: datetime) -> datetime:
    """The moment whose period a report's budget is: the report's last second, else now."""
    return until - timedelta(seconds=1) if until is not None else now
