"""On a terminal the report goes through a pager, as git's output does; never into a pipe or a file.

The terminal is a real pseudo-terminal (os.openpty) and the pager a small script that
notes it ran, then passes what it read on, as `cat` would.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")


@pytest.fixture
def worked(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out: pager test", "2026-03-02T10:00:00+00:00")
    return repo


@pytest.fixture
def pager(tmp_path):
    """A pager command, and the file it writes its name into when it runs."""
    ran = tmp_path / "ran"
    script = tmp_path / "pager.sh"
    script.write_text(f'#!/bin/sh\necho "$0 LESS=$LESS" >> "{ran}"\ncat\n')
    script.chmod(0o755)
    return str(script), ran


def _on_a_terminal(repo, *args, env=None):
    """Run `hourly report` with stdout on a pseudo-terminal; (exit code, what the terminal showed)."""
    leader, follower = os.openpty()
    try:
        done = subprocess.Popen([sys.executable, "-m", "hourly_hooks", "report", "--repo", str(repo.path),
                                 "--tz", "UTC", *args], env={**repo.env, **(env or {})},
                                stdout=follower, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        os.close(follower)
        shown = b""
        while True:
            ready, _, _ = select.select([leader], [], [], 30)
            if not ready:
                break
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        return done.wait(30), shown.decode().replace("\r\n", "\n")
    finally:
        os.close(leader)


def test_the_table_goes_through_the_pager_on_a_terminal(worked, pager):
    command, ran = pager
    code, shown = _on_a_terminal(worked, "--all", env={"HOURLY_PAGER": command, "PAGER": "false"})
    assert code == 0 and "pager test" in shown and "1.00 hours worked" in shown
    assert ran.read_text() == f"{command} LESS=FRX\n"  # HOURLY_PAGER first, with git's LESS


def test_pager_falls_back_to_PAGER_and_no_pager_turns_it_off(worked, pager):
    command, ran = pager
    code, shown = _on_a_terminal(worked, "--all", "--format", "json", env={"PAGER": command, "LESS": "R"})
    assert code == 0 and '"seconds": 3600' in shown and ran.read_text() == f"{command} LESS=R\n"
    ran.unlink()
    code, shown = _on_a_terminal(worked, "--all", "--no-pager", env={"PAGER": command})
    assert code == 0 and "pager test" in shown and not ran.exists()
    code, shown = _on_a_terminal(worked, "--all", env={"HOURLY_PAGER": "cat", "PAGER": command})
    assert code == 0 and "pager test" in shown and not ran.exists()  # `cat`, as for git: no pager


def test_no_pager_into_a_pipe_or_a_file(worked, pager, tmp_path):
    command, ran = pager
    piped = subprocess.run([sys.executable, "-m", "hourly_hooks", "report", "--repo", str(worked.path), "--all"],
                           env={**worked.env, "HOURLY_PAGER": command}, capture_output=True, text=True)
    assert piped.returncode == 0 and "pager test" in piped.stdout and not ran.exists()
    target = tmp_path / "sheet.csv"
    code, shown = _on_a_terminal(worked, "--all", "--format", "csv", "-o", str(target),
                                 env={"HOURLY_PAGER": command})
    assert code == 0 and shown == "" and "pager test" in target.read_text() and not ran.exists()


def test_a_pager_that_cannot_start_leaves_the_report_on_the_terminal(worked):
    code, shown = _on_a_terminal(worked, "--all", env={"HOURLY_PAGER": "/nonexistent/pager"})
    assert code == 0 and "pager test" in shown
