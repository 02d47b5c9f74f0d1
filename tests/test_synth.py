"""bench/synth.py builds a valid repository whose facts match what git sees."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_synth():
    spec = importlib.util.spec_from_file_location("bench_synth", ROOT / "bench" / "synth.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_synth", module)
    spec.loader.exec_module(module)
    return module


synth = _load_synth()


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, encoding="utf-8").stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    repo = tmp_path_factory.mktemp("synth") / "repo"
    facts = synth.make_repo(repo, 300, extra_branch=True, silent_author=True, seed=7)
    return repo, facts


def test_repository_is_valid_and_complete(built):
    repo, facts = built
    subprocess.run(["git", "-C", str(repo), "fsck", "--strict", "--no-progress"], check=True,
                   capture_output=True)
    assert facts["commits"] == 300
    assert int(git(repo, "rev-list", "--count", "main")) == 300
    assert int(git(repo, "rev-list", "--count", "--all")) == facts["total_commits"] > 300
    assert git(repo, "symbolic-ref", "HEAD").strip() == "refs/heads/main"


def test_markers_are_found_by_git_grep(built):
    repo, facts = built
    # The floor's pattern plus the trailer form, which the floor's pattern cannot see.
    found = git(repo, "log", "--all", "-i", "-E", "--grep=clock[- ]?(in|out)",
                "--grep=^clock *: *(in|out)", "--format=%H").split()
    # trailer markers never match the floor's pattern, so the two sets are disjoint
    assert len(found) == facts["floor_grep_matches_all"] + facts["trailer_markers_all"]
    floor = git(repo, "log", "--all", "-i", "-E", "--grep=clock[- ]?(in|out)", "--format=%H").split()
    assert len(floor) == facts["floor_grep_matches_all"]
    assert facts["markers"] > 0 and facts["trailer_markers"] > 0


def test_markers_per_author_and_dates(built):
    repo, facts = built
    per_author = Counter(git(repo, "log", "main", "-i", "-E", "--grep=^clock[- ]?(in|out)([:[:space:]]|$)",
                             "--grep=^clock *: *(in|out)", "--format=%aE").split())
    for author in facts["authors"]:
        assert per_author.get(author["email"], 0) == author["markers"], author["email"]
        assert author["clock_ins"] + author["clock_outs"] == author["markers"]
    assert facts["markers_per_author"][facts["silent_author"]] == 0
    assert sum(a["commits"] for a in facts["authors"]) == 300
    assert len({a["email"] for a in facts["authors"] if a["commits"]}) == 6
    # author dates strictly increase along main; several UTC offsets appear
    stamps = [int(s) for s in git(repo, "log", "main", "--format=%at").split()]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == len(stamps)
    offsets = set(git(repo, "log", "main", "--format=%ad", "--date=format:%z").split())
    assert len(offsets) >= 3 and "-0500" in offsets and "+0100" in offsets


def test_markers_agree_with_the_parser(built):
    pytest.importorskip("hourly_hooks.core.markers")
    from hourly_hooks.core import markers

    repo, facts = built
    log = git(repo, "log", "main", "--format=%aE%x00%B%x01")
    counts = Counter()
    for record in log.split("\x01")[:-1]:
        email, message = record.lstrip("\n").split("\x00", 1)
        marker = markers.parse(message)
        if marker:
            assert marker.problem is None, message
            counts[email, marker.kind] += 1
    for author in facts["authors"]:
        assert counts[author["email"], "in"] == author["clock_ins"]
        assert counts[author["email"], "out"] == author["clock_outs"]


def test_reuse_with_same_parameters(built, tmp_path):
    repo, facts = built
    again = synth.make_repo(repo, 300, extra_branch=True, silent_author=True, seed=7)
    assert again["reused"] is True and again["heads"] == facts["heads"]
    stamp = json.loads(repo.with_name(repo.name + ".json").read_text())
    assert stamp["params"]["commits"] == 300
    other = synth.make_repo(tmp_path / "small", 40, authors=2, anomaly_ratio=0, seed=1)
    assert other["reused"] is False and other["anomalies"] == 0
    assert int(git(tmp_path / "small", "rev-list", "--count", "--all")) == 40
