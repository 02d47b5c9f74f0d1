"""The warm report's shortcuts: what they leave out or make late still comes out the same."""

from __future__ import annotations

import gc
import json
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from hourly_hooks import history, store
from hourly_hooks.core.records import COLUMNS
from hourly_hooks.core import markers, sessions
from hourly_hooks.cli import main
from hourly_hooks.commands.options import bulk
from hourly_hooks.core.records import MarkerCommit
from hourly_hooks.output import jsontext, rows
from hourly_hooks.git.repository import Repository
from hourly_hooks.core.timesheet import Rates, Selection, build
from hourly_hooks.core.money import parse_rate


def report(repo, *args):
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--format", "json", *args])
    assert result.exit_code == 0, result.output + result.stderr
    return json.loads(result.stdout)


def store_file(repo):
    return repo.path / ".git" / "hourly" / "markers.sqlite3"


@pytest.fixture
def two_people(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out pro bono", "2026-03-02T10:00:00+00:00")
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("clock-in", "2026-03-03T09:00:00+00:00", name="Bob", email="bob@example.com")
    repo.commit("clock-out", "2026-03-03T10:30:00+00:00", name="Bob", email="bob@example.com")
    repo.git("checkout", "-q", "main")
    return repo


def test_messages_are_read_back_from_the_store_only_when_asked_for(two_people):
    report(two_people, "--all")  # fills the store
    commits = history.read(Repository(str(two_people.path)), all_refs=True)
    assert all(not isinstance(c._message, str) for c in commits)  # left out of the read
    assert [c.message for c in commits] == ["clock-in", "clock-out pro bono", "clock-in", "clock-out"]
    assert report(two_people, "--all", "--ignore", "bono")["total"]["seconds"] == 5400


def test_messages_come_from_git_when_the_store_no_longer_holds_them(two_people):
    report(two_people, "--all")
    commits = history.read(Repository(str(two_people.path)), all_refs=True)
    later = history.read(Repository(str(two_people.path)), all_refs=True)
    with closing(sqlite3.connect(store_file(two_people))) as db, db:
        db.execute("UPDATE markers SET body = 'changed' WHERE shape IN (SELECT id FROM shapes WHERE kind = 'out')")
        db.execute("DELETE FROM markers WHERE shape IN (SELECT id FROM shapes WHERE kind = 'in')")
    # A SHA's message never changes: what the store still holds is used, git gives the rest.
    assert [c.message for c in commits] == ["clock-in", "changed", "clock-in", "changed"]
    store_file(two_people).unlink()
    assert [c.message for c in later] == ["clock-in", "clock-out pro bono", "clock-in", "clock-out"]


def _joined(db, scope):
    """The scope's rows the plain way: each marker looked up in the scope."""
    columns = ", ".join(("a." if c in ("name", "email") else "k." if c in SHAPE else "m.") + c
                        for c in COLUMNS.replace(" ", "").split(",")[:-1])
    return db.execute(f"SELECT {columns} FROM markers m JOIN members s ON s.sha = m.sha "
                      "JOIN authors a ON a.id = m.author JOIN shapes k ON k.id = m.shape "
                      "WHERE s.scope = ? ORDER BY m.epoch, m.rowid", (scope,)).fetchall()


SHAPE = ("kind", "off", "note", "form", "problem", "line")


def test_every_scope_reads_its_own_markers_whatever_its_share_of_the_table(two_people):
    path = two_people.path
    for at in range(4, 10):  # more markers on main only: HEAD's share of the table grows
        two_people.commit("clock-in" if at % 2 == 0 else "clock-out", f"2026-03-{at:02d}T09:00:00+00:00")
    report(two_people, "--all")
    report(two_people)
    side = path.parent / "side"
    two_people.git("worktree", "add", "-q", str(side), "side")
    CliRunner().invoke(main, ["report", "--repo", str(side)])  # side's scope: 4 of the 10 markers
    with store.connect(Repository(str(path))) as opened:
        assert opened is not None
        scopes = [scope for (scope,) in opened.db.execute("SELECT id FROM scopes")]
        sizes = [opened.db.execute("SELECT count(*) FROM members WHERE scope = ?", (scope,)).fetchone()[0]
                 for scope in scopes]
        assert sorted(sizes) == [4, 8, 10]  # under half, over half, and the whole table
        for scope in scopes:
            assert opened.rows(scope) == _joined(opened.db, scope)


def test_bulk_pauses_the_cycle_collector_and_resumes_it_once():
    assert gc.isenabled()
    with bulk():
        assert not gc.isenabled()
        with bulk():
            assert not gc.isenabled()
        assert not gc.isenabled()
        kept = [[] for _ in range(10)]
    assert gc.isenabled()
    assert all(gc.is_tracked(item) for item in kept)  # moved to the oldest generation, still collected


def _commit(message, authored, sha):
    return MarkerCommit(sha=sha, name="A", email="a@example.com", authored=authored,
                        marker=markers.parse(message), message=message)


@pytest.mark.parametrize("authored", [
    datetime(2020, 1, 3, 18, 44, 4, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2020, 1, 3, 18, 44, 4, tzinfo=timezone.utc),
    datetime(2020, 6, 3, 18, 44, 4, tzinfo=ZoneInfo("Asia/Kathmandu")),
    datetime(1890, 6, 3, 18, 44, 4, tzinfo=ZoneInfo("Europe/Amsterdam")),  # +00:19:32: seconds in the offset
])
def test_anomaly_times_read_as_iso_8601_offsets(authored):
    first = _commit("clock-in", authored, "1" * 40)
    second = _commit("clock-in", authored + timedelta(hours=1), "2" * 40)
    (anomaly,) = sessions.pair([first, second]).anomalies
    for commit, short in ((second, "2222222"), (first, "1111111")):
        offset = commit.effective.isoformat()[19:]  # -05:00, +00:00, +05:45, +00:19:32
        assert f"{commit.effective:%Y-%m-%d %H:%M} {offset} ({short})" in anomaly.message


def test_a_period_bound_inside_a_second_is_met_exactly():
    start = datetime(2026, 3, 2, 9, 0, 0, tzinfo=timezone.utc)
    commits = [_commit("clock-in", start, "1" * 40), _commit("clock-out", start + timedelta(hours=1), "2" * 40)]
    for since, kept in ((start, 1), (start - timedelta(microseconds=1), 1), (start + timedelta(microseconds=1), 0)):
        assert len(build(Selection(tz=timezone.utc, since=since), commits).lines) == kept
    for until, kept in ((start, 0), (start + timedelta(microseconds=1), 1)):
        assert len(build(Selection(tz=timezone.utc, until=until), commits).lines) == kept


def test_the_json_document_is_exactly_what_json_dumps_writes():
    zone = timezone(timedelta(hours=5, minutes=30))
    people = [("Émile \"E\" Brontë", "emile@example.fr"), ("李雷", "li@example.cn"), ("Bob", "bob@example.com")]
    commits = []
    for day in range(1, 9):
        name, email = people[day % 3]
        start = datetime(2026, 3, day, 9, tzinfo=zone)
        note = ["", "pro bono", 'a "quoted" note\\ with\ttab', "naïve ünïcode"][day % 4]
        commits.append(MarkerCommit(f"{day:040x}", name, email, start, markers.parse("clock-in")))
        commits.append(MarkerCommit(f"{day + 100:040x}", name, email, start + timedelta(minutes=7 * day),
                                    markers.parse(f"clock-out {note}".strip())))
    rates = Rates(default=parse_rate("100 USD"), by_identity={"bob@example.com": parse_rate("0.0015 BTC")})
    billed = {f"{2:040x}": "inv-\u00e9"}
    sheet = build(Selection(tz=ZoneInfo("America/New_York"), rates=rates), commits)
    utc = build(Selection(tz=timezone.utc, rates=rates), commits)
    assert json.loads(jsontext.json_text(rows.build(utc)))["sessions"][0]["start"] == "2026-03-01T03:30:00+00:00"
    for by in ("session", "day", "author"):
        text = jsontext.json_text(rows.build(sheet, by, billed), {"budget": None})
        assert text.endswith("}\n") and "\n" not in text[:-1]
        document = json.loads(text)
        assert json.dumps(document) + "\n" == text
        assert len(document["sessions"]) == 8 and document["budget"] is None
        assert document["sessions"][0]["start"] == "2026-02-28T22:30:00-05:00"


def test_a_window_long_after_the_last_marker_reads_from_near_that_marker(repo):
    """A repository picked up again: its markers end years before the window. The store
    looks for the cut back from the last marker, not from the window's start, so it reads
    the last few markers, not the whole history; and the report is the one a full read gives."""
    for day in range(1, 21):
        repo.commit("clock-in", f"2022-02-{day:02d}T09:00:00+00:00")
        repo.commit("clock-out", f"2022-02-{day:02d}T17:00:00+00:00")
    repo.commit("clock-in", "2022-02-21T09:00:00+00:00", name="Bob", email="bob@example.com")  # never closed
    repo.commit("clock-in", "2022-02-22T09:00:00+00:00")  # left open
    since = datetime(2024, 6, 1, tzinfo=timezone.utc)  # more than 400 days after the last marker
    report(repo, "--all")  # fills the store
    whole = history.read(Repository(str(repo.path)), all_refs=True)
    windowed = history.read(Repository(str(repo.path)), all_refs=True, since=since)
    assert len(whole) == 42
    assert len(windowed) <= 4, [c.authored.isoformat() for c in windowed]
    args = ("--all", "--since", "2024-06-01", "--until", "2024-07-01")
    from_store = report(repo, *args)
    runner = CliRunner()
    direct = runner.invoke(main, ["report", "--repo", str(repo.path), "--format", "json", *args],
                           env={"HOURLY_NO_CACHE": "1"})
    assert direct.exit_code == 0, direct.output
    assert from_store == json.loads(direct.stdout)


def test_a_window_in_the_middle_of_history_reads_only_near_it(repo):
    """A month long before the history's end: the store reads the markers from a cut before
    the month to a cut after it (sessions.cut_after), not every marker to the end; and the
    report is the one a full read gives. Bob works across the month's end: the cut waits
    for his clock-out."""
    for month in range(1, 7):
        for day in (3, 10, 17):
            repo.commit("clock-in", f"2022-{month:02d}-{day:02d}T09:00:00+00:00")
            repo.commit("clock-out", f"2022-{month:02d}-{day:02d}T17:00:00+00:00")
    repo.commit("clock-in", "2022-03-31T22:00:00+00:00", name="Bob", email="bob@example.com")
    repo.commit("clock-out", "2022-04-01T02:00:00+00:00", name="Bob", email="bob@example.com")
    since, until = datetime(2022, 3, 1, tzinfo=timezone.utc), datetime(2022, 4, 1, tzinfo=timezone.utc)
    report(repo, "--all")  # fills the store
    probe = Repository(str(repo.path))
    # From the cut before March (the last session before it) to the end: February 17 to June.
    assert len(history.read(probe, all_refs=True, since=since)) == 28
    windowed = history.read(probe, all_refs=True, since=since, until=until)
    assert [c.authored.isoformat() for c in windowed] == [
        f"2022-{month}-{day:02d}T{hour}:00:00+00:00" for month, day in (("02", 17), ("03", 3), ("03", 10), ("03", 17))
        for hour in ("09", "17")] + [
        "2022-03-31T22:00:00+00:00", "2022-04-01T02:00:00+00:00"]
    args = ("--all", "--since", "2022-03-01", "--until", "2022-04-01")
    from_store = report(repo, *args)
    direct = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--format", "json", *args],
                                env={"HOURLY_NO_CACHE": "1"})
    assert direct.exit_code == 0, direct.output
    assert from_store == json.loads(direct.stdout)
    assert len(from_store["sessions"]) == 4  # Bob's session starts in March
