"""A damaged invoice ledger: a line that is torn, not UTF-8 or not a record is skipped
with one warning per command naming the file and the line; every intact record still
holds its time; nothing is rewritten. And a write cut short is caught before anything
is sent (tests/test_short_writes.py)."""

from __future__ import annotations

import json
from pathlib import Path

from btcpay_helpers import *  # noqa: F401,F403 (fixtures)
from btcpay_helpers import SEED_ARGS, assert_ok, hourly, invoice_posts
from hourly_hooks.btcpay.billing import ledger_holders
from hourly_hooks.btcpay.ledger import Ledger

DAMAGE = {
    "not UTF-8": b'{"event": "status", "order_id": "x", "note": "caf\xe9"}\n',
    "a list, not a record": b'["event", "created"]\n',
    "a record with an unusable invoice id": b'{"event": "created", "order_id": "x", "invoice_id": [1]}\n',
}
TORN = b'{"event": "created", "order_id": "hourly-1", "invoi'   # a crash in the middle of a line


def _ledger(seed) -> Path:
    return Path(seed.path) / ".git" / "hourly" / "invoices.jsonl"


def _damage(path: Path) -> bytes:
    """Damaged lines between the intact ones, and a torn last line; returns the file's bytes."""
    lines = path.read_bytes().splitlines(keepends=True)
    damaged = lines[:1] + list(DAMAGE.values()) + lines[1:] + [TORN]
    path.write_bytes(b"".join(damaged))
    return path.read_bytes()


def _warnings(stderr: str, path: Path) -> list:
    return [line for line in stderr.splitlines() if line.startswith(f"Warning: {path} line ")]


def test_report_invoices_and_invoice_skip_damaged_lines_with_one_warning_each(greenfield, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    [created] = fake.invoices(greenfield["store"])
    path = _ledger(seed)
    before = _damage(path)
    total = before.count(b"\n") + 1
    expected = [f"Warning: {path} line 2 is not UTF-8: skipped",
                f"Warning: {path} line 3 is not a ledger record: skipped",
                f"Warning: {path} line 4 is not a ledger record: skipped",
                f"Warning: {path} line {total} is cut short or not JSON: skipped"]

    report = hourly("report", *SEED_ARGS, "--format", "json")
    assert report.exit_code == 0, report.stderr
    assert [w.split(" (")[0] for w in _warnings(report.stderr, path)] == expected, report.stderr
    assert [s["invoice"] for s in json.loads(report.stdout)["sessions"]] == [created["id"]] * 8
    again = hourly("report", *SEED_ARGS, "--format", "json")  # read from the store, it says it too
    assert (again.stdout, len(_warnings(again.stderr, path))) == (report.stdout, 4)

    invoice = hourly("invoice", *SEED_ARGS, "--yes")          # read many times, warned once
    assert invoice.exit_code == 0, invoice.stderr
    assert "no new one was created" in invoice.stdout
    assert len(_warnings(invoice.stderr, path)) == 4
    assert len(invoice_posts(fake)) == 1

    listing = hourly("invoices")
    assert listing.exit_code == 0, listing.stderr
    assert created["id"] in listing.stdout
    assert len(_warnings(listing.stderr, path)) == 4
    assert path.read_bytes().startswith(before)                # nothing rewritten, only appended


def test_intact_records_hold_their_time_without_the_server(greenfield, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    [created] = fake.invoices(greenfield["store"])
    _damage(_ledger(seed))
    assert [holder.ref for holder in ledger_holders(Ledger(Path(seed.path) / ".git").orders())] == [created["id"]]
    fake.stop()                                                # only the ledger can tell now
    preview = hourly("invoice", *SEED_ARGS, "--dry-run")
    assert "Nothing left to bill" in preview.stdout, (preview.stdout, preview.stderr)


def test_a_record_appended_after_a_torn_line_starts_on_its_own_line(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.pending("o-1", time={"alice@example.com": [[100, 200]]})
    with open(ledger.path, "ab") as handle:
        handle.write(TORN)
    ledger.failed("o-1", "refused")
    lines = ledger.path.read_bytes().splitlines()
    assert lines[1] == TORN                                    # kept as it was
    assert json.loads(lines[2])["event"] == "failed"
    assert ledger.orders()["o-1"].state == "failed"


def test_a_ledger_of_nothing_but_damage_holds_nothing(tmp_path, capsys):
    ledger = Ledger(tmp_path)
    ledger.path.parent.mkdir(parents=True)
    ledger.path.write_bytes(b"\xff\xfe\x00garbage\n\n   \n" + TORN)
    assert ledger_holders(Ledger(tmp_path).orders()) == []
    err = capsys.readouterr().err
    assert f"{ledger.path} line 1 is not UTF-8" in err and f"{ledger.path} line 4 is cut short" in err
    assert "line 2" not in err and "line 3" not in err        # blank lines are not damage
