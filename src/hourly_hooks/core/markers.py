"""Parse and format the clock markers of a commit message (pure: no I/O).

Two forms are recognised:

* subject form: the subject line starts with ``clock-in`` / ``clock-out``
  (also ``clock in``, ``Clock-In``, ``CLOCK OUT``), optionally followed by
  ``:`` or `` -``, an offset ``T-<duration>`` and a free note;
* trailer form: a ``Clock: in`` / ``Clock: out [T-10m] [note]`` line in the
  trailer block (the last paragraph) of a message with a body.

A subject that was surely meant as a marker but is spelled otherwise
(``clock  out``, ``clock_out``, ``clock–out``, a lone ``Clock: out``) is a
*near miss*: it comes back as a Marker of the kind meant, with form NEAR_MISS
and ``problem`` naming the expected spelling, so the hook refuses it and the
report lists it instead of silently leaving a session open.

A malformed or absurd offset never raises here either: the marker comes back
with ``problem`` set, so history reading can report it as an anomaly and the
hook can refuse it.

Lines are split on ``\n`` only and white space is ASCII white space, as git
sees them: the readers let `git log --grep` (in the C locale) pick the marker
commits, and a marker git cannot find must not be a marker for the hook either.
"""

from __future__ import annotations

from datetime import timedelta
from operator import itemgetter

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing: mypy reads it as True
if TYPE_CHECKING:
    from typing import Any

IN = "in"
OUT = "out"
NEAR_MISS = "near-miss"  # Marker.form of a subject that misspells a marker

# ASCII white space: what git's [[:space:]] means in the C locale, and what \s
# means with re.ASCII. Python's own \s, str.strip() and str.splitlines() also
# take NO-BREAK SPACE, U+2028, \x1c... for white space or line breaks, and with
# re.IGNORECASE match KELVIN SIGN for "k": git would not see those markers.
_WS = " \t\n\r\f\v"
_WS_OR_END = frozenset(("", *_WS))  # what may follow a "-" or "--" that is a separator
_COLON_OR_WS = frozenset(":" + _WS)
_KINDS = ("in", "out")

_DIGITS = frozenset("0123456789")  # \d in ASCII, as git and int() of the parts agree

# Markers, offsets and durations (_subject_head, _trailer_head, _split_offset,
# _duration_parts) are read by hand, not by regular expressions: the hook
# imports this module on every commit that mentions "clock", and `re` (with the
# enum module its flags are made of) would cost each marker commit about 5 ms
# (measured: 22.6 -> 27.5 ms CPU for the hook with the same grammar in `re`;
# tests/test_markers_heads.py holds the two to the same answers). Only
# the near misses, tried on a subject that starts with "clock" but is no
# marker, are regular expressions, compiled on first use (_lazy), with `re`
# imported only then.
#
# Near misses, tried on the subject once _subject_head has failed: other separators
# between "clock" and in/out (several blanks, a tab, "_", "--", an en or em
# dash, as editors and phones write them), or the trailer spelled as the
# subject with nothing but an offset after it (a lone `Clock: out`; "clock: in
# DST transitions..." is prose, not a marker).
_NEAR_SUBJECT = "\\s*(?P<head>clock(?:[\\s_-]|\u2013|\u2014)+(?P<kind>in|out))(?P<rest>(?:[:\\s].*)?)"
_NEAR_TRAILER = r"\s*(?P<head>clock\s*:\s*(?P<kind>in|out))(?P<rest>(?:\s+T[-+].*)?\s*)"
_UNIT_SECONDS = {
    "d": 86400,
    "h": 3600, "hr": 3600, "hrs": 3600,
    "m": 60, "min": 60, "mins": 60,
    "s": 1,
}

# No clock event is back-dated by years: a longer offset is a typo
# (T-99999d), not work to bill. The cap also keeps `author date - offset`
# inside datetime's range for every author date git can store (1970 on).
MAX_OFFSET = timedelta(days=3650)

# What `git log -i -E --grep` must keep so that the parser sees every marker:
# a line starting (after blanks) with "clock", then anything but letters and
# digits, then in/out. That covers the subject form, the trailer form and the
# near misses (blanks, "_", "--", ":", an en or em dash) in one regex, which git
# runs once per line. It is ASCII on purpose. The report's reader runs git
# with LC_ALL=C, where the dashes are three bytes each: a bracket expression
# naming them would match one byte of them, not the dash, while "anything but
# [:alnum:]" matches every one of the bytes (and, in the user's UTF-8 locale,
# which the hook's reader keeps, the whole character). And an ASCII pattern
# reaches git intact whatever the locale's encoding. A property test
# (tests/test_markers_grep.py) shows it keeps every message parse() accepts.
#
# The line may also start with a byte-order mark (U+FEFF, which some Windows
# editors write before the subject; parse() reads it as nothing): hence
# "anything but [:alnum:]" before "clock" too, a superset of [:space:] that
# takes the BOM's three bytes in the C locale and its one character in UTF-8.
GREP = ("^[^[:alnum:]]*clock[^[:alnum:]]*(in|out)",)

BOM = "\ufeff"

# git's `commit -v` scissors line, below which nothing is part of the message.
SCISSORS = "------------------------ >8 ------------------------"

# Messages git or the user generate that must pass the hook untouched.
PASS_THROUGH_PREFIXES = ("Merge ", "fixup!", "squash!", "amend!", "Revert ", 'Revert"')


_ZERO = timedelta(0)


# A tuple subclass written out, not a dataclass or a namedtuple: the commit-msg
# hook imports this module on every commit, and dataclasses + typing, or
# collections and namedtuple's class factory, add to its start-up.
class Marker(tuple):
    """One clock event as written in a commit message.

    kind is IN or OUT; form is "subject", "trailer" or NEAR_MISS; problem says
    why the marker cannot be billed as written (a malformed, future or absurd
    offset; a near miss), if it cannot; line is the index of the marker's line.
    A marker with a problem has offset zero; when the offset is the problem,
    the note holds the whole text after the marker, offset included.

    It behaves as a namedtuple of those six fields: a tuple in field order,
    with _fields, _replace and _asdict.
    """

    __slots__ = ()
    _fields = ("kind", "offset", "note", "form", "problem", "line")

    def __new__(cls, kind: str, offset: timedelta = _ZERO, note: str = "", form: str = "subject",
                problem: str | None = None, line: int = 0) -> Marker:
        return tuple.__new__(cls, (kind, offset, note, form, problem, line))

    def __getnewargs__(self) -> tuple:  # copy and pickle call __new__ with the fields
        return tuple(self)

    if TYPE_CHECKING:  # what the fields hold, for mypy
        kind: str
        offset: Any  # a timedelta; Any to mypy, as a namedtuple's field was, which its readers' types rely on
        note: str
        form: str
        problem: str | None
        line: int
    else:  # read as fast as a namedtuple's fields (a Python property is slower, and reports read millions)
        kind = property(itemgetter(0))
        offset = property(itemgetter(1))
        note = property(itemgetter(2))
        form = property(itemgetter(3))
        problem = property(itemgetter(4))
        line = property(itemgetter(5))

    def _asdict(self) -> dict:
        return dict(zip(self._fields, self))

    def _replace(self, **changes) -> Marker:
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise ValueError(f"Got unexpected field names: {sorted(unknown)!r}")
        return Marker(**{**self._asdict(), **changes})

    def __repr__(self) -> str:
        return "Marker(" + ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self)) + ")"

    @property
    def canonical(self) -> str:
        """The marker's line as the tool writes it."""
        if self.form == "trailer":
            return format_trailer(self.kind, self.offset, self.note)
        return format_marker(self.kind, self.offset, self.note)


_COMPILED: dict = {}


def _lazy(pattern: str):
    """pattern, compiled the first time it is needed: ASCII, ignoring case.

    Lines hold no "\n": re.S only lets "." take a lone "\r" too.
    """
    compiled = _COMPILED.get(pattern)
    if compiled is None:
        import re
        compiled = _COMPILED[pattern] = re.compile(pattern, re.I | re.A | re.S)
    return compiled


def _word_at(text: str, start: int, word: str) -> bool:
    """text has the lower-case ASCII word at start, in any case (ASCII only:
    "\u212a".lower() is "k", but git would not take KELVIN SIGN for k)."""
    part = text[start:start + len(word)]
    return part.isascii() and part.lower() == word


def _kind_at(text: str, start: int):
    """IN or OUT when text spells one at start (in any case), else None."""
    for kind in _KINDS:
        if _word_at(text, start, kind):
            return kind
    return None


def _subject_head(line: str):
    """(kind, rest) when line is a subject marker, else None.

    The subject must *start* (after ASCII blanks) with ``clock``, then at
    most one "-" or " ", then ``in`` / ``out``, in any ASCII case; the rest
    must be empty or begin with ":" or white space, so "clock-in-progress"
    and "clockwork" are not markers.
    """
    text = line.lstrip(_WS)
    if not _word_at(text, 0, "clock"):
        return None
    at = 6 if text[5:6] in ("-", " ") else 5
    kind = _kind_at(text, at)
    if kind is None:
        return None
    rest = text[at + len(kind):]
    if rest and rest[0] not in _COLON_OR_WS:
        return None
    return kind, rest


def _trailer_head(line: str):
    """(kind, rest) when line (stripped of ASCII blanks) is a trailer marker, else None.

    ``clock``, ":" with any ASCII blanks around it, then ``in`` / ``out`` (in
    any ASCII case); the rest must be empty or begin with white space.
    """
    if not _word_at(line, 0, "clock"):
        return None
    after = line[5:].lstrip(_WS)
    if after[:1] != ":":
        return None
    after = after[1:].lstrip(_WS)
    kind = _kind_at(after, 0)
    if kind is None:
        return None
    rest = after[len(kind):]
    if rest and rest[0] not in _WS:
        return None
    return kind, rest


def _duration_parts(text: str):
    """[(digits, unit), ...] of a duration written as parts (``1h 22m``), or None.

    A part is ASCII digits and at once a unit of _UNIT_SECONDS (in any ASCII
    case); parts may be separated by white space; nothing else may stand
    before, between or after them.
    """
    parts, at, end = [], 0, len(text)
    while True:
        start = at
        while at < end and text[at] in _DIGITS:
            at += 1
        if at == start:
            return None
        unit_start = at
        while at < end and text[at] not in _DIGITS and text[at] not in _WS:
            at += 1
        unit = text[unit_start:at]
        if not unit.isascii() or unit.lower() not in _UNIT_SECONDS:
            return None
        parts.append((text[start:unit_start], unit.lower()))
        if at == end:
            return parts
        while at < end and text[at] in _WS:
            at += 1


def _split_offset(rest: str):
    """(sign, body, after) of a rest that starts with ``T-`` / ``T+`` (any case), else None.

    The body is the word after the sign, and every following word that starts
    with a digit: parts may stand apart ("T-1h 30m"), and "T-1h 30" or
    "T-1h 30 min" is a malformed offset rather than 1h and a note.
    """
    if rest[:1] not in ("T", "t") or rest[1:2] not in ("-", "+"):
        return None
    start = at = 2
    end = len(rest)
    while at < end and rest[at] not in _WS:
        at += 1
    body_end = at
    while body_end > start:
        at = body_end
        while at < end and rest[at] in _WS:
            at += 1
        if at == body_end or at == end or rest[at] not in _DIGITS:
            break
        while at < end and rest[at] not in _WS:
            at += 1
        body_end = at
    return rest[1], rest[start:body_end], rest[body_end:]


def parse_duration(text: str) -> timedelta:
    """``1h22m``, ``1h 22m``, ``1hr``, ``45m``, ``2d``, ``90s`` -> timedelta; ValueError otherwise."""
    text = text.strip(_WS)
    parts = _duration_parts(text)
    if parts is None:
        raise ValueError(f"not a duration: {text!r} (expected parts like 1h22m, 45m, 1hr, 2d)")
    try:
        seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in parts)
        return timedelta(seconds=seconds)
    except (OverflowError, ValueError):  # past timedelta's range, or more digits than int() takes
        raise ValueError(f"duration too large: {text!r}") from None


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


def format_time(moment: "Any", seconds: bool = False) -> str:
    """A person's time on every human line: ``2026-11-28 09:12 -05:00`` (with seconds:
    ``09:12:04``), the UTC offset written as ISO 8601 and JSON write it; `moment`: an
    aware datetime."""
    text = moment.isoformat(" ", "seconds" if seconds else "minutes")  # 2026-11-28 09:12-05:00
    cut = 19 if seconds else 16
    return f"{text[:cut]} {text[cut:]}"


def format_marker(kind: str, offset: timedelta = timedelta(0), note: str = "") -> str:
    """The canonical subject: ``clock-in``, ``clock-in: T-15m note``, ``clock-out: note``.

    A note that would read as something else (``T-shirt design``, ``- x``)
    is written after ``--``: ``clock-in: -- T-shirt design``.
    """
    return _format(f"clock-{kind}", ": ", "subject", kind, offset, note)


def format_trailer(kind: str, offset: timedelta = timedelta(0), note: str = "") -> str:
    """The canonical trailer: ``Clock: out``, ``Clock: out T-10m note``."""
    return _format(f"Clock: {kind}", " ", "trailer", kind, offset, note)


def _format(head: str, separator: str, form: str, kind: str, offset: timedelta, note: str) -> str:
    note = note.strip(_WS)
    words = [f"T-{format_duration(offset)}"] if offset else []
    if note:
        words.append(note)
        back = _parse_rest(kind, separator + " ".join(words), form, 0)
        if (back.offset, back.note, back.problem) != (offset, note, None):
            words.insert(-1, "--")  # "T-shirt", "- x", "2nd try" after an offset: keep them the note
    return head + separator + " ".join(words) if words else head


def _parse_rest(kind: str, rest: str, form: str, line: int) -> Marker:
    """Split what follows ``clock-in`` into offset and note."""
    rest = rest.strip(_WS)
    if rest.startswith(":"):
        rest = rest[1:].lstrip(_WS)
    elif rest[:1] == "-" and rest[1:2] in _WS_OR_END:  # the " -" separator
        rest = rest[1:].lstrip(_WS)
    offset, problem = _ZERO, None
    token = _split_offset(rest)
    if token:
        sign, body, after = token
        written = f"T{sign}{body}"
        if len(written) > 40:
            written = written[:37] + "..."  # a problem is one line, not a 5000-digit number
        if sign == "+":
            problem = f"offset {written} points into the future; only T- offsets are allowed"
        else:
            try:
                offset = parse_duration(body)
                too_large = offset > MAX_OFFSET
            except ValueError:
                too_large = _duration_parts(body) is not None  # well formed, past any range
                if not too_large:
                    problem = f"malformed offset {written} (expected T- and parts like 1h22m, 45m, 1hr)"
            if too_large:
                problem = (f"offset {written} is absurd (more than {MAX_OFFSET.days} days back); "
                           f"an offset says how long before the commit the clock event was")
        if problem:
            offset = _ZERO  # the whole text stays the note: the canonical form then quotes it
        else:
            rest = after.lstrip(_WS)
    if problem is None:
        if rest[:2] == "--" and rest[2:3] in _WS_OR_END:  # "-- note": the note exactly as written
            rest = rest[2:].lstrip(_WS)
        elif rest[:1] == "-" and rest[1:2] in _WS_OR_END and rest[1:2]:  # "T-5m - note"
            rest = rest[2:].lstrip(_WS)
    return Marker(kind=kind.lower(), offset=offset, note=rest, form=form, problem=problem, line=line)


def _lines(message: str) -> tuple:
    """(the message's lines, a leading byte-order mark dropped; the index of the first non-blank one or None)."""
    lines = message.split("\n")
    if lines[0].startswith(BOM):
        lines[0] = lines[0][1:]
    return lines, next((i for i, text in enumerate(lines) if text.strip(_WS)), None)


def parse(message: str) -> Marker | None:
    """The message's clock marker, or None. Subject form wins over a trailer.

    Lines are what git calls lines (split on "\n" only), and blank means
    ASCII white space only. A byte-order mark starting the message is not
    part of it (the hook drops it when it rewrites the marker).
    """
    lines, first = _lines(message)
    if first is None:
        return None
    head = _subject_head(lines[first])
    if head:
        return _parse_rest(head[0], head[1], "subject", first)
    if not _word_at(lines[first].lstrip(_WS), 0, "clock"):
        return _parse_trailer(lines, first)  # no near miss either: both start with "clock"
    near = _lazy(_NEAR_SUBJECT).fullmatch(lines[first]) or _lazy(_NEAR_TRAILER).fullmatch(lines[first])
    if near:
        meant = _parse_rest(near["kind"], near["rest"], NEAR_MISS, first)
        spelled = format_marker(meant.kind) if meant.problem else format_marker(*meant[:3])
        return meant._replace(offset=_ZERO, problem=(
            f"`{near['head'].strip(_WS)}` is a near miss of a marker: did you mean `{spelled}`?"))
    return _parse_trailer(lines, first)


def _parse_trailer(lines: list, first: int) -> Marker | None:
    found = _trailers(lines, first, 1)
    return found[0] if found else None


def events(message: str) -> list:
    """Every clock event the message carries: the subject marker and each trailer.

    parse() reads one (the subject first); the hook refuses a message with
    more, since one commit is one clock event.
    """
    marker = parse(message)
    if marker is None:
        return []
    lines, first = _lines(message)
    trailers = _trailers(lines, first)
    return trailers if marker.form == "trailer" else [marker] + trailers


def _trailers(lines: list, first: int, limit: int = 0) -> list:
    """The trailer markers of the message's lines (at most limit, if given)."""
    # The trailer block is the last paragraph, and never the subject's own.
    found: list = []
    end = len(lines)
    while end > first and not lines[end - 1].strip(_WS):
        end -= 1
    start = end
    while start > first and lines[start - 1].strip(_WS):
        start -= 1
    if start <= first:
        return found
    for index in range(start, end):
        head = _trailer_head(lines[index].strip(_WS))
        if head:
            found.append(_parse_rest(head[0], head[1], "trailer", index))
            if len(found) == limit:
                break
    return found


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
