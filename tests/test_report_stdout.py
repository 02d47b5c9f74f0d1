"""What `hourly report` writes into a pipe: terminal codes from a commit message are stripped
off a terminal (as click does), and a report without any comes out as rendered."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


@pytest.fixture
def coloured(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out \x1b[31mred\x1b[0m done", "2026-03-02T10:00:00+00:00")
    return repo


def _piped(repo, *args) -> bytes:
    done = subprocess.run([sys.executable, "-m", "hourly_hooks", "report", "--repo", str(repo.path), *args],
                          env=repo.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return done.stdout


@pytest.mark.parametrize("fmt", ["table", "csv", "markdown"])
def test_terminal_codes_in_a_note_are_stripped_in_a_pipe(coloured, fmt):
    out = _piped(coloured, "--format", fmt)
    assert b"\x1b" not in out and b"red done" in out


def test_a_report_without_terminal_codes_is_written_whole(coloured):
    out = _piped(coloured, "--format", "json")
    assert out.endswith(b"\n") and b"\x1b" not in out  # JSON escapes the code: nothing to strip
    document = json.loads(out)
    assert document["sessions"][0]["note"] == "\x1b[31mred\x1b[0m done"
    assert document["total"]["seconds"] == 3600
