"""Parse and format the clock markers of a commit message (pure: no I/O).

Two forms are recognised:

* subject form: the subject line starts with ``clock-in`` / ``clock-out``
  (also ``clock in``, ``Clock-In``, ``CLOCK OUT``), optionally followed by
  ``:`` or `` -``, an offset ``T-<duration>`` and a free note;
* trailer form: a ``Clock: in`` / ``Clock: out [T-10m] [note]`` line in the
  trailer block (the last paragraph) of a message with a body.

A malformed offset never raises here: the marker comes back with ``problem``
set, so history reading can report it as an anomaly and the hook can refuse it.
"""

from __future__ import annotations

import re
from collections import namedtuple
from datetime import timedelta

IN = "in"
OUT = "out"

# The subject must *start* with the marker; the remainder must be empty or
# begin with ':' or white space, so "clock-in-progress" is not a marker.
_SUBJECT = re.compile(r"^\s*clock[- ]?(?P<kind>in|out)(?P<rest>(?:[:\s].*)?)$", re.I)
_TRAILER = re.compile(r"^clock\s*:\s*(?P<kind>in|out)(?P<rest>(?:\s.*)?)$", re.I)
_OFFSET_TOKEN = re.compile(r"^[Tt](?P<sign>[-+])(?P<body>\S*)(?P<after>.*)$", re.S)

_UNIT_SECONDS = {
    "d": 86400,
    "h": 3600, "hr": 3600, "hrs": 3600,
    "m": 60, "min": 60, "mins": 60,
    "s": 1,
}
_DURATION = re.compile(r"(?:\d+(?:d|hrs|hr|h|mins|min|m|s))+", re.I)
_DURATION_PART = re.compile(r"(\d+)(d|hrs|hr|h|mins|min|m|s)", re.I)

# What `git log -i -E --grep` must keep so that the parser sees every marker:
# a line starting (after blanks) with the subject form or the trailer form.
# One alternation, because git then runs one regex per line instead of two.
# The hook's reader and the report's reader both use this; a property test
# (tests/test_markers_grep.py) shows it keeps every message parse() accepts.
GREP = (r"^[[:space:]]*clock([- ]?(in|out)|[[:space:]]*:[[:space:]]*(in|out))",)

# git's `commit -v` scissors line, below which nothing is part of the message.
SCISSORS = "------------------------ >8 ------------------------"

# Messages git or the user generate that must pass the hook untouched.
PASS_THROUGH_PREFIXES = ("Merge ", "fixup!", "squash!", "amend!", "Revert ", 'Revert"')


_ZERO = timedelta(0)


# A namedtuple, not a dataclass: the commit-msg hook imports this module on
# every commit, and dataclasses + typing cost ~12 ms of its start-up.
class Marker(namedtuple("Marker", "kind offset note form problem line",
                        defaults=(_ZERO, "", "subject", None, 0))):
    """One clock event as written in a commit message.

    kind is IN or OUT; form is "subject" or "trailer"; problem says why the
    offset is unusable, if it is; line is the index of the marker's line.
    """

    __slots__ = ()

    @property
    def canonical(self) -> str:
        """The marker's line as the tool writes it."""
        if self.form == "trailer":
            return format_trailer(self.kind, self.offset, self.note)
        return format_marker(self.kind, self.offset, self.note)


def parse_duration(text: str) -> timedelta:
    """``1h22m``, ``1hr``, ``45m``, ``2d``, ``90s`` -> timedelta; ValueError otherwise."""
    text = text.strip()
    if not _DURATION.fullmatch(text):
        raise ValueError(f"not a duration: {text!r} (expected parts like 1h22m, 45m, 1hr, 2d)")
    seconds = sum(int(n) * _UNIT_SECONDS[unit.lower()] for n, unit in _DURATION_PART.findall(text))
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """timedelta -> the shortest canonical spelling, e.g. ``1h22m``; ``0m`` for zero."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0m"


def format_minutes(seconds: int) -> str:
    """Seconds, cut to whole minutes, as format_duration spells them: 4980 -> ``1h23m``."""
    return format_duration(timedelta(seconds=seconds // 60 * 60))


def format_marker(kind: str, offset: timedelta = timedelta(0), note: str = "") -> str:
    """The canonical subject: ``clock-in``, ``clock-in: T-15m note``, ``clock-out: note``."""
    head = f"clock-{kind}"
    tail = " ".join(p for p in (f"T-{format_duration(offset)}" if offset else "", note.strip()) if p)
    return f"{head}: {tail}" if tail else head


def format_trailer(kind: str, offset: timedelta = timedelta(0), note: str = "") -> str:
    """The canonical trailer: ``Clock: out``, ``Clock: out T-10m note``."""
    parts = [f"Clock: {kind}"]
    if offset:
        parts.append(f"T-{format_duration(offset)}")
    if note.strip():
        parts.append(note.strip())
    return " ".join(parts)


def _parse_rest(kind: str, rest: str, form: str, line: int) -> Marker:
    """Split what follows ``clock-in`` into offset and note."""
    rest = rest.strip()
    if rest.startswith(":"):
        rest = rest[1:].strip()
    elif rest.startswith("- ") or rest == "-":
        rest = rest[1:].strip()
    offset, problem = timedelta(0), None
    token = _OFFSET_TOKEN.match(rest)
    if token:
        written = f"T{token['sign']}{token['body']}"
        rest = token["after"].strip()
        if token["sign"] == "+":
            problem = f"offset {written} points into the future; only T- offsets are allowed"
        else:
            try:
                offset = parse_duration(token["body"])
            except ValueError:
                problem = f"malformed offset {written} (expected T- and parts like 1h22m, 45m, 1hr)"
    if rest.startswith("- "):
        rest = rest[2:].strip()
    return Marker(kind=kind.lower(), offset=offset, note=rest, form=form, problem=problem, line=line)


def parse(message: str) -> Marker | None:
    """The message's clock marker, or None. Subject form wins over a trailer."""
    lines = message.splitlines()
    first = next((i for i, text in enumerate(lines) if text.strip()), None)
    if first is None:
        return None
    match = _SUBJECT.match(lines[first])
    if match:
        return _parse_rest(match["kind"], match["rest"], "subject", first)
    return _parse_trailer(lines, first)


def _parse_trailer(lines: list, first: int) -> Marker | None:
    # The trailer block is the last paragraph, and never the subject's own.
    end = len(lines)
    while end > first and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > first and lines[start - 1].strip():
        start -= 1
    if start <= first:
        return None
    for index in range(start, end):
        match = _TRAILER.match(lines[index].strip())
        if match:
            return _parse_rest(match["kind"], match["rest"], "trailer", index)
    return None


def normalise(message: str, marker: Marker) -> str:
    """The message with the marker's line rewritten into canonical form."""
    lines = message.split("\n")
    lines[marker.line] = marker.canonical
    return "\n".join(lines)


def strip_comments(text: str, comment: str = "#") -> str:
    """Drop everything below the scissors line and every comment line, as git does."""
    lines = text.split("\n")
    return "\n".join(lines[i] for i in kept_lines(lines, comment))


def kept_lines(lines: list, comment: str = "#") -> list:
    """Indices of the lines git keeps: none below the scissors, no comment lines.

    Positions rather than text, so the hook can rewrite the marker in place
    with comments and body untouched.
    """
    scissors = f"{comment} {SCISSORS}"
    kept = []
    for index, line in enumerate(lines):
        if line.rstrip("\r") == scissors:
            break
        if not (comment and line.startswith(comment)):
            kept.append(index)
    return kept


def passes_through(message: str) -> bool:
    """Merge, fixup!, squash!, amend! and Revert messages are never clock events."""
    subject = message.lstrip("\n").split("\n", 1)[0]
    return subject.startswith(PASS_THROUGH_PREFIXES) or subject == "Revert"
