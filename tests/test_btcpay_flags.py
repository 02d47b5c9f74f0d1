"""--host, --pem (a path or - for stdin), --expires and --payment-methods on `invoice`,
`invoices` and `btcpay check|pair`, and fixed-point amounts on the wire."""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal
from pathlib import Path

import pytest

from btcpay_helpers import (SEED_ARGS, _collect_outputs, assert_no_secret, assert_ok,  # noqa: F401
                            all_outputs, fake, greenfield, hourly, invoice_posts, legacy, pem_body, seed)


def _body(fake) -> dict:
    [post] = invoice_posts(fake)
    return json.loads(post["body"])


def test_host_flag_overrides_the_environment(greenfield, fake, seed, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_HOST", "https://nowhere.invalid")
    assert_ok(hourly("btcpay", "check", "--host", fake.url))
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes", "--host", fake.url))
    assert_ok(hourly("invoices", "--host", fake.url))
    assert len(fake.invoices(greenfield["store"])) == 1


def test_pem_from_stdin_for_pair_check_and_invoice(fake, seed, monkeypatch, tmp_path):
    assert_ok(hourly("btcpay", "keygen", "--pem", str(tmp_path / "key.pem")))
    pem = (tmp_path / "key.pem").read_text()
    (tmp_path / "key.pem").unlink()                  # only stdin has it now
    paired = hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url, "--pem", "-", input=pem)
    assert_ok(paired)
    token = re.fullmatch(r"export BTCPAYSERVER_MERCHANT=(\S+)\n", paired.stdout).group(1)
    monkeypatch.setenv("BTCPAYSERVER_MERCHANT", token)
    assert_ok(hourly("btcpay", "check", "--host", fake.url, "--pem", "-", input=pem))
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes", "--host", fake.url, "--pem", "-", input=pem))
    assert len(fake.legacy_invoices) == 1
    assert_no_secret(all_outputs(), *pem_body(pem))


def test_pem_from_stdin_that_is_not_a_key_is_one_line(fake, seed):
    result = hourly("btcpay", "check", "--host", fake.url, "--pem", "-", "--backend", "legacy", input="hello\n")
    assert result.exit_code == 2 and "standard input does not hold a PEM private key" in result.stderr


def test_pem_path_flag_on_invoice(legacy, fake, seed, tmp_path):
    moved = tmp_path / "elsewhere.pem"
    (Path(seed.path) / "btcpayserver.pem").rename(moved)
    assert hourly("invoice", *SEED_ARGS, "--yes").exit_code == 4           # the default path is gone
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes", "--pem", str(moved)))
    assert len(fake.legacy_invoices) == 1


def test_expires_sets_the_greenfield_expiration_minutes(greenfield, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes", "--expires", "24h"))
    assert _body(fake)["checkout"]["expirationMinutes"] == 1440
    [created] = fake.invoices(greenfield["store"])
    assert created["expirationTime"] - created["createdTime"] == 24 * 3600


def test_expires_from_config(greenfield, fake, seed):
    (Path(seed.path) / ".hourly.toml").write_text('[btcpay]\nexpires = "90m"\n')
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    assert _body(fake)["checkout"]["expirationMinutes"] == 90


def test_expires_on_legacy_is_an_absolute_expiration_time(legacy, fake, seed):
    before = time.time()
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes", "--expires", "2d"))
    sent = _body(fake)["expirationTime"]
    assert before + 2 * 86400 - 5 <= sent / 1000 <= time.time() + 2 * 86400
    [created] = fake.legacy_invoices
    assert abs(created["expirationTime"] - sent) < 1000


def test_a_bad_expiry_is_a_usage_error(greenfield, fake, seed):
    result = hourly("invoice", *SEED_ARGS, "--yes", "--expires", "soon")
    assert result.exit_code == 2 and "--expires" in result.stderr and "2d" in result.stderr
    assert invoice_posts(fake) == []


@pytest.mark.parametrize("flag, methods", [("onchain", ["BTC-CHAIN"]), ("lightning", ["BTC-LN"]),
                                           ("onchain,lightning", ["BTC-CHAIN", "BTC-LN"])])
def test_payment_methods_flag_uses_btcpay_2_ids(greenfield, fake, seed, flag, methods):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes", "--payment-methods", flag))
    assert _body(fake)["checkout"]["paymentMethods"] == methods
    assert fake.invoices(greenfield["store"])[0]["checkout"]["paymentMethods"] == methods


def test_payment_methods_flag_on_legacy(legacy, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes", "--payment-methods", "onchain"))
    assert _body(fake)["paymentCurrencies"] == ["BTC"]


def test_amounts_are_fixed_point_in_the_minor_unit(greenfield, fake, seed):
    args = [a if a != "100 USD" else "0.00000001 BTC" for a in SEED_ARGS]
    assert_ok(hourly("invoice", *args, "--yes"))
    body = _body(fake)
    assert body["amount"] == "0.00000013"                  # 12.91 h at 1 sat/h, never 1.3E-7
    assert "E-" not in json.dumps(body)
    assert Decimal(fake.invoices(greenfield["store"])[0]["amount"]) == Decimal("0.00000013")


@pytest.mark.parametrize("span", ["30s", "0m"])
def test_an_expiry_under_a_minute_is_a_usage_error(greenfield, fake, seed, span):
    result = hourly("invoice", *SEED_ARGS, "--yes", "--expires", span)
    assert result.exit_code == 2 and "--expires" in result.stderr and "shorter than a minute" in result.stderr
    assert "Traceback" not in result.stderr
    assert invoice_posts(fake) == []


def test_expires_in_parts_is_read_as_the_configuration_reads_it(greenfield, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes", "--expires", "1h 30m"))
    assert _body(fake)["checkout"]["expirationMinutes"] == 90
