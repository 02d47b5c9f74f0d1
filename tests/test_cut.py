"""sessions.cut, sessions.cut_after and sessions.pair agree: pairing the markers from the cut on
gives, from `since` on, what pairing the whole history gives; pairing those between the cut and
the cut after `until` gives, from `since` to `until`, what pairing the whole history gives.

cut() and cut_after() restate pair()'s rules to decide which markers a windowed report may
leave unread (history.py reads only those between the cuts). Pure: rows as git/log.py reads
them (records.COLUMNS), no git.
"""

from __future__ import annotations

from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from hourly_hooks.core.records import records
from hourly_hooks.core.sessions import cut, cut_after, pair

# Same name with two emails, and an email in another case: the three identity keys group differently.
PEOPLE = [("Al", "al@x"), ("Al", "al2@x"), ("Bo", "bo@x"), ("Cy", "AL@x")]
KEYS = ["email", "name", "both"]


def row(index: int, person: int, epoch: int, kind: str, off: int = 0, problem=None) -> tuple:
    name, email = PEOPLE[person]
    return (f"c{index:03d}", name, email, epoch, 0, kind, off, "", "subject", problem, 0, f"clock-{kind}")


markers = st.lists(st.tuples(st.sampled_from([0, 0, 0, 1, 2, 3]),                # mostly one person
                             st.integers(0, 24).map(lambda n: n * 600),        # seconds, ties included
                             st.sampled_from(["in", "out"]),
                             st.sampled_from([0, 0, 0, 600, 1800, 3600, 90000]),  # T-10m ... T-25h
                             st.sampled_from([None, None, None, None, "bad offset"])),
                   max_size=30)


def rows_of(drawn) -> list:
    rows = [row(index, *fields) for index, fields in enumerate(drawn)]
    rows.sort(key=lambda r: r[3])  # by author date, as the store gives them
    return rows


def from_since(pairing, since: int) -> tuple:
    """What a report from `since` on shows of a pairing: sessions and open sessions starting then
    or later, anomalies dated then or later."""
    def sessions(found):
        return sorted((s.identity, s.commits) for s in found if s.clock_in.effective_epoch >= since)
    anomalies = sorted((a.kind, a.identity, a.commits, a.message) for a in pairing.anomalies
                       if a.when.timestamp() >= since)
    return sessions(pairing.sessions), sessions(pairing.open), anomalies


def check(rows: list, since: int, exclude: tuple) -> bool:
    """Whether cut() found a second; when it did, both pairings agree for every identity key."""
    second = cut(rows, since, exclude)
    if second is None:
        return False
    assert second <= since
    kept = [r for r in rows if not r[0].startswith(exclude)] if exclude else rows
    window = [r for r in kept if r[3] >= second]
    for key in KEYS:
        whole = pair(records(kept), key)
        cut_window = pair(records(window), key)
        assert from_since(cut_window, since) == from_since(whole, since), (key, second)
    return True


@settings(max_examples=600, deadline=None)
@given(markers, st.integers(0, 24).map(lambda n: n * 600), st.sampled_from([(), ("c00",), ("c01", "c1")]))
@example([(0, 0, "in", 0, None), (0, 600, "out", 0, None), (0, 1200, "in", 3600, None),
          (0, 1800, "out", 0, None)], 1200, ())
# A clock-in dated back across the cut: the whole history refuses its session (it overlaps the one
# before), the window would accept it and then refuse the next, which starts after `since`.
@example([(0, 0, "in", 0, None), (0, 1200, "out", 0, None), (0, 1800, "in", 1800, None), (0, 4800, "out", 0, None),
          (0, 5400, "in", 1800, None), (0, 6000, "out", 0, None)], 3000, ())
def test_pairing_from_the_cut_agrees_with_pairing_the_whole_history(drawn, since, exclude):
    note(f"cut at {cut(rows_of(drawn), since, exclude)}")
    check(rows_of(drawn), since, exclude)


def test_the_property_is_not_vacuous():
    # cut() does find a second on ordinary histories (the property above then compares something):
    # two people working in turns, with a clock-in dated back inside the day.
    drawn = []
    for day in range(6):
        for person in (0, 2):
            start = day * 86400 + person * 3600
            drawn += [(person, start, "in", 600 if day == 3 else 0, None), (person, start + 1800, "out", 0, None)]
    rows = rows_of(drawn)
    assert check(rows, 4 * 86400, ())
    assert cut(rows, 4 * 86400) == 4 * 86400
    assert check(rows, 3 * 86400 + 3600, ())  # Al's clock-in of day 3 is dated 10 minutes back
    assert cut(rows, 3 * 86400 + 3600) == 2 * 86400 + 2 * 3600


def test_cut_needs_everyone_clocked_out_and_no_offset_across_it():
    def one(sha, email, epoch, kind, off=0, name=None):
        return (sha, name or email.split("@")[0], email, epoch, 0, kind, off, "", "subject", None, 0, "")
    rows = [one("a", "al@x", 100, "in"), one("b", "al@x", 200, "out"),
            one("c", "al@x", 300, "in"), one("d", "al@x", 400, "out", off=150)]
    assert cut(rows, 1000) == 100         # d's offset puts it at 250, before a cut at 300
    assert cut(rows, 50) is None          # nothing at or before 50 to cut at
    rows[3] = one("d", "al@x", 400, "out", off=50)
    assert cut(rows, 1000) == 300
    rows.append(one("e", "bo@x", 350, "out"))   # bob's first marker after 300 is a clock-out
    rows.sort(key=lambda r: r[3])
    assert cut(rows, 1000) is None        # (from the start of history: the caller's case)
    assert cut(rows, 1000, exclude=("e",)) == 300
    rows.append(one("f", "bo@x", 500, "in"))
    assert cut(rows, 1000) == 500


# ------------------------------------------------------------------ the cut after `until`

def in_window(pairing, since: int, until: int) -> tuple:
    """What a report from `since` to `until` shows of a pairing (core/timesheet.build)."""
    def sessions(found):
        return sorted((s.identity, s.commits) for s in found if since <= s.clock_in.effective_epoch < until)
    anomalies = sorted((a.kind, a.identity, a.commits, a.message) for a in pairing.anomalies
                       if since <= a.when.timestamp() < until)
    return sessions(pairing.sessions), sessions(pairing.open), anomalies


def ranked(rows, order) -> list:
    """The rows' records in pairing order, same-second markers ranked as `order` (a shuffle) says,
    as history.py ranks them by their ancestry."""
    commits = records(rows)
    rank = {sha: index for index, sha in enumerate(order)}
    for commit in commits:
        commit.set_rank(rank.get(commit.sha, 0))
    return sorted(commits, key=lambda c: (c.key, c.sha))


def check_between(rows: list, since: int, until: int, end: int, exclude: tuple, order) -> bool:
    """Read as history.py reads a window: the rows before `end`, cut before `since` (or read from
    the first, when there is no cut) and after `until`. When the cut after `until` is found, both
    pairings agree for every identity key."""
    read = [r for r in rows if r[3] < end]
    later = min((r[3] - r[6] for r in rows if r[3] >= end), default=None)  # as the store answers it
    second = cut(read, since, exclude)
    if second is None:
        second = -1
    upper = cut_after([r for r in read if r[3] >= second], until, later, exclude)
    if upper is None:
        return False
    assert upper >= until
    kept = [r for r in rows if not r[0].startswith(exclude)] if exclude else rows
    window = [r for r in kept if second <= r[3] < upper]
    for key in KEYS:
        whole = pair(ranked(kept, order), key)
        between = pair(ranked(window, order), key)
        assert in_window(between, since, until) == in_window(whole, since, until), (key, second, upper)
    return True


@settings(max_examples=600, deadline=None)
@given(markers, st.integers(0, 24).map(lambda n: n * 600), st.integers(1, 12).map(lambda n: n * 600),
       st.sampled_from([0, 600, 3000, 10 ** 6]), st.sampled_from([(), ("c00",), ("c01", "c1")]), st.randoms())
@example([(0, 0, "in", 0, None), (0, 1200, "out", 0, None), (0, 1800, "in", 0, None), (0, 3000, "out", 0, None)],
         0, 2400, 10 ** 6, (), None)
# A clock-in after `until`, dated back into the window: its session is the window's.
@example([(0, 0, "in", 0, None), (0, 600, "out", 0, None), (0, 6000, "in", 3600, None), (0, 6600, "out", 0, None)],
         0, 3000, 0, (), None)
# Cy's clock-in copies Al's event by email (dropped there), not by name: by name Cy is clocked in
# at `until`, and the session that Cy's clock-out ends after it starts inside the window.
@example([(0, 600, "in", 0, None), (0, 1200, "out", 0, None), (3, 1200, "in", 600, None), (3, 3000, "out", 0, None)],
         600, 1200, 10 ** 6, (), None)
def test_pairing_between_the_cuts_agrees_with_pairing_the_whole_history(drawn, since, length, ahead, exclude, rng):
    rows = rows_of(drawn)
    order = [r[0] for r in rows]
    if rng is not None:
        rng.shuffle(order)
    check_between(rows, since, since + length, since + length + ahead, exclude, order)


# Histories of whole sessions, now and then a marker missing or dated back: both cuts are
# found in most of them (random markers above rarely leave everyone clocked out).
worked = st.lists(st.tuples(st.sampled_from([0, 0, 1, 2, 3]), st.integers(0, 40), st.integers(0, 4),
                            st.sampled_from([0, 0, 0, 0, 600, 3600, 90000]),
                            st.sampled_from([None] * 8 + ["no clock-in", "no clock-out", "bad offset"])),
                  max_size=16)


def sessions_drawn(drawn) -> list:
    markers = []
    for person, start, length, off, flaw in drawn:
        if flaw != "no clock-in":
            markers.append((person, start * 600, "in", off, "bad offset" if flaw == "bad offset" else None))
        if flaw != "no clock-out":
            markers.append((person, (start + length) * 600 + 300, "out", 0, None))
    return markers


@settings(max_examples=600, deadline=None)
@given(worked, st.integers(0, 40).map(lambda n: n * 600), st.integers(1, 12).map(lambda n: n * 600),
       st.sampled_from([0, 600, 3000, 10 ** 6]), st.sampled_from([(), ("c00",), ("c01", "c1")]), st.randoms())
def test_a_window_of_worked_sessions_agrees_with_the_whole_history(drawn, since, length, ahead, exclude, rng):
    rows = rows_of(sessions_drawn(drawn))
    order = [r[0] for r in rows]
    rng.shuffle(order)
    check_between(rows, since, since + length, since + length + ahead, exclude, order)


def test_the_cut_after_is_not_vacuous():
    # Two people working in turns: the cut after a day's end is that end, unless someone works across it.
    drawn = []
    for day in range(6):
        for person in (0, 2):
            start = day * 86400 + person * 3600
            drawn += [(person, start, "in", 0, None), (person, start + 1800, "out", 0, None)]
    drawn += [(2, 3 * 86400 - 600, "in", 0, None), (2, 3 * 86400 + 600, "out", 0, None)]  # Bo across day 3
    rows = rows_of(drawn)
    order = [r[0] for r in rows]
    assert cut_after(rows, 2 * 86400, None) == 2 * 86400
    assert check_between(rows, 86400, 2 * 86400, 10 ** 9, (), order)
    # Bo works across day 3's start: just after Bo's clock-out (Al is clocked in from day 3 on, no matter).
    assert cut_after(rows, 3 * 86400, None) == 3 * 86400 + 601
    assert check_between(rows, 2 * 86400, 3 * 86400, 10 ** 9, (), order)


def test_cut_after_needs_everyone_clocked_out_and_no_marker_dated_back_across_it():
    def one(sha, email, epoch, kind, off=0):
        return (sha, email.split("@")[0], email, epoch, 0, kind, off, "", "subject", None, 0, "")
    rows = [one("a", "al@x", 100, "in"), one("b", "al@x", 200, "out"), one("c", "al@x", 300, "in"),
            one("d", "al@x", 400, "out")]
    assert cut_after(rows, 250, None) == 250
    assert cut_after(rows, 350, None) == 401            # al works across 350
    assert cut_after(rows, 250, 240) is None            # a marker read later is dated before 250
    assert cut_after(rows, 250, 250) == 250
    rows[3] = one("d", "al@x", 400, "out", off=160)     # d is dated 240: before 250
    assert cut_after(rows, 250, None) == 401
    assert cut_after(rows, 250, None, exclude=("d",)) == 250  # without d: al's open clock-in is from 300
    assert cut_after(rows, 350, None, exclude=("d",)) is None  # ... which no clock-out ends
    assert cut_after(rows[:2], 250, None) == 250
    assert cut_after([], 250, None) == 250
    assert cut_after([one("e", "bo@x", 100, "in")], 250, None) is None  # bo never clocks out
    # Clocked in from `until` on is no matter: what that clock-in makes is dated then or later.
    rows = [one("a", "al@x", 100, "in"), one("f", "bo@x", 300, "in"), one("d", "al@x", 400, "out")]
    assert cut_after(rows, 250, None) == 401
    # ... unless a clock-in of the same second is dated before `until`: ranked by their ancestry,
    # that one may be the last.
    rows.insert(2, one("g", "bo@x", 300, "in", off=100))
    assert cut_after(rows, 250, None) is None
    # Someone clocked in across `until` while others clock in and out many times: the cut is
    # found right after their clock-out (pair() is asked about the seconds worth asking).
    rows = [one("a", "bo@x", 100, "in")] + [one(f"c{n}", "al@x", 300 + 10 * n, "in" if n % 2 == 0 else "out")
                                            for n in range(20)] + [one("z", "bo@x", 900, "out")]
    assert cut_after(rows, 250, None) == 901
