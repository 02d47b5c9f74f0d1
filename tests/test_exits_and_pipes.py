"""Exits as documented (errors.py): Ctrl-C at the invoice question is 130 and creates
nothing, an end of input is a no, and a reader of stdout that goes away (`| head`)
ends any command quietly with 74. Real processes, real pipes, a real terminal."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from btcpay_helpers import (SEED_ARGS, _collect_outputs, fake, greenfield, ledger_events,  # noqa: F401
                            seed)

SRC = str(Path(__file__).resolve().parents[1] / "src")
HOURLY = [sys.executable, "-m", "hourly_hooks"]


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=SRC)


def _read_until(fd: int, text: str, timeout: float = 60) -> str:
    """What the terminal shows, read until it holds text (the process waits there)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no {text!r} on the terminal; it showed {seen.decode(errors='replace')!r}"
        seen += os.read(fd, 4096)
    return seen.decode()


def _read_rest(fd: int) -> str:
    seen = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the other side is closed (Linux says EIO)
            return seen.decode(errors="replace")
        if not chunk:
            return seen.decode(errors="replace")
        seen += chunk


def _at_the_question(cwd) -> tuple:
    """`hourly invoice` on a terminal, waiting at "Is this correct?"; (process, terminal)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([*HOURLY, "invoice", *SEED_ARGS], stdin=terminal, stdout=terminal,
                               stderr=terminal, cwd=cwd, env=_env())
    os.close(terminal)
    shown = _read_until(controller, "Is this correct? [y/N]: ")
    assert "Amount:           1291.31 USD" in shown
    return process, controller


# -- the question --------------------------------------------------------------------------

def test_ctrl_c_at_the_question_exits_130_and_creates_nothing(greenfield, fake, seed):
    process, controller = _at_the_question(seed.path)
    try:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        after = _read_rest(controller)
    finally:
        os.close(controller)
    assert code == 130, after
    assert "Interrupted: nothing was created." in after
    assert "Traceback" not in after and "Aborted" not in after
    assert fake.invoices(greenfield["store"]) == []
    assert ledger_events(seed) == []


def test_end_of_input_at_the_question_is_a_no(greenfield, fake, seed):
    process, controller = _at_the_question(seed.path)
    try:
        os.write(controller, b"\x04")  # Ctrl-D: the end of input, on a terminal
        code = process.wait(timeout=60)
        after = _read_rest(controller)
    finally:
        os.close(controller)
    assert code == 1, after
    assert "Error: Nothing was created." in after and "Aborted" not in after
    assert fake.invoices(greenfield["store"]) == []
    assert ledger_events(seed) == []


def test_a_wrong_answer_is_asked_again(greenfield, fake, seed):
    process, controller = _at_the_question(seed.path)
    try:
        os.write(controller, b"maybe\n")
        _read_until(controller, "answer y or n.")
        os.write(controller, b"n\n")
        code = process.wait(timeout=60)
    finally:
        os.close(controller)
    assert code == 1
    assert fake.invoices(greenfield["store"]) == []


def test_no_stdin_without_yes_creates_nothing_and_says_to_pass_yes(greenfield, fake, seed):
    done = subprocess.run([*HOURLY, "invoice", *SEED_ARGS], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, cwd=seed.path, env=_env())
    assert done.returncode == 1
    assert "no terminal to ask on" in done.stderr and "--yes" in done.stderr
    assert fake.invoices(greenfield["store"]) == []


# -- a reader that has gone -------------------------------------------------------------------

def _to_a_closed_pipe(args, cwd) -> subprocess.CompletedProcess:
    """Run hourly with stdout into a pipe whose reader has gone before it writes."""
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = subprocess.run([*HOURLY, *args], stdout=writer, stderr=subprocess.PIPE, text=True, cwd=cwd,
                              env=_env())
    finally:
        os.close(writer)
    return done


PIPED = [
    ["report", *SEED_ARGS],
    ["report", *SEED_ARGS, "--format", "csv"],
    ["invoice", *SEED_ARGS, "--dry-run"],
    ["invoices"],
    ["config"],
    ["--help"],
    ["report", "--help"],
    ["--version"],
    ["btcpay", "keygen", "--pem", "piped.pem"],
]


@pytest.mark.parametrize("args", PIPED, ids=lambda args: " ".join(args[:2]))
def test_a_reader_gone_is_a_quiet_74(greenfield, fake, seed, args):
    done = _to_a_closed_pipe(args, seed.path)
    assert (done.returncode, done.stderr) == (74, "")


def test_keygen_into_a_gone_reader_still_writes_the_whole_key(greenfield, fake, seed):
    done = _to_a_closed_pipe(["btcpay", "keygen", "--pem", "piped.pem"], seed.path)
    assert (done.returncode, done.stderr) == (74, "")
    key = Path(seed.path, "piped.pem")
    assert key.stat().st_mode & 0o777 == 0o600
    from btcpay import crypto

    assert crypto.get_sin_from_pem(key.read_text()).startswith("T")  # a whole key: its public identity reads


@pytest.fixture
def long_history(repo):
    """1500 sessions (made by git fast-import): a report far bigger than a pipe holds."""
    repo.import_line((b"clock-in\n" if n % 2 == 0 else b"clock-out\n", 1700000000 + 1800 * n, "+0000")
                     for n in range(3000))
    repo.git("reset", "-q", "--hard")
    return repo


def _piped_to_head(args, cwd, head=("head", "-1")) -> tuple:
    """`hourly ARGS | head -1` with real head: (hourly's exit, its stderr, what head printed)."""
    hourly = subprocess.Popen([*HOURLY, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                              env=_env())
    reader = subprocess.Popen(list(head), stdin=hourly.stdout, stdout=subprocess.PIPE)
    hourly.stdout.close()  # head is the only reader
    first, _ = reader.communicate(timeout=60)
    errors = hourly.stderr.read().decode()
    hourly.stderr.close()
    return hourly.wait(timeout=60), errors, first.decode()


@pytest.mark.parametrize("args", PIPED, ids=lambda args: " ".join(args[:2]))
def test_piped_to_head_it_ends_quietly(greenfield, fake, seed, args):
    """Whether head has gone before hourly's next write is up to the scheduler: 0 when
    hourly wrote all first, else 74; never a word on stderr."""
    head = ("head", "-c1") if "keygen" in args else ("head", "-1")
    code, errors, first = _piped_to_head(args, seed.path, head)
    assert (code in (0, 74), errors) == (True, "")
    assert first and "PRIVATE" not in first


@pytest.mark.parametrize("fmt", ["table", "csv", "json", "timeclock"])
def test_a_long_report_piped_to_head_ends_quietly(long_history, fmt):
    code, errors, first = _piped_to_head(["report", "--tz", "UTC", "--format", fmt], long_history.path)
    assert (code in (0, 74), errors) == (True, "")
    assert first.count("\n") == 1 and first.strip()
