"""Pairing and anomalies, on the pure core (no git needed)."""

from datetime import datetime

import pytest

from hourly_hooks import markers, sessions
from hourly_hooks.sessions import MarkerCommit, pair

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
