"""`hourly invoices --watch` (issue 16 §6): the open invoices polled until each is paid,
expired or invalid, one line per change, the ledger updated; Ctrl-C leaves cleanly.
Both APIs, the real CLI (in a thread, or a subprocess for SIGINT), the loopback server
moved through its states by `set_status` while the watch runs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from btcpay_helpers import _collect_outputs, assert_ok, fake, hourly, ledger_events  # noqa: F401
from test_billing import FIRST_DAYS, MONTH, api, month  # noqa: F401
from test_billing_faults import _record_phantom
from hourly_hooks.btcpay.watch import Backoff

FAST = ("--interval", "0.1")
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d  (\S+)  (.+?) -> (.+?)  (\S+ \S+)(  paid .*)?$")


def wait_for(condition, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


class Watch:
    """`hourly invoices --watch ARGS` running in a thread, as a user leaves it running."""

    def __init__(self, fake, *args: str):
        self.fake = fake
        self.result = None
        self.thread = threading.Thread(target=self._run, args=args, daemon=True)
        self.thread.start()

    def _run(self, *args):
        self.result = hourly("invoices", "--watch", *FAST, *args)

    def polled(self, invoice_id: str, times: int = 1) -> None:
        """Wait until the server has been asked for the invoice `times` more times."""
        start = self._asked(invoice_id)
        wait_for(lambda: self._asked(invoice_id) >= start + times)

    def _asked(self, invoice_id: str) -> int:
        return sum(1 for r in list(self.fake.requests) if r["method"] == "GET" and invoice_id in r["path"])

    def finish(self):
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the watch did not end"
        return self.result


def changes(result) -> list:
    found = []
    for line in result.stdout.splitlines():
        match = LINE.match(line)
        if match:
            found.append(match.groups()[:4] + ((match.group(5) or "").strip(),))
    return found


def last_status(repo, invoice_id: str) -> str:
    return [e for e in ledger_events(repo) if e.get("invoice_id") == invoice_id][-1]["status"]


# -- moved through its states ----------------------------------------------------------------

def test_watch_prints_each_change_records_it_and_ends_when_paid(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [invoice] = fake.invoices(api)
    watch = Watch(fake)
    watch.polled(invoice["id"])
    fake.set_status(invoice["id"], "Processing")
    wait_for(lambda: last_status(month, invoice["id"]) == "paying")
    assert watch.thread.is_alive()                      # paying is not the end
    fake.set_status(invoice["id"], "Settled")
    result = watch.finish()
    assert_ok(result)
    assert changes(result) == [(invoice["id"], "open", "paying", "600.00 USD", ""),
                               (invoice["id"], "paying", "paid", "600.00 USD", "")]
    assert last_status(month, invoice["id"]) == "paid"
    assert "Watching 1 open invoice(s)" in result.stderr
    assert "No open invoice left: each is paid, expired or invalid." in result.stderr
    listing = hourly("invoices", "--json")              # what `hourly invoices` shows agrees
    assert [row["status"] for row in json.loads(listing.stdout)["invoices"]] == ["paid"]


def test_watch_sees_invoices_expire_and_be_marked_invalid(api, fake, month):
    assert_ok(hourly("invoice", *FIRST_DAYS, "--yes"))
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    first, second = (inv["id"] for inv in fake.invoices(api))
    watch = Watch(fake)
    watch.polled(second)
    fake.set_status(first, "Expired")
    fake.set_status(second, "Invalid", "Marked")
    result = watch.finish()
    assert_ok(result)
    assert sorted(changes(result)) == sorted([(first, "open", "void", "500.00 USD", ""),
                                              (second, "open", "void", "100.00 USD", "")])
    assert last_status(month, first) == last_status(month, second) == "void"


def test_watch_shows_what_was_paid_of_a_partly_paid_invoice(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [invoice] = fake.invoices(api)
    watch = Watch(fake)
    watch.polled(invoice["id"])
    fake.set_status(invoice["id"], "Expired", "PaidPartial", paid_amount="100.00")
    result = watch.finish()
    assert_ok(result)
    [(_, old, new, amount, paid)] = changes(result)
    assert (old, new, amount) == ("open", "partly paid", "600.00 USD")
    assert paid.startswith("paid ") and " of " in paid


def test_an_invoice_the_server_does_not_have_is_released(api, fake, month):
    phantom = _record_phantom(month, fake, api)
    assert "not on the server (released)" in hourly("invoices").stdout   # released by the listing itself
    events = ledger_events(month)
    events[-1]["status"] = "open"                                           # undo it: the watch finds it
    events[-1].pop("missing")
    (month.path / ".git" / "hourly" / "invoices.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    from hourly_hooks.btcpay.ledger import Ledger
    from hourly_hooks.btcpay import watch as watching, backend_from, settings_from
    backend = backend_from(settings_from({}, repo_root=str(month.path)))
    shown = []
    watching.watch(Ledger(month.path / ".git"), backend, interval=0.01, show=shown.append, warn=shown.append)
    [line] = shown
    assert f"  {phantom}  open -> not on the server (released)" in line
    assert ledger_events(month)[-1]["missing"] is True


# -- nothing to watch, and what cannot be watched ----------------------------------------------

def test_nothing_open_ends_at_once(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [invoice] = fake.invoices(api)
    fake.set_status(invoice["id"], "Settled")
    result = hourly("invoices", "--watch")
    assert_ok(result)
    assert "No open invoice to watch." in result.stderr
    assert " paid " in result.stdout                     # the refreshed table first


def test_watch_needs_the_server_and_a_line_format(month, monkeypatch):
    for name in ("BTCPAYSERVER_HOST", "BTCPAYSERVER_STORE_ID", "BTCPAYSERVER_API_KEY", "BTCPAYSERVER_MERCHANT"):
        monkeypatch.delenv(name, raising=False)
    result = hourly("invoices", "--watch")
    assert result.exit_code == 4 and "No BTCPay credentials" in result.stderr
    result = hourly("invoices", "--watch", "--json")
    assert result.exit_code == 2 and "does not combine with --json" in result.stderr
    for bad in ("soon", "0s"):
        result = hourly("invoices", "--watch", "--give-up", bad)
        assert result.exit_code == 2 and "--give-up" in result.stderr
    result = hourly("invoices", "--watch", "--interval", "0")
    assert result.exit_code == 2 and "--interval" in result.stderr


# -- a server that fails ---------------------------------------------------------------------------

def test_a_server_that_fails_for_a_while_is_asked_again(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [invoice] = fake.invoices(api)
    fake.fault("500", invoice["id"], method="GET", times=2)
    watch = Watch(fake)
    wait_for(lambda: not fake._faults)                  # both failures served
    watch.polled(invoice["id"])                          # and an answer after them
    fake.set_status(invoice["id"], "Settled")
    result = watch.finish()
    assert_ok(result)
    assert result.stderr.count("Warning: BTCPay Server failed (500") == 1
    assert "asking again, for up to 10m" in result.stderr
    assert "BTCPay Server answers again." in result.stderr
    assert changes(result) == [(invoice["id"], "open", "paid", "600.00 USD", "")]


def test_a_server_that_stays_down_ends_the_watch_with_exit_5(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [invoice] = fake.invoices(api)
    fake.fault("500", invoice["id"], method="GET", times=None)
    started = time.monotonic()
    result = hourly("invoices", "--watch", *FAST, "--give-up", "1s")
    assert time.monotonic() - started < 15
    assert result.exit_code == 5, result.output
    assert f"for 1s in a row: stopped watching; still open as last seen: {invoice['id']}." in result.stderr
    assert last_status(month, invoice["id"]) == "open"


def test_an_answer_that_asking_again_cannot_change_ends_the_watch_at_once(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [invoice] = fake.invoices(api)
    fake.redirect_status, fake.redirect_location = 302, "https://elsewhere.example/"
    fake.fault("redirect", invoice["id"], method="GET", times=None)
    result = hourly("invoices", "--watch", *FAST)
    assert result.exit_code == 5
    assert "answered 302 (a redirect)" in result.stderr and "asking again" not in result.stderr


# -- Ctrl-C ------------------------------------------------------------------------------------------

def test_ctrl_c_leaves_cleanly_with_130_and_the_ledger_intact(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [invoice] = fake.invoices(api)
    asked = lambda: sum(1 for r in list(fake.requests) if r["method"] == "GET" and invoice["id"] in r["path"])  # noqa: E731
    before = asked()
    process = subprocess.Popen([sys.executable, "-m", "hourly_hooks", "invoices", "--watch", *FAST],
                               cwd=month.path, env=dict(os.environ), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: asked() >= before + 1 or process.poll() is not None)
        fake.set_status(invoice["id"], "Processing")
        wait_for(lambda: last_status(month, invoice["id"]) == "paying" or process.poll() is not None)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert "Stopped watching: 1 invoice(s) still open" in err
    assert f"  {invoice['id']}  open -> paying  600.00 USD" in out
    raw = (month.path / ".git" / "hourly" / "invoices.jsonl").read_text()
    assert raw.endswith("\n") and all(json.loads(line) for line in raw.splitlines())
    assert last_status(month, invoice["id"]) == "paying"


# -- the back-off --------------------------------------------------------------------------------------

def test_the_wait_doubles_while_nothing_changes_and_falls_back_on_a_change():
    backoff = Backoff(5)
    waits = [backoff.wait]
    for changed in (False, False, False, False, False, True, False):
        backoff.after(changed)
        waits.append(backoff.wait)
    assert waits == [5, 10, 20, 40, 60, 60, 5, 10]
    slow = Backoff(90)                                   # a floor above the ceiling is the wait
    slow.after(False)
    assert slow.wait == 90
