"""Faults that must not break trust in a bill (issue 14): phantom invoices, an expired
invoice replaced and then paid late, an unreachable server, an unanswered create. Both
APIs, the real CLI, the loopback server."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from btcpay_helpers import _collect_outputs, assert_ok, fake, hourly, invoice_posts, ledger_events  # noqa: F401
from test_billing import MONTH, api, month  # noqa: F401


# -- phantom invoices ------------------------------------------------------------------------

def test_a_create_answered_with_an_id_the_server_does_not_have_holds_nothing(api, fake, month):
    fake.fault("phantom", "invoices", method="POST")
    result = hourly("invoice", *MONTH, "--yes")
    assert result.exit_code == 5, result.output
    assert "answered the create with invoice" in result.stderr and "has no such invoice" in result.stderr
    assert "Success!" not in result.stdout and fake.invoices(api) == []
    assert ledger_events(month)[-1]["event"] == "failed"
    again = hourly("invoice", *MONTH, "--yes")                 # the time was never held
    assert_ok(again)
    assert "Success!" in again.stdout and len(fake.invoices(api)) == 1


def _record_phantom(month, fake, store) -> str:
    """What an earlier version recorded from such an answer: an invoice that holds time."""
    start = int(datetime(2026, 11, 2, 9, tzinfo=timezone.utc).timestamp())
    ledger = Path(month.path) / ".git" / "hourly" / "invoices.jsonl"
    ledger.parent.mkdir(parents=True, exist_ok=True)
    time = {"alice@example.com": [[start, start + 7200]]}
    events = [{"event": "pending", "order_id": "hourly-phantom", "host": fake.url, "time": time,
               "at": "2026-11-30T00:00:00+00:00"},
              {"event": "created", "order_id": "hourly-phantom", "invoice_id": "PhantomInvoice1",
               "host": fake.url, "status": "open", "url": f"{fake.url}/i/PhantomInvoice1", "time": time,
               "at": "2026-11-30T00:00:01+00:00"}]
    ledger.write_text("".join(json.dumps(e) + "\n" for e in events))
    return "PhantomInvoice1"


def test_a_ledger_record_the_server_does_not_have_is_released_with_a_note(api, fake, month):
    phantom = _record_phantom(month, fake, api)
    listing = hourly("invoices")
    assert_ok(listing)
    assert f"Note: invoice {phantom} (order hourly-phantom) is not on the server" in listing.stderr
    assert "the time it held is released" in listing.stderr
    assert "not on the server (released)" in listing.stdout
    result = hourly("invoice", *MONTH, "--yes")
    assert_ok(result)
    assert "Success!" in result.stdout
    carried = fake.invoices(api)[0]["metadata"]["posData"]["hourlyHooks"]["time"]["alice@example.com"]
    assert len(carried) == 3                                     # the 2nd's session too


def test_invoice_itself_releases_a_record_the_server_does_not_have(api, fake, month):
    phantom = _record_phantom(month, fake, api)
    result = hourly("invoice", *MONTH, "--yes")
    assert_ok(result)
    assert f"invoice {phantom} (order hourly-phantom) is not on the server" in result.stdout
    assert "Success!" in result.stdout and len(invoice_posts(fake)) == 1


# -- paid after replacement -----------------------------------------------------------------

def _replaced(api, fake) -> tuple:
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [first] = fake.invoices(api)
    fake.set_status(first["id"], "Expired")                   # unpaid: its time is free again
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    second = fake.invoices(api)[1]
    fake.set_status(first["id"], "Expired", "PaidLate")       # ... and then paid after all
    return first["id"], second["id"]


def test_an_expired_invoice_paid_after_its_replacement_was_paid_says_refund_one(api, fake, month):
    first, second = _replaced(api, fake)
    fake.set_status(second, "Settled")
    listing = hourly("invoices")
    assert_ok(listing)
    named = {f"{first} (paid late)", f"{second} (paid)"}
    note = next(line for line in listing.stderr.splitlines() if line.startswith("Paid twice: invoices "))
    assert set(note[len("Paid twice: invoices "):].split(" bill")[0].split(", ")) == named
    assert "bill the same time and more than one was paid: refund one" in note
    assert f"SAME TIME AS {second}" in listing.stdout and f"SAME TIME AS {first}" in listing.stdout
    rows = {row["id"]: row for row in json.loads(hourly("invoices", "--json").stdout)["invoices"]}
    assert rows[first]["same_time_as"] == [second] and rows[second]["same_time_as"] == [first]
    report = hourly("report", *MONTH)
    assert_ok(report)
    assert note in report.stderr
    assert f"{first} + {second}" in report.stdout or f"{second} + {first}" in report.stdout


def test_an_expired_invoice_paid_late_beside_an_open_replacement_says_which_to_invalidate(api, fake, month):
    first, second = _replaced(api, fake)
    listing = hourly("invoices")
    assert f"keep {first} and mark {second} Invalid" in listing.stderr, listing.stderr
    fake.set_status(second, "Invalid", "Marked")
    listing = hourly("invoices")
    assert "Duplicate" not in listing.stderr and "SAME TIME" not in listing.stdout


# -- an unreachable server, an unanswered create ---------------------------------------------

def test_an_unreachable_servers_invoices_are_unknown_not_open(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    fake.stop()
    listing = hourly("invoices")
    assert_ok(listing)
    assert "unknown, server unreachable (last seen open)" in listing.stdout
    assert " open " not in listing.stdout
    assert "Warning: statuses not refreshed from the server" in listing.stderr
    [row] = json.loads(hourly("invoices", "--json").stdout)["invoices"]
    assert (row["status"], row["last_status"]) == ("unknown, server unreachable", "open")



def test_a_server_that_answers_with_an_error_leaves_the_status_unknown_too(api, fake, month):
    """A redirect (never followed) is an answer, but not the invoice's status: no stale "open"."""
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    fake.redirect_status, fake.redirect_location = 302, "http://127.0.0.1:9/elsewhere"
    fake.fault("redirect", "invoices", method="GET", times=None)
    listing = hourly("invoices")
    assert_ok(listing)
    assert "unknown, not refreshed (last seen open)" in listing.stdout and " open " not in listing.stdout
    assert "answered 302 (a redirect)" in listing.stderr

def test_the_wait_after_an_unanswered_create_is_the_real_grace(api, fake, month):
    from hourly_hooks.btcpay.billing import PENDING_GRACE
    ledger = Path(month.path) / ".git" / "hourly" / "invoices.jsonl"
    ledger.parent.mkdir(parents=True, exist_ok=True)
    start = int(datetime(2026, 11, 2, 9, tzinfo=timezone.utc).timestamp())
    sent = datetime.now(timezone.utc).replace(microsecond=0)
    ledger.write_text(json.dumps({"event": "pending", "order_id": "hourly-waiting", "host": fake.url,
                                  "time": {"alice@example.com": [[start, start + 7200]]},
                                  "at": sent.isoformat()}) + "\n")
    blocked = hourly("invoice", *MONTH, "--yes")
    assert blocked.exit_code == 1
    minutes = int(PENDING_GRACE.total_seconds() // 60)
    assert minutes == 10 and f"It may still turn up for {minutes} minutes" in blocked.stderr
    assert f"until {(sent + PENDING_GRACE).isoformat()}" in blocked.stderr
    assert "a minute" not in blocked.stderr
