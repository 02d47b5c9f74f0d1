"""Pairing and anomalies, on the pure core (no git needed)."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import test_markers_grep as grep_cases
from hourly_hooks.core import markers, sessions
from hourly_hooks.core.sessions import MarkerCommit, pair

_count = iter(range(10**6))


def mc(message, when, email="a@example.com", name="A", sha=None):
    return MarkerCommit(sha=sha or f"{next(_count):040x}", name=name, email=email,
                        authored=datetime.fromisoformat(when), marker=markers.parse(message),
                        message=message)


def kinds(result):
    return [a.kind for a in result.anomalies]


def test_simple_pair_with_offsets():
    result = pair([mc("clock-in: T-15m", "2026-01-05T09:15:00+01:00"),
                   mc("clock-out: T-10m", "2026-01-05T12:10:00+01:00")])
    (session,) = result.sessions
    assert session.start.isoformat() == "2026-01-05T09:00:00+01:00"
    assert session.seconds == 3 * 3600
    assert result.anomalies == [] and result.open == []


@pytest.mark.parametrize("events, expected_kinds, billed, open_count", [
    # clock-in while clocked in: the earlier one is not billed, the later pairs normally
    ([("clock-in", "09:00"), ("clock-in", "10:00"), ("clock-out", "11:00")],
     [sessions.DOUBLE_IN], [3600], 0),
    # clock-out without clock-in
    ([("clock-out", "08:00"), ("clock-in", "09:00"), ("clock-out", "10:00")],
     [sessions.LONE_OUT], [3600], 0),
    # clock-out before its clock-in once offsets apply
    ([("clock-in", "10:00"), ("clock-out: T-45m", "10:30"), ("clock-in", "11:00"), ("clock-out", "12:00")],
     [sessions.OUT_BEFORE_IN], [3600], 0),
    # overlapping sessions: the later one reaches back into the earlier one
    ([("clock-in", "09:00"), ("clock-out", "10:00"), ("clock-in: T-45m", "10:30"), ("clock-out", "11:00")],
     [sessions.OVERLAP], [3600], 0),
    # malformed offset: reported; its session is not billed; later pairs are untouched
    ([("clock-in: T-abc", "09:00"), ("clock-out", "10:00"), ("clock-in", "11:00"), ("clock-out", "12:30")],
     [sessions.MALFORMED], [5400], 0),
    # an unclosed clock-in is open, never billed
    ([("clock-in", "09:00"), ("clock-out", "10:00"), ("clock-in", "11:00")], [], [3600], 1),
])
def test_anomalies_never_shift_later_pairs(events, expected_kinds, billed, open_count):
    result = pair([mc(message, f"2026-01-05T{time}:00+00:00") for message, time in events])
    assert kinds(result) == expected_kinds
    assert [s.seconds for s in result.sessions] == billed
    assert len(result.open) == open_count
    for anomaly in result.anomalies:
        assert anomaly.commits and all(len(sha) == 40 for sha in anomaly.commits)
        assert anomaly.message


def test_anomaly_names_the_commits_involved():
    first = mc("clock-in", "2026-01-05T09:00:00+00:00")
    second = mc("clock-in", "2026-01-05T10:00:00+00:00")
    (anomaly,) = pair([first, second]).anomalies
    assert anomaly.commits == (first.sha, second.sha)
    assert first.short in anomaly.message and second.short in anomaly.message


def test_people_pair_independently():
    result = pair([mc("clock-in", "2026-01-05T09:00:00+00:00", email="a@x"),
                   mc("clock-in", "2026-01-05T09:30:00+00:00", email="b@x"),
                   mc("clock-out", "2026-01-05T10:00:00+00:00", email="a@x"),
                   mc("clock-out", "2026-01-05T11:00:00+00:00", email="b@x")])
    assert result.anomalies == []
    assert sorted(s.seconds for s in result.sessions) == [3600, 5400]


def test_rebased_copies_count_once_and_same_sha_once():
    clock_in = mc("clock-in", "2026-01-05T09:00:00+00:00")
    copy = mc("clock-in", "2026-01-05T09:00:00+00:00")  # other SHA, same event
    out = mc("clock-out", "2026-01-05T10:00:00+00:00")
    result = pair([clock_in, out, copy, out])
    assert [s.seconds for s in result.sessions] == [3600]
    assert result.anomalies == []


def test_identity_by_email_is_case_insensitive_and_configurable():
    commits = [mc("clock-in", "2026-01-05T09:00:00+00:00", email="A@X.org", name="A"),
               mc("clock-out", "2026-01-05T10:00:00+00:00", email="a@x.org", name="Other name")]
    assert len(pair(commits).sessions) == 1
    assert kinds(pair(commits, key="name")) == [sessions.LONE_OUT]


def test_session_across_a_dst_change_counts_real_elapsed_time():
    # Europe/Berlin leaves DST on 2026-10-25 at 03:00 (+02:00 -> +01:00): 00:30 to 04:30 local is 5 hours.
    result = pair([mc("clock-in", "2026-10-25T00:30:00+02:00"), mc("clock-out", "2026-10-25T04:30:00+01:00")])
    assert result.sessions[0].seconds == 5 * 3600


def test_a_near_miss_is_its_own_anomaly_and_its_session_is_not_billed():
    near = mc("clock  out", "2026-01-05T10:00:00+00:00")
    result = pair([mc("clock-in", "2026-01-05T09:00:00+00:00"), near,
                   mc("clock-in", "2026-01-05T11:00:00+00:00"), mc("clock-out", "2026-01-05T12:30:00+00:00")])
    (anomaly,) = result.anomalies
    assert anomaly.kind == sessions.NEAR_MISS and anomaly.commits == (near.sha,)
    assert near.short in anomaly.message and "did you mean `clock-out`?" in anomaly.message
    # Read as the clock-out meant: the next clock-in is no double clock-in, and pairs normally.
    assert [s.seconds for s in result.sessions] == [5400]
    assert result.open == []


def test_a_near_miss_clock_in_keeps_its_session_unbilled():
    result = pair([mc("Clock: in", "2026-01-05T09:00:00+00:00"), mc("clock-out", "2026-01-05T10:00:00+00:00")])
    assert kinds(result) == [sessions.NEAR_MISS] and result.sessions == []


def test_prose_is_not_a_near_miss():
    for message in ("fixed bug preventing users from clocking in", "had to clock out so it runs",
                    "clockwork", "clock-in-progress bar"):
        assert markers.parse(message) is None


@pytest.mark.parametrize("out_time, billed, expected", [
    ("2026-01-06T09:00:00+00:00", [24 * 3600], []),                   # exactly max_session: billed
    ("2026-01-06T09:00:01+00:00", [], [sessions.TOO_LONG]),           # one second more: not
    ("2026-01-08T17:00:00+00:00", [], [sessions.TOO_LONG]),           # a forgotten clock-out
])
def test_sessions_longer_than_max_session_are_anomalies(out_time, billed, expected):
    clock_in = mc("clock-in", "2026-01-05T09:00:00+00:00")
    result = pair([clock_in, mc("clock-out", out_time)])
    assert [s.seconds for s in result.sessions] == billed
    assert kinds(result) == expected
    for anomaly in result.anomalies:
        assert clock_in.short in anomaly.message and "max_session (1d)" in anomaly.message
        assert anomaly.commits[0] == clock_in.sha


def test_max_session_and_allow_are_parameters():
    clock_in = mc("clock-in", "2026-01-05T09:00:00+00:00")
    events = [clock_in, mc("clock-out", "2026-01-06T12:00:00+00:00")]
    assert [s.seconds for s in pair(events, allow={clock_in.sha[:7].upper()}).sessions] == [27 * 3600]
    assert [s.seconds for s in pair(events, max_session=timedelta(hours=30)).sessions] == [27 * 3600]
    assert [s.seconds for s in pair(events, max_session=None).sessions] == [27 * 3600]
    assert kinds(pair(events, max_session=timedelta(hours=8))) == [sessions.TOO_LONG]
    assert kinds(pair(events, allow={"ffff"})) == [sessions.TOO_LONG]


def test_later_sessions_pair_normally_after_a_too_long_one():
    result = pair([mc("clock-in", "2026-01-05T09:00:00+00:00"), mc("clock-out", "2026-01-07T09:00:00+00:00"),
                   mc("clock-in", "2026-01-07T10:00:00+00:00"), mc("clock-out", "2026-01-07T11:00:00+00:00")])
    assert kinds(result) == [sessions.TOO_LONG]
    assert [s.seconds for s in result.sessions] == [3600]


@pytest.mark.parametrize("message", ["clock-in: T-99999d", "clock-in: T-99999999999999999999d"])
def test_an_absurd_first_clock_in_bills_nothing(message):
    clock_in = mc(message, "2026-01-05T09:00:00+00:00")
    result = pair([clock_in, mc("clock-out", "2026-01-05T10:00:00+00:00")])
    assert result.sessions == []
    (anomaly,) = result.anomalies
    assert anomaly.kind == sessions.MALFORMED and anomaly.commits == (clock_in.sha,)
    assert clock_in.short in anomaly.message


def test_an_offset_reaching_before_1970_is_malformed():
    clock_in = mc("clock-in: T-3000d", "1975-01-05T09:00:00+00:00")  # 1966
    result = pair([clock_in, mc("clock-out", "1975-01-05T10:00:00+00:00")], max_session=None)
    assert result.sessions == []
    (anomaly,) = result.anomalies
    assert anomaly.kind == sessions.MALFORMED and "before 1970" in anomaly.message
    assert clock_in.short in anomaly.message


@settings(max_examples=300, deadline=None)
@given(grep_cases.message, st.sampled_from(["1970-01-01T00:00:00+00:00", "1969-12-31T10:00:00-14:00",
                                            "1970-01-01T14:00:00+14:00", "9999-12-31T23:59:59-12:00",
                                            "2026-01-05T09:00:00+05:45"]))
def test_no_parsed_marker_makes_a_marker_commit_raise(message, when):
    # Every author date git can store is from 1970 on (in any zone): with any
    # parsed marker, the effective time and the sort key are computable.
    marker = markers.parse(message)
    if marker is not None:
        commit = MarkerCommit(sha="0" * 40, name="A", email="a@x", authored=datetime.fromisoformat(when),
                              marker=marker)
        pair([commit, mc("clock-out", "2026-01-05T10:00:00+00:00")])
