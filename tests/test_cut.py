"""sessions.cut and sessions.pair agree: pairing the markers from the cut on gives, from `since` on,
what pairing the whole history gives.

cut() restates pair()'s rules to decide which markers a windowed report may leave unread
(history.py reads only those from the cut on). Pure: rows as git/log.py reads them
(records.COLUMNS), no git.
"""

from __future__ import annotations

from hypothesis import example, given, note, settings
from hypothesis import strategies as st

from hourly_hooks.core.records import records
from hourly_hooks.core.sessions import cut, pair

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
