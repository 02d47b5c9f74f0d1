"""Near misses, absurd offsets and too-long sessions, end to end: `hourly report`,
`hourly status` and `hourly in` on real repositories whose markers were committed
past the hook (--no-verify), as an old history or a careless commit holds them.
"""

from __future__ import annotations

import json

import pytest

from hook_helpers import ALICE, BOB, HookedRepo

from hourly_hooks.core import sessions


def at(hhmm: str, day: str = "2025-03-03") -> str:
    return f"{day}T{hhmm}:00-05:00"


def now(stamp: str, who=ALICE) -> dict:
    return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp,
            "GIT_AUTHOR_NAME": who[0], "GIT_AUTHOR_EMAIL": who[1]}


@pytest.fixture
def repo(tmp_path) -> HookedRepo:
    return HookedRepo(tmp_path / "work")


def report(repo, *args) -> dict:
    done = repo.hourly("report", "--format", "json", "--rate", "100 USD", *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("near", ["clock  out", "CLOCK   OUT", "clock_out", "clock\u2013out", "Clock: out"])
def test_a_near_miss_is_listed_and_its_session_not_billed(repo, near):
    repo.commit("clock-in", at("09:00"))
    sha = repo.commit(near, at("10:00"))
    repo.commit("clock-in", at("11:00"))
    repo.commit("clock-out", at("11:30"))
    document = report(repo)
    assert [s["seconds"] for s in document["sessions"]] == [1800]
    (anomaly,) = document["anomalies"]
    assert anomaly["kind"] == sessions.NEAR_MISS == "near-miss-marker"
    assert anomaly["commits"] == [sha] and "did you mean `clock-out`?" in anomaly["message"]
    text = repo.hourly("report", "--rate", "100 USD", "--anomalies")
    assert text.returncode == 0 and sha[:10] in text.stderr and "near-miss-marker" in text.stderr


def test_an_absurd_offset_in_history_breaks_no_command(repo):
    repo.commit("clock-in", at("08:00"), name=BOB[0], email=BOB[1])
    sha = repo.commit("clock-out: T-99999999999999999999d", at("08:30"), name=BOB[0], email=BOB[1])
    repo.commit("clock-in", at("09:00"))
    repo.commit("clock-out", at("10:00"))
    document = report(repo)
    assert [s["seconds"] for s in document["sessions"]] == [3600]
    (anomaly,) = document["anomalies"]
    assert anomaly["kind"] == sessions.MALFORMED and anomaly["commits"] == [sha]
    for who in (ALICE, BOB):
        status = repo.hourly("status", env=now(at("11:00"), who))
        assert status.returncode == 0, status.stderr
    clocked = repo.hourly("in", env=now(at("11:00")))
    assert clocked.returncode == 0, clocked.stderr


def test_an_absurd_first_clock_in_bills_nothing(repo):
    repo.commit("clock-in: T-99999d", at("09:00"))
    repo.commit("clock-out", at("10:00"))
    document = report(repo)
    assert document["sessions"] == [] and document["total"]["amount"] is None
    assert [a["kind"] for a in document["anomalies"]] == [sessions.MALFORMED]


def test_a_forgotten_clock_out_is_a_too_long_session(repo):
    clock_in = repo.commit("clock-in", at("09:00"))
    repo.commit("clock-out", at("17:00", day="2025-03-05"))
    repo.commit("clock-in", at("09:00", day="2025-03-06"))
    repo.commit("clock-out", at("12:00", day="2025-03-06"))
    document = report(repo)
    assert [s["seconds"] for s in document["sessions"]] == [3 * 3600]
    (anomaly,) = document["anomalies"]
    assert anomaly["kind"] == sessions.TOO_LONG == "session-too-long"
    assert anomaly["commits"][0] == clock_in and clock_in[:7] in anomaly["message"]


def test_a_long_session_is_billed_once_allowed_or_under_a_larger_max_session(repo):
    clock_in = repo.commit("clock-in", at("09:00"))
    repo.commit("clock-out", at("17:00", day="2025-03-05"))   # 56 hours later
    assert [a["kind"] for a in report(repo)["anomalies"]] == [sessions.TOO_LONG]
    (repo.path / ".hourly.toml").write_text(f'allow_long = ["{clock_in[:8]}"]\n')
    document = report(repo)
    assert [s["seconds"] for s in document["sessions"]] == [56 * 3600] and document["anomalies"] == []
    (repo.path / ".hourly.toml").write_text('max_session = "3d"\n')
    assert [s["seconds"] for s in report(repo)["sessions"]] == [56 * 3600]
