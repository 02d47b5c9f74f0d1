"""A ledger write cut short (a full disk) is caught before anything is sent to BTCPay.

The disk fills in a real `hourly invoice` process: a file size limit (RLIMIT_FSIZE,
with SIGXFSZ ignored, as a full disk behaves: the write stops short, the next one
fails) lets the pending record only partly onto the disk.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from btcpay_helpers import *  # noqa: F401,F403 (fixtures)
from btcpay_helpers import SEED_ARGS, invoice_posts

resource = pytest.importorskip("resource")

LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from hourly_hooks.cli import main
main(sys.argv[2:], prog_name="hourly")
"""
# Blank padding (read as no record) makes the ledger larger than every other file the
# run writes, so only the ledger meets the limit.
PADDING = b" " * (4 << 20) + b"\n"


def _invoice_with_a_disk_that_fills(seed, room: int) -> subprocess.CompletedProcess:
    ledger = Path(seed.path) / ".git" / "hourly" / "invoices.jsonl"
    ledger.parent.mkdir(mode=0o700, exist_ok=True)
    ledger.write_bytes(PADDING)
    return subprocess.run([sys.executable, "-c", LIMITED, str(len(PADDING) + room), "invoice", *SEED_ARGS,
                           "--yes"], cwd=seed.path, env=os.environ.copy(), capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("room", [0, 40])
def test_a_pending_record_cut_short_stops_the_run_before_the_create(greenfield, fake, seed, room):
    done = _invoice_with_a_disk_that_fills(seed, room)
    assert done.returncode == 74, (done.returncode, done.stdout, done.stderr)
    assert "Error: cannot write the invoice ledger" in done.stderr and "Traceback" not in done.stderr
    assert "free some disk space" in done.stderr
    assert invoice_posts(fake) == []                       # nothing was sent to be created
    ledger = Path(seed.path) / ".git" / "hourly" / "invoices.jsonl"
    assert ledger.read_bytes() == PADDING                  # the cut record was taken back


def test_with_room_on_the_disk_the_same_run_creates_the_invoice(greenfield, fake, seed):
    done = _invoice_with_a_disk_that_fills(seed, 1 << 20)
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)
    assert len(invoice_posts(fake)) == 1
