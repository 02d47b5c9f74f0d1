"""The Greenfield backend: the sample history's invoice, `hourly btcpay check`, every error
answer and every fault, against the loopback fake server."""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest

from btcpay_helpers import (PERMISSIONS, SEED_ARGS, SEED_ITEM, _collect_outputs, all_outputs,  # noqa: F401
                            assert_no_secret, assert_ok, fake, greenfield, hourly, invoice_posts,
                            ledger_events, ledger_invoice_ids, seed, socks_proxy)
from hourly_hooks.btcpay import InvoiceRequest, settings_from
from hourly_hooks.btcpay.greenfield import GreenfieldBackend
from hourly_hooks.errors import BTCPayError


def backend() -> GreenfieldBackend:
    return GreenfieldBackend.from_settings(settings_from({}))


def wait_for(condition, seconds: float = 10.0):
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "timed out waiting"
        time.sleep(0.05)


# -- the sample history's invoice ---------------------------------------------------------------

def test_seed_invoice_on_greenfield(greenfield, fake, seed):
    result = hourly("invoice", *SEED_ARGS, "--yes", "--json")
    assert_ok(result)
    [created] = fake.invoices(greenfield["store"])
    document = json.loads(result.stdout)
    assert document == {"version": 1, "id": created["id"], "url": created["checkoutLink"], "amount": "1291.31",
                        "currency": "USD", "status": "open", "paid": None, "hours": "12.91",
                        "order_id": created["metadata"]["orderId"], "created": document["created"],
                        "existing": False}
    assert created["amount"] == "1291.31"
    assert re.fullmatch(re.escape(SEED_ITEM) + ", timesheet [0-9a-f]{12}", created["metadata"]["itemDesc"])
    [post] = invoice_posts(fake)
    body = json.loads(post["body"])
    assert body["amount"] == "1291.31" and body["currency"] == "USD"   # a string made from Decimal
    assert "1291.3055" not in post["body"]
    assert post["headers"]["Authorization"] == f"token {greenfield['api_key']}"
    assert ledger_invoice_ids(seed) == {created["id"]}
    assert_no_secret(all_outputs(), *greenfield["secrets"])


def test_success_line_and_one_invoice_on_a_second_run(greenfield, fake):
    first = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(first)
    [created] = fake.invoices(greenfield["store"])
    assert first.stdout.strip().endswith(f"Success! Your invoice may be paid here: {created['checkoutLink']}")
    second = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(second)
    assert "already exists" in second.stdout and created["checkoutLink"] in second.stdout
    assert len(fake.invoices(greenfield["store"])) == 1
    search = [r["path"].split("?", 1)[1] for r in fake.requests if r["method"] == "GET" and "/invoices?" in r["path"]]
    assert search and all(q.startswith("textSearch=hourly-hooks&") or q == f"orderId={created['metadata']['orderId']}"
                          for q in search)


def test_buyer_redirect_and_payment_methods_go_into_the_request(greenfield, fake, seed):
    (Path(seed.path) / ".hourly.toml").write_text(
        '[btcpay]\nbuyer_name = "ACME Corp"\npayment_methods = ["onchain", "lightning"]\n')
    local = Path(seed.path) / ".git" / "hourly" / "config.toml"  # where the payer goes: the user's file only
    local.parent.mkdir(parents=True)
    local.write_text('[btcpay]\nredirect_url = "https://acme.example/thanks"\n')
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes", "--buyer-email", "ap@acme.example"))
    body = json.loads(invoice_posts(fake)[0]["body"])
    assert body["metadata"]["buyerName"] == "ACME Corp"
    assert body["metadata"]["buyerEmail"] == "ap@acme.example"
    assert body["checkout"] == {"paymentMethods": ["BTC-CHAIN", "BTC-LN"],
                                "redirectURL": "https://acme.example/thanks"}
    assert fake.invoices(greenfield["store"])[0]["checkout"]["paymentMethods"] == ["BTC-CHAIN", "BTC-LN"]


def test_amounts_come_back_as_decimal_and_statuses_normalised(greenfield, fake):
    client = backend()
    created = client.create(InvoiceRequest(amount=Decimal("0.00012300"), currency="BTC", order_id="o-1",
                                           item_desc="x"))
    assert created.amount == Decimal("0.00012300") and isinstance(created.amount, Decimal)
    assert created.status == "open" and created.order_id == "o-1"
    for status, additional, expected in (
            ("Processing", None, "paying"), ("Settled", None, "paid"), ("Settled", "Marked", "paid"),
            ("Settled", "PaidOver", "paid"), ("Expired", None, "void"), ("Expired", "PaidLate", "paid late"),
            ("Expired", "PaidPartial", "partly paid"), ("Invalid", None, "void"), ("Invalid", "Marked", "void")):
        fake.set_status(created.id, status, additional)
        assert client.get(created.id).status == expected
    assert [i.id for i in client.find("o-1")] == [created.id]
    assert client.find("o-2") == []


# -- hourly btcpay check ----------------------------------------------------------------

def test_check_reports_server_store_and_permissions(greenfield):
    result = hourly("btcpay", "check")
    assert_ok(result)
    assert "synchronized" in result.stdout
    assert greenfield["store"] in result.stdout
    for permission in PERMISSIONS:
        assert f"{permission}: ok" in " ".join(result.stdout.split())
    assert "Ready to invoice." in result.stdout
    assert_no_secret(all_outputs(), *greenfield["secrets"])


@pytest.mark.parametrize("granted, missing", [
    (["btcpay.store.cancreateinvoice"], "btcpay.store.canviewinvoices"),
    (["btcpay.store.canviewinvoices"], "btcpay.store.cancreateinvoice"),
])
def test_check_names_the_missing_permission(greenfield, fake, monkeypatch, granted, missing):
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", fake.new_api_key(granted, store_id=greenfield["store"]))
    result = hourly("btcpay", "check")
    assert result.exit_code == 5
    assert missing in result.stderr
    assert f"{missing}: missing" in " ".join(result.stdout.split())


def test_check_accepts_a_broader_permission(greenfield, fake, monkeypatch):
    key = fake.new_api_key(["btcpay.store.canmodifyinvoices"], store_id=greenfield["store"])
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", key)
    assert_ok(hourly("btcpay", "check"))


def test_check_with_a_key_for_another_store(greenfield, fake, monkeypatch):
    other = fake.new_store(name="other")
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", fake.new_api_key(PERMISSIONS, store_id=other))
    result = hourly("btcpay", "check")
    assert result.exit_code == 5
    assert "btcpay.store.cancreateinvoice" in result.stderr


# -- every server answer, one clear line; 0 invoices, ledger agrees -------------------------

def _no_invoice_and_ledger_agrees(fake, store, repo):
    assert fake.invoices(store) == []
    assert ledger_invoice_ids(repo) == set()


def test_401_bad_credentials(greenfield, fake, seed, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", "0" * 40)
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "refused the credentials (401)" in result.stderr and "BTCPAYSERVER_API_KEY" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    _no_invoice_and_ledger_agrees(fake, greenfield["store"], seed)
    assert "0" * 40 not in all_outputs()


def test_403_names_the_missing_permission_before_creating(greenfield, fake, seed, monkeypatch):
    key = fake.new_api_key(["btcpay.store.cancreateinvoice"], store_id=greenfield["store"])
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", key)
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "btcpay.store.canviewinvoices (403)" in result.stderr
    _no_invoice_and_ledger_agrees(fake, greenfield["store"], seed)
    assert ledger_events(seed) == []  # refused before anything was attempted


def test_403_on_create_is_recorded_as_failed(greenfield, fake, seed, monkeypatch):
    key = fake.new_api_key(["btcpay.store.canviewinvoices"], store_id=greenfield["store"])
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", key)
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "btcpay.store.cancreateinvoice (403)" in result.stderr
    _no_invoice_and_ledger_agrees(fake, greenfield["store"], seed)
    assert [e["event"] for e in ledger_events(seed)] == ["pending", "failed"]
    assert_no_secret(all_outputs(), key)


def test_404_unknown_invoice_through_the_backend(greenfield, fake):
    with pytest.raises(BTCPayError) as raised:
        backend().get("NoSuchInvoice")
    assert str(raised.value) == "BTCPay Server (404): The invoice was not found."


def test_unknown_store_is_explained(greenfield, fake, seed, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_STORE_ID", "NoSuchStore")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "store id is wrong" in result.stderr
    assert ledger_events(seed) == []


def test_422_lists_the_field_paths(greenfield, fake, seed):
    (Path(seed.path) / ".hourly.toml").write_text('[btcpay]\npayment_methods = ["BTC-CHAIN", "DOGE-MOON"]\n')
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "(422): Checkout.PaymentMethods[1]: Invalid PaymentMethodId" in result.stderr
    _no_invoice_and_ledger_agrees(fake, greenfield["store"], seed)
    assert [e["event"] for e in ledger_events(seed)] == ["pending", "failed"]


def test_400_no_wallet_is_passed_through(fake, seed, monkeypatch):
    store = fake.new_store(name="no wallet", wallet=False)
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_STORE_ID", store)
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", fake.new_api_key(PERMISSIONS, store_id=store))
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "No wallet has been linked to your BTCPay Store" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    _no_invoice_and_ledger_agrees(fake, store, seed)


# -- faults: exactly 0 or 1 invoice, and a ledger that agrees ---------------------------------

def _settles_to_one_invoice(fake, store, repo):
    """`hourly invoices` reconciles; then `hourly invoice` shows, never duplicates."""
    listing = hourly("invoices", "--json")
    assert_ok(listing)
    again = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(again)
    invoices = fake.invoices(store)
    assert len(invoices) == 1
    assert ledger_invoice_ids(repo) == {invoices[0]["id"]}
    return again


def test_timeout_on_create_says_the_invoice_may_exist(greenfield, fake, seed, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_TIMEOUT", "0.5")
    fake.delay_seconds = 1.5
    fake.fault("delay", path_contains="/invoices", method="POST")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "timed out; the invoice may exist: run `hourly invoices`" in result.stderr
    assert [e["event"] for e in ledger_events(seed)] == ["pending"]
    wait_for(lambda: len(fake.invoices(greenfield["store"])) == 1)   # the server finished it
    again = _settles_to_one_invoice(fake, greenfield["store"], seed)
    assert "already exists" in again.stdout


def test_timeout_before_creating_says_nothing_was_created(greenfield, fake, seed, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_TIMEOUT", "0.5")
    fake.delay_seconds = 1.5
    fake.fault("delay", path_contains="/invoices", method="GET")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "timed out; nothing was created" in result.stderr
    _no_invoice_and_ledger_agrees(fake, greenfield["store"], seed)


def test_500_on_create_then_a_clean_retry_makes_one(greenfield, fake, seed):
    fake.fault("500", path_contains="/invoices", method="POST")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "(500 Internal Server Error); the invoice may exist: run `hourly invoices`" in result.stderr
    assert fake.invoices(greenfield["store"]) == []
    listing = hourly("invoices")
    assert_ok(listing)
    assert [e["event"] for e in ledger_events(seed)] == ["pending", "unclear", "failed"]  # the server had none
    again = _settles_to_one_invoice(fake, greenfield["store"], seed)
    assert "Success!" in again.stdout


def test_500_on_the_search_says_nothing_was_created(greenfield, fake, seed):
    fake.fault("500", path_contains="/invoices", method="GET")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "nothing was created" in result.stderr
    _no_invoice_and_ledger_agrees(fake, greenfield["store"], seed)


@pytest.mark.parametrize("kind", ["malformed", "drop_after_create"])
def test_a_lost_answer_never_leads_to_a_second_invoice(greenfield, fake, seed, kind):
    fake.fault(kind, path_contains="/invoices", method="POST")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "the invoice may exist: run `hourly invoices`" in result.stderr
    assert len(fake.invoices(greenfield["store"])) == 1      # the server did the work
    assert ledger_invoice_ids(seed) == set()                 # ... but the answer never arrived
    # straight to `hourly invoice`, without `hourly invoices` first
    again = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(again)
    assert "already exists" in again.stdout
    [only] = fake.invoices(greenfield["store"])
    assert ledger_invoice_ids(seed) == {only["id"]}


def test_an_unreachable_server_says_nothing_was_created(greenfield, fake, seed):
    fake.stop()
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "could not be reached; nothing was created" in result.stderr
    assert ledger_events(seed) == []


# -- network discipline --------------------------------------------------------------------------

def test_plain_http_to_a_remote_host_is_refused(greenfield, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_HOST", "http://btcpay.example.com")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 4
    assert "use https://" in result.stderr


def test_insecure_warns(greenfield):
    result = hourly("invoice", *SEED_ARGS, "--dry-run", "--insecure")
    assert_ok(result)
    assert "Warning: TLS certificate verification is off" in result.stderr


def test_an_onion_host_needs_a_proxy(greenfield, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_HOST", "http://btcpayexampleonionaddress.onion")
    result = hourly("btcpay", "check")
    assert result.exit_code == 4
    assert "BTCPAYSERVER_PROXY=socks5h://127.0.0.1:9050" in result.stderr


def test_an_onion_host_through_a_socks_proxy(greenfield, fake, seed, socks_proxy, monkeypatch):
    port = fake.url.rsplit(":", 1)[1]
    monkeypatch.setenv("BTCPAYSERVER_HOST", f"http://btcpayexampleonionaddress.onion:{port}")
    monkeypatch.setenv("BTCPAYSERVER_PROXY", socks_proxy.url.replace("socks5h://", "socks5://"))
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(result)
    [created] = fake.invoices(greenfield["store"])
    assert f"http://btcpayexampleonionaddress.onion:{port}/i/{created['id']}" in result.stdout
    # the proxy, not the client, resolved the .onion name (socks5 was upgraded to socks5h)
    assert ("btcpayexampleonionaddress.onion", int(port)) in socks_proxy.connects


def test_a_dead_proxy_says_nothing_was_created(greenfield, fake, seed, monkeypatch):
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    monkeypatch.setenv("BTCPAYSERVER_HOST", "https://btcpay.example.com")
    monkeypatch.setenv("BTCPAYSERVER_PROXY", f"socks5h://127.0.0.1:{dead}")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "the proxy could not be reached or could not connect (is it, or Tor, running?); nothing was created" in result.stderr
    assert ledger_events(seed) == []


def test_the_usual_proxy_variables_are_honoured(greenfield, socks_proxy, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_HOST", "https://btcpay.example.com")
    monkeypatch.setenv("ALL_PROXY", socks_proxy.url)
    result = hourly("btcpay", "check")
    assert result.exit_code == 5                      # the proxy cannot reach the example host
    assert ("btcpay.example.com", 443) in socks_proxy.connects
    assert len(result.stderr.strip().splitlines()) == 1
