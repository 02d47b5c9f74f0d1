"""Who made the time: the marker commits' raw authors, as git recorded them.

Held time is matched by these and the time, not by the identity string a run
groups by: an identity rule (`identity = "name"`) or a `.mailmap` line changes
that string, never the commits. Invoices and ledger entries carry both (the
raw emails under `authors`); those written before carry identities only, and
hold a session when any of its names for the author (the identity of the day,
the mailmapped or raw name and email) is theirs, or when a range is exactly
the session's (see `held_ranges`).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Mapping, Tuple

from hourly_hooks.git import commits

Ranges = Tuple[Tuple[int, int], ...]
# clock-in or clock-out SHA -> (raw author name, raw author email folded)
RawAuthors = Mapping[str, Tuple[str, str]]

def raw_authors(repos: Iterable, lines) -> Dict[str, Tuple[str, str]]:
    """(name, email) as recorded, before .mailmap, of every marker commit of `lines`."""
    return commits.raw_authors(repos, {commit.sha for line in lines for commit in _commits(line.session)})


def _commits(session) -> list:
    return [c for c in (session.clock_in, session.clock_out) if c is not None]


def emails_of(session, raw: RawAuthors) -> FrozenSet[str]:
    """The raw author emails of a session's marker commits (empty when unknown)."""
    return frozenset(raw[c.sha][1] for c in _commits(session) if c.sha in raw)


def aliases_of(session, raw: RawAuthors) -> FrozenSet[str]:
    """Every identity string a run could have billed this session under."""
    names = {session.identity}
    for commit in _commits(session):
        people = [(commit.name, commit.email)]
        if commit.sha in raw:
            people.append(raw[commit.sha])
        for name, email in people:
            names.update({email.lower(), name, f"{name} <{email.lower()}>"})
    return frozenset(names)


def span(session) -> Tuple[int, int]:
    return int(session.start.timestamp()), int(session.end.timestamp())


def ranges_of(lines, keys: Callable[[Any], Iterable[str]]) -> Dict[str, Ranges]:
    """key -> sorted spans of the lines' sessions, each under every key `keys(session)` gives: what an
    invoice bills (keys: the identity) or its `authors` holds (keys: the raw emails, emails_of)."""
    time: Dict[str, List[Tuple[int, int]]] = {}
    for line in lines:
        for key in keys(line.session):
            time.setdefault(key, []).append(span(line.session))
    return {key: tuple(sorted(ranges)) for key, ranges in time.items()}


def held_ranges(holder, session, span: Tuple[int, int], raw: RawAuthors) -> List[Tuple[int, int]]:
    """The ranges of `holder` that may hold `session`'s time (overlap is checked by the caller)."""
    ranges: List[Tuple[int, int]] = []
    for email in emails_of(session, raw):
        ranges.extend(holder.authors.get(email, ()))
    for name in aliases_of(session, raw) if raw or not holder.authors else (session.identity,):
        ranges.extend(holder.time.get(name, ()))
    if not holder.authors:
        # Written before raw authors were recorded: the very same range, under any
        # identity, is this session (two people never clock the same seconds).
        ranges.extend(r for rs in holder.time.values() for r in rs if r == span)
    return ranges


def touching(lines, holders) -> list:
    """The lines any holder's time reaches at all, whoever it is held for: the only
    ones whose raw authors are worth asking git for (a report may hold thousands).
    A superset (closed intervals): `split` decides."""
    merged: List[List[int]] = []
    for a, b in sorted({r for h in holders for rs in (*h.time.values(), *h.authors.values()) for r in rs}):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    starts = [a for a, _ in merged]
    shas = {sha for h in holders for sha in h.shas}
    result = []
    for line in lines:
        start, end = span(line.session)
        index = bisect_right(starts, end) - 1
        if line.session.clock_in.sha in shas or (index >= 0 and merged[index][1] >= start):
            result.append(line)
    return result


def overlapping(a: Mapping[str, Ranges], b: Mapping[str, Ranges]) -> bool:
    """Whether two {key: ranges} share a key with overlapping time."""
    return any(s < end and e > start or (s == start and e == end)
               for key in set(a) & set(b) for start, end in a[key] for s, e in b[key])
