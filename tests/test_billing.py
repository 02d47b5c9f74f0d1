"""No second of anyone's time billed twice: the billing protocol against the loopback
server, on both APIs (Greenfield and legacy), with real git repositories."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from btcpay_helpers import (PERMISSIONS, _collect_outputs, assert_ok, fake, hourly, invoice_posts,  # noqa: F401
                            ledger_events)
from gitrepo import GitRepo

MONTH = ["--since", "2026-11-01", "--until", "2026-12-01", "--tz", "UTC", "--rate", "100 USD"]
FIRST_DAYS = ["--since", "2026-11-01", "--until", "2026-11-05", "--tz", "UTC", "--rate", "100 USD"]


def _november(path: Path) -> GitRepo:
    """Alice's November: 2 h on the 2nd, 3 h on the 4th, 1 h on the 10th (UTC)."""
    repo = GitRepo(path)
    repo.git("config", "user.email", "alice@example.com")
    for day, start, end in (("02", "09", "11"), ("04", "13", "16"), ("10", "08", "09")):
        repo.commit("clock-in", f"2026-11-{day}T{start}:00:00+00:00")
        repo.commit("clock-out", f"2026-11-{day}T{end}:00:00+00:00")
    return repo


@pytest.fixture
def month(tmp_path, monkeypatch) -> GitRepo:
    repo = _november(tmp_path / "work")
    monkeypatch.chdir(repo.path)
    return repo


def _setup_greenfield(fake, monkeypatch, store=None) -> str:
    store = store or fake.new_store()
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_STORE_ID", store)
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", fake.new_api_key(PERMISSIONS, store_id=store))
    return store


def _setup_legacy(fake, monkeypatch, repo: GitRepo) -> str:
    monkeypatch.chdir(repo.path)
    assert_ok(hourly("btcpay", "keygen"))
    result = hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url)
    assert_ok(result)
    token = re.fullmatch(r"export BTCPAYSERVER_MERCHANT=(\S+)\n", result.stdout).group(1)
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_MERCHANT", token)
    return fake.default_store_id


@pytest.fixture(params=["greenfield", "legacy"])
def api(request, fake, month, monkeypatch) -> str:
    """The store the run invoices on, through the API of the parameter."""
    if request.param == "greenfield":
        return _setup_greenfield(fake, monkeypatch)
    return _setup_legacy(fake, monkeypatch, month)


def _invoices(fake, store) -> list:
    return fake.invoices(store)


# -- a narrower period after the monthly invoice ------------------------------------------

def test_a_narrower_period_after_the_month_creates_nothing(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [monthly] = _invoices(fake, api)
    assert Decimal(monthly["amount"]) == Decimal("600.00")
    for extra in (["--yes"], ["--dry-run"]):
        again = hourly("invoice", *FIRST_DAYS, *extra)
        assert_ok(again)
        assert "Nothing left to bill" in again.stdout
        assert again.stdout.count(f": {monthly['id']} (open)") == 2, again.stdout
        assert len(_invoices(fake, api)) == 1
    assert len(invoice_posts(fake)) == 1


def test_only_the_time_no_invoice_holds_is_billed(api, fake, month):
    assert_ok(hourly("invoice", *FIRST_DAYS, "--yes"))
    [early] = _invoices(fake, api)
    assert Decimal(early["amount"]) == Decimal("500.00")
    rest = hourly("invoice", *MONTH, "--yes")
    assert_ok(rest)
    assert "Left out, already on an invoice (2):" in rest.stdout
    [_, late] = _invoices(fake, api)
    assert Decimal(late["amount"]) == Decimal("100.00")
    assert late["metadata"]["itemDesc"].startswith("1.00 hours worked from 2026-11-10T08:00:00+00:00")
    assert_ok(again := hourly("invoice", *MONTH, "--yes"))
    assert "Nothing left to bill" in again.stdout and len(_invoices(fake, api)) == 2


def test_a_rebase_changes_the_shas_not_the_time_billed(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    before = month.git("rev-parse", "HEAD")
    month.git("rebase", "-q", "--force-rebase", "--root",
              env={"GIT_COMMITTER_DATE": "2026-11-30T12:00:00+00:00"})
    assert month.git("rev-parse", "HEAD") != before
    again = hourly("invoice", *MONTH, "--yes")
    assert_ok(again)
    assert "already exists" in again.stdout
    assert len(_invoices(fake, api)) == 1
    sessions = json.loads(hourly("report", *MONTH, "--format", "json").stdout)["sessions"]
    assert [s["invoice"] for s in sessions] == [_invoices(fake, api)[0]["id"]] * 3


def test_a_session_partly_on_an_invoice_is_an_anomaly_not_billed(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [monthly] = _invoices(fake, api)
    # The 10th's session is amended to start earlier: half of it is billed already.
    month.git("reset", "-q", "--hard", "HEAD~2")
    month.commit("clock-in", "2026-11-10T07:00:00+00:00")
    month.commit("clock-out", "2026-11-10T09:00:00+00:00")
    result = hourly("invoice", *MONTH, "--yes")
    assert_ok(result)
    assert "Anomaly, not billed: 2026-11-10T07:00:00+00:00 to 2026-11-10T09:00:00+00:00" in result.stdout
    assert monthly["id"] in result.stdout
    assert len(_invoices(fake, api)) == 1


# -- expired with a payment ----------------------------------------------------------------

@pytest.mark.parametrize("additional, state", [("PaidLate", "paid late"), ("PaidPartial", "partly paid")])
def test_an_invoice_expired_with_a_payment_is_not_replaced(api, fake, month, additional, state):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [monthly] = _invoices(fake, api)
    fake.set_status(monthly["id"], "Expired", additional, paid_amount="250.00" if state == "partly paid" else None)
    again = hourly("invoice", *MONTH, "--yes")
    assert_ok(again)
    assert f"already exists ({state}" in again.stdout
    assert len(_invoices(fake, api)) == 1
    listing = hourly("invoices")
    assert_ok(listing)
    assert state in listing.stdout and "6.00 h" in listing.stdout
    if state == "partly paid":
        paid = "250.00 of 600.00 USD" if api != fake.default_store_id else "0.00250000 of 0.00600000 BTC"
        assert f"paid {paid}" in listing.stdout


def test_a_partly_paid_invoice_is_replaced_only_when_named(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [monthly] = _invoices(fake, api)
    fake.set_status(monthly["id"], "Expired", "PaidPartial", paid_amount="100.00")
    wrong = hourly("invoice", *MONTH, "--yes", "--replace", "NoSuchInvoice")
    assert wrong.exit_code == 2 and "NoSuchInvoice" in wrong.stderr
    replaced = hourly("invoice", *MONTH, "--yes", "--replace", monthly["id"])
    assert_ok(replaced)
    assert f"Replacing partly paid invoice {monthly['id']}" in replaced.stdout
    assert [i["status"] for i in _invoices(fake, api)] == ["Expired", "New"]
    assert "already exists (open" in hourly("invoice", *MONTH, "--yes").stdout
    assert len(_invoices(fake, api)) == 2


def test_a_void_invoice_releases_its_time(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [monthly] = _invoices(fake, api)
    fake.set_status(monthly["id"], "Expired")
    again = hourly("invoice", *MONTH, "--yes")
    assert_ok(again)
    assert "An earlier invoice for this time is void: " in again.stdout
    assert len(_invoices(fake, api)) == 2


# -- pending means wait ----------------------------------------------------------------------

def test_a_create_whose_answer_never_came_blocks_the_same_time(api, fake, month, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_TIMEOUT", "2")
    fake.delay_seconds = 6
    fake.fault("delay", path_contains="invoices", method="POST")
    first = hourly("invoice", *MONTH, "--yes")
    assert first.exit_code == 5 and "timed out" in first.stderr
    rerun = hourly("invoice", *MONTH, "--yes")
    assert rerun.exit_code == 1
    assert "got no answer" in rerun.stderr and "hourly invoices" in rerun.stderr
    narrower = hourly("invoice", *FIRST_DAYS, "--yes")
    assert narrower.exit_code == 1 and "got no answer" in narrower.stderr
    assert len(invoice_posts(fake)) == 1
    deadline = time.time() + 15
    while not _invoices(fake, api):
        assert time.time() < deadline
        time.sleep(0.1)
    settled = hourly("invoice", *MONTH, "--yes")
    assert_ok(settled)
    assert "already exists" in settled.stdout
    assert len(_invoices(fake, api)) == 1 and len(invoice_posts(fake)) == 1


def test_invoices_settles_a_pending_create_the_server_never_made(api, fake, month):
    # What an unanswered create left behind long ago: a pending entry for the 2nd's session.
    ledger = Path(month.path) / ".git" / "hourly" / "invoices.jsonl"
    ledger.parent.mkdir(parents=True, exist_ok=True)
    start = int(datetime(2026, 11, 2, 9, tzinfo=timezone.utc).timestamp())
    order = {"event": "pending", "order_id": "hourly-000000000000000000000000", "backend": None, "host": fake.url,
             "store_id": None, "time": {"alice@example.com": [[start, start + 7200]]},
             "at": "2026-11-30T00:00:00+00:00"}
    ledger.write_text(json.dumps(order) + "\n")
    blocked = hourly("invoice", *MONTH, "--yes")
    assert blocked.exit_code == 1 and "got no answer" in blocked.stderr
    listing = hourly("invoices")
    assert_ok(listing)
    assert [e["event"] for e in ledger_events(month)][-1] == "failed"
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    assert len(_invoices(fake, api)) == 1


# -- the server is the record across clones -----------------------------------------------

@pytest.mark.parametrize("first_api, second_api", [("greenfield", "greenfield"), ("legacy", "legacy"),
                                                   ("legacy", "greenfield"), ("greenfield", "legacy")])
def test_two_clones_never_bill_the_same_month(fake, month, tmp_path, monkeypatch, first_api, second_api):
    clone = GitRepo(tmp_path / "clone", init=False)
    month.git("clone", "-q", str(month.path), str(clone.path))
    clone.git("config", "user.email", "alice@example.com")
    store = fake.default_store_id          # the store legacy pairings act on
    for name, repo in (("first", month), ("second", clone)):
        which = first_api if name == "first" else second_api
        monkeypatch.chdir(repo.path)
        for variable in ("BTCPAYSERVER_MERCHANT", "BTCPAYSERVER_API_KEY", "BTCPAYSERVER_STORE_ID"):
            monkeypatch.delenv(variable, raising=False)
        if which == "legacy":
            _setup_legacy(fake, monkeypatch, repo)
        else:
            _setup_greenfield(fake, monkeypatch, store)
        result = hourly("invoice", *MONTH, "--yes")
        assert_ok(result)
        if name == "second":
            assert "already exists" in result.stdout
    [only] = fake.invoices(store)
    assert Decimal(only["amount"]) == Decimal("600.00")
    # The second clone's ledger and report know it, and `hourly invoices` shows its hours.
    listing = hourly("invoices", "--json")
    assert_ok(listing)
    [row] = json.loads(listing.stdout)["invoices"]
    assert (row["id"], row["hours"], row["sessions"]) == (only["id"], "6.00", 3)
    sessions = json.loads(hourly("report", *MONTH, "--format", "json").stdout)["sessions"]
    assert [s["invoice"] for s in sessions] == [only["id"]] * 3


def test_the_server_copy_of_the_time_is_what_the_invoice_bills(api, fake, month):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [monthly] = _invoices(fake, api)
    carried = monthly["metadata"]["posData"]["hourlyHooks"]
    assert carried["time"] == {"alice@example.com": [["2026-11-02T09:00:00Z", "2026-11-02T11:00:00Z"],
                                                     ["2026-11-04T13:00:00Z", "2026-11-04T16:00:00Z"],
                                                     ["2026-11-10T08:00:00Z", "2026-11-10T09:00:00Z"]]}
    assert carried["hours"] == "6.00" and monthly["metadata"]["itemCode"] == "hourly-hooks"


def test_report_marks_billed_time_without_the_network_code(api, fake, month):
    import subprocess
    import sys
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [monthly] = _invoices(fake, api)
    fake.stop()                                  # no server: the report needs none
    src = str(Path(__file__).resolve().parents[1] / "src")
    code = ("import sys, json; from hourly_hooks.cli import main\n"
            "try:\n    main(['report', *sys.argv[1:], '--format', 'json'], standalone_mode=False)\n"
            "finally:\n    print(json.dumps(sorted(m for m in ('requests', 'btcpay', 'hourly_hooks.btcpay.transport')"
            " if m in sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code, *MONTH], cwd=month.path, capture_output=True, text=True,
                          env={**month.env, "PYTHONPATH": src})
    assert done.returncode == 0, done.stderr
    assert [s["invoice"] for s in json.loads(done.stdout)["sessions"]] == [monthly["id"]] * 3
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []


# -- a ledger that cannot be written ---------------------------------------------------------

def test_a_ledger_that_cannot_be_written_stops_before_anything_is_created(api, fake, month):
    # A file where the ledger's folder should be fails as a read-only git dir or a full
    # disk would (root ignores permissions, so this is how a test can make it fail).
    blocker = month.path / ".git" / "hourly"
    if blocker.is_dir():
        import shutil
        shutil.rmtree(blocker)
    blocker.write_text("not a folder\n")
    result = hourly("invoice", *MONTH, "--yes")
    assert result.exit_code == 74, result.output
    assert result.stderr.startswith("Error: cannot write the invoice ledger") and "bug" not in result.stderr
    assert _invoices(fake, api) == [] and invoice_posts(fake) == []


# -- posData v3: the timesheet's manifest beside the time it holds --------------------------

def test_posdata_v3_keeps_what_v1_and_v2_readers_read():
    from hourly_hooks.btcpay import InvoiceRequest, time_from, timesheet_from

    ranges = {"alice@example.com": ((1793523600, 1793530800),)}
    sheet = {"digest": "ab" * 32, "sessions": [["1" * 40, "2" * 40, 7200]]}
    request = InvoiceRequest(amount=Decimal("200.00"), currency="USD", order_id="hourly-x", item_desc="2.00 hours",
                             time=ranges, hours="2.00", authors=ranges, timesheet=sheet)
    data = request.hourly_data()
    assert data["v"] == 3 and data["timesheet"] == sheet
    for pos_data in ({"hourlyHooks": data}, json.dumps({"hourlyHooks": data})):  # Greenfield, legacy
        assert time_from(pos_data) == (ranges, "2.00", ranges)  # what holds time, as v2 read it
        assert timesheet_from(pos_data) == sheet
    v2 = dict(data, v=2)
    del v2["timesheet"]
    assert timesheet_from({"hourlyHooks": v2}) is None and time_from({"hourlyHooks": v2})[0] == ranges
    assert InvoiceRequest(amount=Decimal("1"), currency="USD", order_id="o", item_desc="d", time=ranges,
                          authors=ranges).hourly_data()["v"] == 2


def test_a_session_an_invoice_holds_only_in_part_is_named_by_the_report(api, fake, month):
    """The history changed after billing (the last clock-out amended to later): the report does
    not show that session as simply unbilled; it says the invoice holds it in part, as
    `hourly invoice` refuses to bill it."""
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [invoice] = fake.invoices(api)
    month.git("commit", "-q", "--amend", "--allow-empty", "--no-edit", "--date", "2026-11-10T09:30:00+00:00",
              env={"GIT_COMMITTER_DATE": "2026-11-10T09:30:00+00:00"})
    report = hourly("report", *MONTH)
    assert_ok(report)
    assert (f"Warning: the session from 2026-11-10 08:00 +00:00 (alice@example.com) overlaps time {invoice['id']} "
            "holds, only in part") in report.stderr
    again = hourly("invoice", *MONTH, "--yes")
    assert "only in part" in again.stdout + again.stderr and len(fake.invoices(api)) == 1
