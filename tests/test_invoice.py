"""`hourly invoice` and `hourly invoices`: selection, preview and confirmation,
never twice, the ledger, and secrets, against the loopback fake server."""

from __future__ import annotations

import json
import re
import os
import pty
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from btcpay_helpers import (PERMISSIONS, SEED_ARGS, _collect_outputs, all_outputs, assert_no_secret,  # noqa: F401
                            assert_ok, fake, greenfield, hourly, ledger_events, ledger_invoice_ids,
                            legacy, seed)
from gitrepo import GitRepo
from hourly_hooks.btcpay import InvoiceRequest, settings_from
from hourly_hooks.btcpay.greenfield import GreenfieldBackend
from hourly_hooks.btcpay.billing import ledger_holders
from hourly_hooks.btcpay.ledger import Ledger

SRC = str(Path(__file__).resolve().parents[1] / "src")


def dry_run_body(*args) -> dict:
    result = hourly("invoice", *args, "--dry-run", "--json")
    assert_ok(result)
    return json.loads(result.stdout)["body"]


# -- what gets billed -------------------------------------------------------------------

def test_no_billable_hours_is_explained_not_invoiced(greenfield, fake):
    result = hourly("invoice", "--since", "2021-01-01", "--until", "2021-02-01", "--rate", "100 USD", "--yes")
    assert result.exit_code == 6
    assert "No billable hours" in result.stderr and "apembroke@gmail.com" in result.stderr
    assert fake.requests == []


def test_no_rate_is_explained_not_invoiced(greenfield, fake):
    args = [a for a in SEED_ARGS if a not in ("--rate", "100 USD")]
    result = hourly("invoice", *args, "--yes")
    assert result.exit_code == 6
    assert "No hourly rate" in result.stderr and "--rate" in result.stderr
    assert fake.requests == []


@pytest.fixture
def work(tmp_path, monkeypatch):
    """Alice (the user) and Bob in one repository; Alice is still clocked in on the 3rd."""
    repo = GitRepo(tmp_path / "team")
    repo.git("config", "user.email", "alice@example.com")
    bob = {"name": "Bob", "email": "bob@example.com"}
    repo.commit("clock-in", "2024-03-01T09:00:00+00:00")
    repo.commit("clock-in", "2024-03-01T09:30:00+00:00", **bob)
    repo.commit("clock-out", "2024-03-01T11:00:00+00:00")
    repo.commit("clock-out", "2024-03-01T17:30:00+00:00", **bob)
    repo.commit("clock-in", "2024-03-03T09:00:00+00:00")
    monkeypatch.chdir(repo.path)
    return repo


@pytest.fixture
def team_greenfield(fake, work, monkeypatch):
    store = fake.new_store()
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_STORE_ID", store)
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", fake.new_api_key(PERMISSIONS, store_id=store))
    return store


def test_an_open_session_in_the_period_is_explained_not_invoiced(team_greenfield, fake):
    result = hourly("invoice", "--since", "2024-03-01", "--until", "2024-04-01", "--rate", "80 EUR",
                    "--tz", "UTC", "--yes")
    assert result.exit_code == 6
    assert "still open since 2024-03-03T09:00:00" in result.stderr and "hourly out" in result.stderr
    assert fake.requests == []


def test_by_default_only_the_current_users_sessions_are_billed(team_greenfield, fake):
    result = hourly("invoice", "--since", "2024-03-01", "--until", "2024-03-01", "--rate", "80 EUR",
                    "--tz", "UTC", "--yes")
    assert_ok(result)
    [created] = fake.invoices(team_greenfield)
    assert created["amount"] == "160.00" and created["currency"] == "EUR"    # Alice's 2 h, not Bob's 8
    assert re.fullmatch(r"2\.00 hours worked from 2024-03-01T09:00:00\+00:00 to 2024-03-01T11:00:00\+00:00, "
                        r"timesheet [0-9a-f]{12}", created["metadata"]["itemDesc"])
    bob = hourly("invoice", "--since", "2024-03-01", "--until", "2024-03-01", "--rate", "80 EUR",
                 "--tz", "UTC", "--author", "bob@example.com", "--yes")
    assert_ok(bob)
    assert sorted(i["amount"] for i in fake.invoices(team_greenfield)) == ["160.00", "640.00"]


# -- the order id ---------------------------------------------------------------------------

def test_the_order_id_depends_on_the_time_not_on_how_it_was_selected(greenfield):
    first = dry_run_body(*SEED_ARGS)
    other_flags = ["--since", "2020-01-03", "--until", "2020-01-05 23:00", "--author", "Asher Pembroke",
                   "--tz", "UTC", "--rate", "120 USD"]
    second = dry_run_body(*other_flags)
    assert second["metadata"]["orderId"] == first["metadata"]["orderId"]
    assert second["amount"] == "1549.57"
    fewer = dry_run_body("--since", "2020-01-04", "--until", "2020-01-05", "--author", "Asher Pembroke",
                         "--tz", "America/New_York", "--rate", "100 USD")
    assert fewer["metadata"]["orderId"] != first["metadata"]["orderId"]


# -- preview, confirmation, dry run -------------------------------------------------------------

def test_dry_run_shows_the_exact_request_and_sends_nothing(greenfield, fake, seed):
    result = hourly("invoice", *SEED_ARGS, "--dry-run")
    assert_ok(result)
    assert [r["method"] for r in fake.requests] == ["GET"]      # what is billed already; nothing sent
    assert ledger_events(seed) == []
    assert "Amount:           1291.31 USD" in result.stdout
    request = json.loads(result.stdout.split("Request (not sent):\n", 1)[1])
    assert request["method"] == "POST"
    assert request["url"] == f"{fake.url}/api/v1/stores/{greenfield['store']}/invoices"
    assert request["headers"]["Authorization"] == "token ********"
    assert request["body"]["amount"] == "1291.31"
    assert_no_secret(all_outputs(), *greenfield["secrets"])


def test_dry_run_on_legacy_masks_the_token(legacy, fake, seed):
    result = hourly("invoice", *SEED_ARGS, "--dry-run", "--json")
    assert_ok(result)
    request = json.loads(result.stdout)
    assert request["version"] == 1
    assert request["url"] == f"{fake.url}/invoices/"
    assert request["body"]["price"] == "1291.31" and request["body"]["token"] == "********"
    assert [r for r in fake.requests if r["method"] == "POST" and "invoices" in r["path"]] == []
    assert_no_secret(all_outputs(), *legacy["secrets"])


def test_without_a_terminal_and_without_yes_it_refuses(greenfield, fake, seed):
    result = hourly("invoice", *SEED_ARGS, input="y\n")
    assert result.exit_code == 1
    assert "no terminal" in result.stderr and "--yes" in result.stderr
    assert fake.invoices(greenfield["store"]) == []
    assert ledger_events(seed) == []


def _run_on_a_terminal(args, answer: str, cwd) -> subprocess.CompletedProcess:
    """Run `hourly` as a separate process whose stdin is a pseudo-terminal."""
    controller, terminal = pty.openpty()
    env = dict(os.environ, PYTHONPATH=SRC)
    process = subprocess.Popen([sys.executable, "-m", "hourly_hooks", *args], stdin=terminal,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env, text=True)
    os.close(terminal)
    os.write(controller, answer.encode())
    try:
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(controller)
    return subprocess.CompletedProcess(args, process.returncode, stdout, stderr)


def test_on_a_terminal_it_asks_and_no_means_nothing_is_created(greenfield, fake, seed):
    declined = _run_on_a_terminal(["invoice", *SEED_ARGS], "n\n", seed.path)
    assert declined.returncode == 1, declined.stderr
    assert "Is this correct? [y/N]" in declined.stderr
    assert "Amount:           1291.31 USD" in declined.stdout
    assert fake.invoices(greenfield["store"]) == []
    accepted = _run_on_a_terminal(["invoice", *SEED_ARGS], "y\n", seed.path)
    assert accepted.returncode == 0, accepted.stderr
    [created] = fake.invoices(greenfield["store"])
    assert f"Success! Your invoice may be paid here: {created['checkoutLink']}" in accepted.stdout
    assert greenfield["api_key"] not in accepted.stdout + accepted.stderr + declined.stdout + declined.stderr


# -- never twice ------------------------------------------------------------------------------------

def test_a_settled_invoice_is_shown_not_replaced(greenfield, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    [created] = fake.invoices(greenfield["store"])
    fake.set_status(created["id"], "Settled")
    again = hourly("invoice", *SEED_ARGS, "--yes", "--json")
    assert_ok(again)
    document = json.loads(again.stdout)
    assert (document["id"], document["status"], document["existing"]) == (created["id"], "paid", True)
    assert len(fake.invoices(greenfield["store"])) == 1


def test_an_expired_invoice_is_replaced_after_confirmation(greenfield, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    [old] = fake.invoices(greenfield["store"])
    fake.set_status(old["id"], "Expired")
    refused = hourly("invoice", *SEED_ARGS)        # no terminal, no --yes
    assert refused.exit_code == 1
    assert len(fake.invoices(greenfield["store"])) == 1
    replaced = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(replaced)
    assert f"An earlier invoice for this time is void: {old['checkoutLink']}" in replaced.stdout
    invoices = fake.invoices(greenfield["store"])
    assert [i["status"] for i in invoices] == ["Expired", "New"]
    assert ledger_invoice_ids(seed) == {i["id"] for i in invoices}
    # and now the live one is reused
    assert "already exists" in hourly("invoice", *SEED_ARGS, "--yes").stdout
    assert len(fake.invoices(greenfield["store"])) == 2


def test_a_crash_between_the_answer_and_the_ledger_write_makes_no_second_invoice(greenfield, fake, seed):
    # What a crash leaves behind: the pending entry, and the invoice on the server.
    order_id = dry_run_body(*SEED_ARGS)["metadata"]["orderId"]
    ledger = Ledger(Path(seed.path) / ".git")
    ledger.pending(order_id, backend="greenfield", host=fake.url, store_id=greenfield["store"],
                   time={}, clock_ins=[], amount="1291.31", currency="USD")
    client = GreenfieldBackend.from_settings(settings_from({}))
    made = client.create(InvoiceRequest(amount=Decimal("1291.31"), currency="USD", order_id=order_id,
                                        item_desc="x"))
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(result)
    assert "already exists" in result.stdout and made.url in result.stdout
    assert len(fake.invoices(greenfield["store"])) == 1
    assert ledger_invoice_ids(seed) == {made.id}


def test_the_ledger_is_in_the_common_git_dir_even_from_a_worktree(greenfield, fake, seed, tmp_path,
                                                                    monkeypatch):
    worktree = tmp_path / "wt"
    seed.git("worktree", "add", "-q", str(worktree))
    monkeypatch.chdir(worktree)
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    assert (Path(seed.path) / ".git" / "hourly" / "invoices.jsonl").exists()
    assert not list(worktree.rglob("invoices.jsonl"))
    assert seed.git("status", "--porcelain") == ""
    monkeypatch.chdir(seed.path)
    assert "already exists" in hourly("invoice", *SEED_ARGS, "--yes").stdout
    assert len(fake.invoices(greenfield["store"])) == 1


# -- hourly invoices, hourly report ----------------------------------------------------------------

def test_invoices_lists_the_ledger_with_live_status(greenfield, fake, seed):
    empty = hourly("invoices")
    assert_ok(empty)
    assert "No invoices yet" in empty.stdout
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    [created] = fake.invoices(greenfield["store"])
    fake.set_status(created["id"], "Settled")
    listing = hourly("invoices")
    assert_ok(listing)
    assert created["id"] in listing.stdout and "paid" in listing.stdout and "1291.31 USD" in listing.stdout
    listed = json.loads(hourly("invoices", "--json").stdout)
    assert listed["version"] == 1
    rows = listed["invoices"]
    assert [(r["id"], r["status"], r["amount"], r["currency"], r["sessions"], r["hours"]) for r in rows] == \
        [(created["id"], "paid", "1291.31", "USD", 8, "12.91")]
    assert_no_secret(all_outputs(), *greenfield["secrets"])


def test_invoices_still_lists_when_the_server_is_down(greenfield, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    fake.stop()
    listing = hourly("invoices")
    assert listing.exit_code == 0
    assert "open" in listing.stdout
    assert "not refreshed" in listing.stderr


def test_report_marks_the_sessions_already_billed(greenfield, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    [created] = fake.invoices(greenfield["store"])
    report = hourly("report", *SEED_ARGS, "--format", "json")
    assert_ok(report)
    sessions = json.loads(report.stdout)["sessions"]
    assert [s["invoice"] for s in sessions] == [created["id"]] * 8
    assert [holder.ref for holder in ledger_holders(Ledger(Path(seed.path) / ".git").orders())] == [created["id"]]


def test_an_expired_invoice_no_longer_marks_its_sessions_billed(greenfield, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    [created] = fake.invoices(greenfield["store"])
    fake.set_status(created["id"], "Expired")
    assert_ok(hourly("invoices"))           # refreshes the ledger's statuses
    assert ledger_holders(Ledger(Path(seed.path) / ".git").orders()) == []
    sessions = json.loads(hourly("report", *SEED_ARGS, "--format", "json").stdout)["sessions"]
    assert {s["invoice"] for s in sessions} == {None}


# -- the ledger file itself -----------------------------------------------------------------------

class _Invoice:
    id, url, status, amount, currency, created = "INV1", "https://h/i/INV1", "open", Decimal("1.00"), "USD", None
    paid, time, hours = None, {"alice@example.com": ((100, 200),)}, "0.03"


class _Backend:
    name, host, store_id = "greenfield", "https://h", "S"


def test_the_ledger_survives_a_line_cut_short_by_a_crash(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.pending("o-1", time={"alice@example.com": [[100, 200]]})
    with open(ledger.path, "a") as handle:
        handle.write('{"event": "created", "order_id": "o-1", "invoi')     # the crash
    ledger.created("o-1", _Invoice(), _Backend())
    order = ledger.orders()["o-1"]
    assert order.state == "created" and list(order.invoices) == ["INV1"]
    assert [(h.ref, h.time) for h in ledger_holders(Ledger(tmp_path).orders())] == [("INV1", {"alice@example.com": ((100, 200),)})]
    assert oct(ledger.path.stat().st_mode & 0o777) == "0o600"


def test_no_secret_in_any_output_of_the_whole_flow(legacy, fake, seed, monkeypatch):
    store = fake.new_store()
    api_key = fake.new_api_key(PERMISSIONS, store_id=store)
    runs = [("btcpay", "check"), ("invoice", *SEED_ARGS, "--dry-run"), ("invoice", *SEED_ARGS, "--yes"),
            ("invoice", *SEED_ARGS, "--yes", "--json"), ("invoices",), ("invoices", "--json")]
    for args in runs:
        assert_ok(hourly(*args))
    monkeypatch.setenv("BTCPAYSERVER_STORE_ID", store)
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", api_key)
    for args in runs:
        assert_ok(hourly(*args, *(["--backend", "greenfield"] if args[0] == "btcpay" else [])))
    fake.fault("500", path_contains="/invoices", method="POST")
    monkeypatch.setenv("BTCPAYSERVER_STORE_ID", fake.new_store())
    hourly("invoice", *SEED_ARGS, "--yes")
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", "f" * 40)
    hourly("invoice", *SEED_ARGS, "--yes")
    assert_no_secret(all_outputs(), api_key, "f" * 40, *legacy["secrets"])
    ledger_text = (Path(seed.path) / ".git" / "hourly" / "invoices.jsonl").read_text()
    assert_no_secret(ledger_text, api_key, *legacy["secrets"])


# The first day as --until reads it now (the whole day), and as it read it before (an exclusive
# end at the next midnight, spelled as that instant now): the ledger holds the sessions' time, not
# the flags, so the month's invoice leaves out the same two sessions either way.
@pytest.mark.parametrize("first_day_end", ["2020-01-03", "2020-01-04T00:00"])
def test_sessions_already_on_another_invoice_are_left_out_and_named(greenfield, fake, seed, first_day_end):
    first_days = ["--since", "2020-01-03", "--until", first_day_end, "--author", "Asher Pembroke",
                  "--tz", "America/New_York", "--rate", "100 USD"]
    assert_ok(hourly("invoice", *first_days, "--yes"))
    [weekly] = fake.invoices(greenfield["store"])
    whole = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(whole)
    assert "Left out, already on an invoice (2):" in whole.stdout
    assert whole.stdout.count(f": {weekly['id']} (open)") == 2
    [_, rest] = fake.invoices(greenfield["store"])
    assert Decimal(rest["amount"]) + Decimal(weekly["amount"]) == Decimal("1291.31")
    assert rest["metadata"]["orderId"] != weekly["metadata"]["orderId"]
