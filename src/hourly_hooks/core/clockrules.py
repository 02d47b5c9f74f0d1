"""The clock rules: may this clock-in / clock-out follow the author's last marker? (pure: no I/O)

Shared by the ``hourly-clock`` commit-msg hook and ``hourly in`` / ``hourly out``,
so both refuse the same events with the same words. ``last`` is the author's
last marker (a records.MarkerCommit, or None), as the marker store answers it.

On the hook's start-up path: standard library and ``markers`` only.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from hourly_hooks.core import markers

FUTURE_SLACK = 60  # seconds of clock skew tolerated before "in the future"


class Problem:
    """Why a clock event is refused, the state found, and how to get out of it."""

    def __init__(self, reason: str, state: str, fixes: list):
        self.reason, self.state, self.fixes = reason, state, fixes

    def text(self, extra_fixes=()) -> str:
        lines = [self.reason]
        if self.state:
            lines.append(f"  State: {self.state}.")
        fixes = [*self.fixes, *extra_fixes]
        if fixes:
            lines.append("  Way out:")
            lines += [f"    - {fix}" for fix in fixes]
        return "\n".join(lines)


def parse_tz(text: str) -> int:
    """``-0500`` -> -300 (minutes east of UTC)."""
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    return sign * (int(digits[:2]) * 60 + int(digits[2:4]))


def stamp(epoch: int, tz: int) -> str:
    """``2026-11-28 09:12 -05:00``: the time as the person saw it."""
    return markers.format_time(datetime.fromtimestamp(epoch, timezone(timedelta(minutes=tz))))


def describe(last, now: int) -> str:
    """``clocked in since 2026-11-28 09:12 -05:00, 3h05m ago, commit abc1234``."""
    if last is None:
        return "no clock marker of yours in this history (clocked out)"
    ago = markers.format_minutes(max(0, now - last.effective_epoch))
    return f"clocked {last.kind} since {stamp(last.effective_epoch, last.tz)}, {ago} ago, commit {last.sha[:7]}"


def check(kind: str, authored: int, offset: int, last, now=None, tz: int = 0, tie_ordered: bool = False,
          earlier=None):
    """None if the event may be recorded after `last`, else a Problem.

    kind: markers.IN / OUT; authored: the new commit's author date (epoch);
    offset: its T- offset in seconds; last: the identity's last marker (or None);
    tz: the new commit's UTC offset in minutes, for the messages;
    tie_ordered: the new commit is known to descend from `last`, so history
    orders a tie of the same second by ancestry;
    earlier: a function answering the marker before `last` (or None), called
    only when the event falls at the very time of `last` (see _repeats).
    """
    now = int(time.time()) if now is None else now

    def _stamp(epoch: int) -> str:
        return stamp(epoch, tz)

    effective = authored - offset
    state = describe(last, authored)
    word = f"clock-{kind}"
    if effective > now + FUTURE_SLACK:
        return Problem(f"This {word} is in the future ({_stamp(effective)}); the future is not billable.",
                       "", ["check the commit's --date / GIT_AUTHOR_DATE, or drop the date"])
    if kind == markers.IN and last is not None and last.kind == markers.IN:
        return Problem(f"You are already clocked in; a second {word} would leave the first without a clock-out.",
                       state, ['clock out first: `hourly out` (or `git commit --allow-empty -m "clock-out"`), '
                               "then commit again"])
    if kind == markers.OUT and (last is None or last.kind == markers.OUT):
        return Problem("You are not clocked in, so there is nothing to clock out of.", state,
                       ['clock in first: `hourly in --at HH:MM` (or `git commit --allow-empty -m "clock-in: T-1h"` '
                        "with the right offset), then commit again",
                        "or drop the clock-out marker from this message"])
    if last is not None and authored < last.epoch:
        return Problem(f"This {word} is dated {_stamp(authored)}, before your last marker; "
                       "history would read it out of order.", state,
                       ["commit it with the current date (drop --date / GIT_AUTHOR_DATE)"])
    if last is not None and authored == last.epoch and not tie_ordered:
        # Markers are ordered by author date, in whole seconds: a tie cannot be ordered.
        return Problem(f"This {word} has the same author date (to the second) as your last marker, "
                       "so history could not tell which came first.", state,
                       ["commit again a second later"])
    if last is not None and effective < last.effective_epoch:
        what = "its clock-in" if kind == markers.OUT else "your last clock-out"
        room = markers.format_duration(timedelta(seconds=max(0, authored - last.effective_epoch)))
        return Problem(f"The offset puts this {word} at {_stamp(effective)}, before {what}.", state,
                       [f"use an offset of at most T-{room}"])
    if last is not None and earlier is not None and effective == last.effective_epoch:
        return _repeats(kind, effective, earlier(), state, _stamp)
    return None


def _repeats(kind: str, effective: int, before, state: str, _stamp):
    """A Problem when the event repeats `before` (same kind, same time), else None.

    The report reads two clock-ins (or clock-outs) of one person at one time as
    copies of one event (a rebase or cherry-pick leaves such copies) and keeps
    one: clock-out, clock-in, clock-out at one time would lose the last
    clock-out, and the person would show as clocked in. Only a zero-length
    session next to a zero-length gap makes such a repeat, so it is refused.
    """
    if before is None or before.kind != kind or before.effective_epoch != effective:
        return None
    return Problem(f"This clock-{kind} would be at {_stamp(effective)}, the very time of your last marker and of "
                   f"your clock-{kind} before it (commit {before.sha[:7]}): history would read it as a copy of "
                   f"that one and drop it.", state,
                   ["wait a second and commit again (or use a smaller offset), so it comes later",
                    f"or drop the clock-{kind} marker from this message"])
