"""The manifest built beside the rendering (beside.py): made in a child when the sheet is big,
in place otherwise, and the report the same text either way."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hourly_hooks import beside
from hourly_hooks.beside import Beside

CAN_FORK = sys.platform.startswith("linux") and len(getattr(os, "sched_getaffinity", lambda _: ())(0)) > 1
forking = pytest.mark.skipif(not CAN_FORK, reason="forks only on Linux with two CPUs")

# Each check runs in a new Python: a test process may have threads running (the loopback
# BTCPay server's), and with a thread running nothing is forked.
JOBS = """
import os, sys
from hourly_hooks import beside
parent = os.getpid()
def where():
    return f"made in {os.getpid()}"
def fails_in_a_child():
    if os.getpid() != parent:
        raise RuntimeError("the child fails")
    return where()
big = "\u00e9" * 300_000 + "\u2603" * 100_000 + "end"  # far more than a pipe would hold at once
print(beside.Beside(where, beside.FORK_FROM).result() != where())
print(beside.Beside(where, beside.FORK_FROM - 1).result() == where())
print(beside.Beside(fails_in_a_child, beside.FORK_FROM).result() == where())
print(beside.Beside(lambda: big, beside.FORK_FROM).result() == big)
"""


@forking
def test_a_big_job_is_made_in_a_child_and_its_text_crosses_whole():
    done = subprocess.run([sys.executable, "-c", JOBS], capture_output=True, text=True, check=True)
    made_in_a_child, small_made_here, failed_child_made_here, whole = done.stdout.split()
    assert made_in_a_child == "True"
    assert small_made_here == "True"
    assert failed_child_made_here == "True"
    assert whole == "True"


def test_a_small_job_is_made_here_once_when_asked():
    asked = []
    job = Beside(lambda: asked.append(1) or f"made in {os.getpid()}", beside.FORK_FROM - 1)
    assert asked == []
    assert job.result() == f"made in {os.getpid()}" and job.result() == job.result()
    assert asked == [1]


@pytest.fixture
def weeks(repo):
    day = 1_771_920_000  # 2026-02-24T08:00:00Z
    marks = [(b"clock-in: wrote the report\n", day + n * 86_400, "+0100") for n in range(28)] \
        + [(b"clock-out\n", day + n * 86_400 + 8_100, "+0100") for n in range(28)]
    repo.import_line(sorted(marks, key=lambda mark: mark[1]) + [(b"clock-in\n", day + 28 * 86_400, "+0100")])
    return repo


@pytest.mark.parametrize("fmt", ["json", "html", "markdown"])
def test_a_report_is_the_same_whether_its_manifest_is_made_beside_or_in_place(weeks, fmt):
    def report(fork_from: int) -> str:
        program = f"from hourly_hooks import beside; beside.FORK_FROM = {fork_from}; " \
                  "from hourly_hooks.cli import main; main()"
        done = subprocess.run([sys.executable, "-c", program, "report", "--all", "--format", fmt,
                               "--rate", "80 EUR", "--tz", "Europe/Paris"], cwd=weeks.path, env=weeks.env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    made_beside, made_here = report(0), report(10**9)
    assert made_beside == made_here
    if fmt == "json":
        document = json.loads(made_beside)
        assert document["document"]["number"] == document["manifest"]["digest"][:12]
        assert len(document["manifest"]["sessions"]) == 28
        assert document["total"]["amount"] == "5040.00"  # 28 x 2.25 h x 80 EUR
