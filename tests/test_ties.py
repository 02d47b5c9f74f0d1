"""Markers in the same author second are ordered by ancestry and kind, never by SHA."""

from __future__ import annotations

import json

from click.testing import CliRunner

from gitrepo import GitRepo

from hourly_hooks.cli import main

DAY = "2026-03-02T{}+00:00".format


def bill(path, env=None):
    result = CliRunner().invoke(main, ["report", "--repo", str(path), "--format", "json", "--rate", "100 USD"],
                                env=env)
    assert result.exit_code == 0, result.output + result.stderr
    document = json.loads(result.stdout)
    return len(document["sessions"]), document["total"]["seconds"], document["total"]["amount"], \
        len(document["anomalies"])


def history(path, committed_shift: int) -> GitRepo:
    """in 09:00, out 10:00:00, in 10:00:00, out 11:00; committer dates shifted by some seconds."""
    repo = GitRepo(path)
    shas = []
    for index, (message, when) in enumerate([("clock-in", "09:00:00"), ("clock-out", "10:00:00"),
                                             ("clock-in", "10:00:00"), ("clock-out", "11:00:00")]):
        committed = f"2026-03-0{3 + index}T12:00:{committed_shift:02d}+00:00"
        shas.append(repo.commit(message, DAY(when), committed=committed))
    repo.shas = shas
    return repo


def test_two_histories_differing_only_in_committer_dates_bill_the_same(tmp_path):
    first = history(tmp_path / "a", 0)
    out_first = first.shas[1] < first.shas[2]
    # A second history whose tied SHAs sort the other way round (a SHA order would pair them differently).
    shift = next(s for s in range(1, 60)
                 if (lambda r: (r.shas[1] < r.shas[2]) != out_first)(history(tmp_path / f"b{s}", s)))
    second = tmp_path / f"b{shift}"
    for path in (first.path, second):
        assert bill(path) == (2, 7200, "200.00", 0)
        assert bill(path, env={"HOURLY_NO_CACHE": "1"}) == (2, 7200, "200.00", 0)


def test_an_ancestor_comes_first_even_before_a_clock_out(tmp_path):
    repo = GitRepo(tmp_path / "r")
    repo.commit("clock-in", DAY("09:00:00"))
    repo.commit("clock-out", DAY("09:30:00"))
    repo.commit("clock-in", DAY("10:00:00"))
    repo.commit("clock-out", DAY("10:00:00"))  # a descendant of the clock-in of the same second
    for env in (None, {"HOURLY_NO_CACHE": "1"}):
        assert bill(repo.path, env) == (2, 1800, "50.00", 0)
