"""The legacy (BitPay-compatible) backend: the whole flow on the sample history, through the CLI,
against the loopback fake server."""

from __future__ import annotations

import json
import re
import os
import stat
import subprocess
import time
from decimal import Decimal
from pathlib import Path

import pytest

from btcpay_helpers import (SEED_ARGS, SEED_ITEM, _collect_outputs, all_outputs, assert_no_secret,  # noqa: F401
                            assert_ok, fake, hourly, invoice_posts, ledger_events, ledger_invoice_ids,
                            legacy, pem_body, seed)
from hourly_hooks.btcpay import InvoiceRequest, settings_from
from hourly_hooks.btcpay.legacy import LegacyBackend


# -- keygen -------------------------------------------------------------------------

def test_keygen_writes_a_0600_key_that_git_ignores(seed):
    result = hourly("btcpay", "keygen")
    assert_ok(result)
    key = Path(seed.path) / "btcpayserver.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert key.read_text().startswith("-----BEGIN EC PRIVATE KEY-----")
    ignored = subprocess.run(["git", "check-ignore", "-q", "btcpayserver.pem"], cwd=seed.path)
    assert ignored.returncode == 0
    assert "btcpayserver.pem" not in seed.git("status", "--porcelain", "--ignored=no")
    assert "SIN" in result.stdout
    assert_no_secret(all_outputs(), *pem_body(key.read_text()))


def test_keygen_refuses_to_overwrite_a_key(seed):
    assert_ok(hourly("btcpay", "keygen"))
    key = Path(seed.path) / "btcpayserver.pem"
    before = key.read_text()
    result = hourly("btcpay", "keygen")
    assert result.exit_code == 2
    assert "refusing to overwrite" in result.stderr
    assert key.read_text() == before


def test_keygen_does_not_duplicate_an_existing_ignore_rule(seed):
    (Path(seed.path) / ".gitignore").write_text("*.pem\n")
    assert_ok(hourly("btcpay", "keygen", "--pem", "keys/client.pem"))
    assert (Path(seed.path) / ".gitignore").read_text() == "*.pem\n"
    assert stat.S_IMODE((Path(seed.path) / "keys" / "client.pem").stat().st_mode) == 0o600


def test_keygen_in_a_subdirectory_still_defaults_to_the_top_level(seed, monkeypatch):
    (Path(seed.path) / "src").mkdir()
    monkeypatch.chdir(Path(seed.path) / "src")
    assert_ok(hourly("btcpay", "keygen"))
    assert (Path(seed.path) / "btcpayserver.pem").exists()
    assert "/btcpayserver.pem" in (Path(seed.path) / ".gitignore").read_text()


# -- pair -----------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["abc", "abcdefgh", "abc def", "abc_efg", ""])
def test_pair_checks_the_code_before_any_request(fake, seed, code):
    assert_ok(hourly("btcpay", "keygen"))
    result = hourly("btcpay", "pair", code, "--host", fake.url)
    assert result.exit_code == 2
    assert "7 letters or digits" in result.stderr
    assert fake.requests == []


def test_pair_prints_the_export_line_and_the_token_works(legacy, fake):
    # the fixture paired through `hourly btcpay pair`; the host had no trailing slash
    assert len(legacy["token"]) >= 40
    assert_ok(hourly("btcpay", "check"))
    assert "paired" in all_outputs()


def test_pair_survives_a_trailing_slash_on_the_host(fake, seed, monkeypatch):
    assert_ok(hourly("btcpay", "keygen"))
    result = hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url + "/")
    assert_ok(result)
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url + "/")
    monkeypatch.setenv("BTCPAYSERVER_MERCHANT", result.stdout.split("=", 1)[1].strip())
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    assert len(fake.legacy_invoices) == 1
    assert not any(r["path"].startswith("//") for r in fake.requests)


def test_pair_save_global_stores_the_token_in_the_user_file_not_on_stdout(fake, seed, isolated, monkeypatch):
    assert_ok(hourly("btcpay", "keygen"))
    result = hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url, "--save", "--global")
    assert_ok(result)
    assert result.stdout == ""
    user_file = Path(os.environ["XDG_CONFIG_HOME"]) / "hourly" / "config.toml"
    assert stat.S_IMODE(user_file.stat().st_mode) == 0o600
    text = user_file.read_text()
    assert "[btcpay]" in text and "merchant_token = " in text and f'host = "{fake.url}"' in text
    token = text.split('merchant_token = "')[1].split('"')[0]
    assert token not in all_outputs()
    # the saved settings are enough to invoice: no environment needed
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    assert len(fake.legacy_invoices) == 1


def test_pair_save_keeps_the_rest_of_the_user_file(fake, seed):
    user_file = Path(os.environ["XDG_CONFIG_HOME"]) / "hourly" / "config.toml"
    user_file.parent.mkdir(parents=True)
    user_file.write_text('# mine\nrate = "90 USD"\n\n[btcpay]\nbuyer_name = "ACME"\nmerchant_token = "old"\n\n[rates]\n')
    assert_ok(hourly("btcpay", "keygen"))
    assert_ok(hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url, "--save", "--global"))
    text = user_file.read_text()
    assert text.startswith('# mine\nrate = "90 USD"\n\n[btcpay]\nbuyer_name = "ACME"\nmerchant_token = "')
    assert '"old"' not in text and text.rstrip().endswith("[rates]")


def test_pair_with_an_expired_or_used_code_says_so_in_one_line(fake, seed):
    assert_ok(hourly("btcpay", "keygen"))
    code = fake.new_pairing_code()
    fake.expire_pairing_code(code)
    result = hourly("btcpay", "pair", code, "--host", fake.url)
    assert result.exit_code == 5
    assert "Expired" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    code = fake.new_pairing_code()
    assert_ok(hourly("btcpay", "pair", code, "--host", fake.url))
    again = hourly("btcpay", "pair", code, "--host", fake.url)
    assert again.exit_code == 5
    assert "pairingCode is not found" in again.stderr


def test_pair_needs_a_key_first(fake, seed):
    result = hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url)
    assert result.exit_code == 4
    assert "hourly btcpay keygen" in result.stderr
    assert fake.requests == []


def test_pair_refuses_plain_http_to_a_remote_host(seed):
    assert_ok(hourly("btcpay", "keygen"))
    result = hourly("btcpay", "pair", "abcdefg", "--host", "http://btcpay.example.com")
    assert result.exit_code == 4
    assert "https://" in result.stderr


# -- the key from the environment ---------------------------------------------------------

def test_the_key_can_come_from_btcpayserver_pem_text(legacy, fake, monkeypatch):
    key = Path("btcpayserver.pem")
    monkeypatch.setenv("BTCPAYSERVER_PEM", key.read_text())
    key.rename(Path("..") / "moved.pem")  # the file is no longer there: only the env holds the key
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(result)
    assert len(fake.legacy_invoices) == 1
    assert_no_secret(all_outputs(), *legacy["secrets"])


def test_the_key_can_come_from_btcpayserver_pem_path(legacy, fake, monkeypatch, tmp_path):
    moved = tmp_path / "elsewhere.pem"
    Path("btcpayserver.pem").rename(moved)
    monkeypatch.setenv("BTCPAYSERVER_PEM", str(moved))
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    assert len(fake.legacy_invoices) == 1


def test_a_key_on_the_command_line_is_refused(legacy, fake):
    result = hourly("btcpay", "pair", "abcdefg", "--pem", legacy["pem"])
    assert result.exit_code == 2
    assert "BTCPAYSERVER_PEM" in result.stderr
    assert_no_secret(all_outputs(), *pem_body(legacy["pem"]))


def test_a_file_that_is_not_a_key_is_explained_without_echoing_it(legacy, fake, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_PEM", "-----BEGIN EC PRIVATE KEY-----\nbm90IGEga2V5\n-----END EC PRIVATE KEY-----\n")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 4
    assert "does not hold a PEM private key" in result.stderr
    assert "bm90IGEga2V5" not in all_outputs()


# -- the whole flow on the sample history ------------------------------------------------------------------

def test_seed_flow_keygen_pair_invoice(legacy, fake, seed):
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(result)
    [created] = fake.legacy_invoices
    assert result.stdout.strip().endswith(f"Success! Your invoice may be paid here: {created['url']}")
    assert created["price"] == Decimal("1291.31")
    assert created["currency"] == "USD"
    assert re.fullmatch(re.escape(SEED_ITEM) + ", timesheet [0-9a-f]{12}", created["itemDesc"])
    assert created["orderId"].startswith("hourly-")
    # on the wire: the exact decimal, never a float's 1291.3055555555554
    [post] = invoice_posts(fake)
    body = json.loads(post["body"])
    assert body["price"] == "1291.31"
    assert "1291.3055" not in post["body"]
    assert post["path"] == "/invoices/"
    # the ledger, inside .git, agrees
    assert ledger_invoice_ids(seed) == {created["id"]}
    assert seed.git("status", "--porcelain") == "?? .gitignore\n"  # keygen's rule; no ledger, no key
    assert_no_secret(all_outputs(), *legacy["secrets"])


def test_running_invoice_twice_creates_one_invoice(legacy, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    second = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(second)
    assert len(fake.legacy_invoices) == 1
    assert "already exists" in second.stdout
    assert fake.legacy_invoices[0]["url"] in second.stdout
    assert len(invoice_posts(fake)) == 1


def test_the_invoice_search_uses_get_invoices_by_item_code_and_order_id(legacy, fake):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    order_id = fake.legacy_invoices[0]["orderId"]
    searches = [r["path"] for r in fake.requests if r["method"] == "GET" and r["path"].startswith("/invoices?")]
    assert any(p.startswith("/invoices?itemCode=hourly-hooks&limit=100&offset=0&token=") for p in searches)
    assert any(p.startswith(f"/invoices?orderId={order_id}&token=") for p in searches)


def test_an_unpaired_key_gets_one_clear_line(fake, seed, monkeypatch):
    assert_ok(hourly("btcpay", "keygen"))
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_MERCHANT", "not-a-real-token")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "pair it with `hourly btcpay pair CODE`" in result.stderr
    assert fake.invoices() == []
    check = hourly("btcpay", "check")
    assert check.exit_code == 5 and "403" in check.stderr


def test_a_store_without_a_wallet_passes_the_server_message_through(fake, seed, monkeypatch):
    store = fake.new_store(name="no wallet", wallet=False)
    assert_ok(hourly("btcpay", "keygen"))
    result = hourly("btcpay", "pair", fake.new_pairing_code(store_id=store), "--host", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_MERCHANT", result.stdout.split("=", 1)[1].strip())
    failed = hourly("invoice", *SEED_ARGS, "--yes")
    assert failed.exit_code == 5
    assert "No wallet has been linked to your BTCPay Store" in failed.stderr
    assert fake.invoices(store) == []
    assert [e["event"] for e in ledger_events(seed)] == ["pending", "failed"]


def test_payment_methods_from_config_become_payment_currencies(legacy, fake, seed):
    (Path(seed.path) / ".hourly.toml").write_text(
        '[btcpay]\npayment_methods = ["onchain", "lightning"]\nbuyer_email = "ap@acme.example"\n')
    local = Path(seed.path) / ".git" / "hourly" / "config.toml"  # where invoices go: the user's file only
    local.parent.mkdir(parents=True)
    local.write_text('[btcpay]\nnotification_url = "https://acme.example/ipn"\n'
                     'redirect_url = "https://acme.example/thanks"\n')
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes", "--buyer-name", "ACME Corp"))
    body = json.loads(invoice_posts(fake)[0]["body"])
    assert body["paymentCurrencies"] == ["BTC", "BTC-LN"]
    assert body["buyer"] == {"name": "ACME Corp", "email": "ap@acme.example"}
    assert body["notificationURL"] == "https://acme.example/ipn"
    assert body["redirectURL"] == "https://acme.example/thanks"
    invoice = fake.legacy_invoices[0]
    assert invoice["buyer"]["email"] == "ap@acme.example"
    assert {c["paymentType"] for c in invoice["cryptoInfo"]} == {"BTC-CHAIN", "BTC-LN"}


# -- the backend object on its own --------------------------------------------------------

def test_backend_parses_money_as_decimal_and_normalises_status(legacy, fake):
    backend = LegacyBackend.from_settings(settings_from({}, repo_root="."))
    request = InvoiceRequest(amount=Decimal("10.50"), currency="EUR", order_id="o-1", item_desc="x")
    created = backend.create(request)
    assert created.amount == Decimal("10.50") and isinstance(created.amount, Decimal)
    assert created.status == "open" and created.order_id == "o-1"
    for status, additional, expected in (
            ("Processing", None, "paying"), ("Settled", None, "paid"), ("Settled", "Marked", "paid"),
            ("Settled", "PaidOver", "paid"), ("Expired", None, "void"), ("Expired", "PaidLate", "paid late"),
            ("Expired", "PaidPartial", "partly paid"), ("Invalid", None, "void")):
        fake.set_status(created.id, status, additional)
        assert backend.get(created.id).status == expected
    fake.set_status(created.id, "Settled")
    assert [i.status for i in backend.find("o-1")] == ["paid"]
    assert backend.find("o-2") == []


def test_odd_answers_become_one_line_errors(legacy, fake):
    backend = LegacyBackend.from_settings(settings_from({}, repo_root="."))
    fake.fault("malformed", path_contains="/invoices")
    with pytest.raises(Exception) as raised:
        backend.find("o-1")
    assert type(raised.value).__name__ == "BTCPayError"
    assert "does not understand" in str(raised.value)


# -- faults on the legacy API: 0 or 1 invoice, a ledger that agrees ---------------------------

def test_a_timeout_applies_to_btcpay_python_requests_too(legacy, fake, seed, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_TIMEOUT", "0.5")
    fake.delay_seconds = 1.5
    fake.fault("delay", path_contains="/invoices/", method="POST")
    started = time.time()
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert time.time() - started < 1.4
    assert result.exit_code == 5
    assert "timed out; the invoice may exist: run `hourly invoices`" in result.stderr
    deadline = time.time() + 10
    while not fake.legacy_invoices:
        assert time.time() < deadline
        time.sleep(0.05)
    assert_ok(hourly("invoices"))
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    [only] = fake.legacy_invoices
    assert ledger_invoice_ids(seed) == {only["id"]}
    assert_no_secret(all_outputs(), *legacy["secrets"])


@pytest.mark.parametrize("kind", ["500", "malformed", "drop_after_create"])
def test_a_failed_create_never_leads_to_a_second_invoice(legacy, fake, seed, kind):
    fake.fault(kind, path_contains="/invoices/", method="POST")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "the invoice may exist: run `hourly invoices`" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert len(fake.legacy_invoices) == (0 if kind == "500" else 1)
    again = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(again)
    [only] = fake.legacy_invoices
    assert ledger_invoice_ids(seed) == {only["id"]}
    assert_no_secret(all_outputs(), *legacy["secrets"])


def test_a_failed_search_says_nothing_was_created(legacy, fake, seed):
    fake.fault("500", path_contains="/invoices?", method="GET")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert "nothing was created" in result.stderr
    assert fake.legacy_invoices == [] and ledger_events(seed) == []
    # the signed GET's URL carries the token: it must not leak through the error
    assert_no_secret(all_outputs(), *legacy["secrets"])
