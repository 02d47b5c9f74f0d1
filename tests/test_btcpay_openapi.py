"""The Greenfield client and the loopback server, held to BTCPay Server v2.4.1's own OpenAPI
document: request bodies against CreateInvoiceRequest, answers against InvoiceData and the list
endpoint. Skipped, saying why, when ../shared does not hold the document."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from btcpay_helpers import (SEED_ARGS, _collect_outputs, assert_ok, fake, greenfield, hourly,  # noqa: F401
                            invoice_posts, seed)
from btcpay_openapi import check_exchanges, contract, missing_reason
from hourly_hooks.btcpay import InvoiceRequest, settings_from
from hourly_hooks.btcpay.greenfield import GreenfieldBackend

pytestmark = pytest.mark.skipif(contract() is None, reason=missing_reason())


def _request(**changes) -> InvoiceRequest:
    values = dict(amount=Decimal("1291.31"), currency="USD", order_id="hourly-1", item_desc="12.91 hours",
                  time={"alice@example.com": ((1700000000, 1700003600),)}, hours="1.00",
                  payment_methods=("BTC-CHAIN", "BTC-LN"), expires_minutes=1440,
                  redirect_url="https://acme.example/thanks", buyer_email="ap@acme.example", buyer_name="ACME")
    values.update(changes)
    return InvoiceRequest(**values)


def _client() -> GreenfieldBackend:
    return GreenfieldBackend.from_settings(settings_from({}))


def test_the_create_body_is_a_create_invoice_request():
    body = GreenfieldBackend("http://127.0.0.1:1", "S", "k" * 40).payload(_request())
    contract().validate_named("CreateInvoiceRequest", body)
    assert body["checkout"] == {"paymentMethods": ["BTC-CHAIN", "BTC-LN"], "expirationMinutes": 1440,
                                "redirectURL": "https://acme.example/thanks"}


def test_a_tiny_amount_goes_out_fixed_point_in_the_minor_unit():
    body = GreenfieldBackend("http://127.0.0.1:1", "S", "k" * 40).payload(
        _request(amount=Decimal("4.2E-7"), currency="BTC"))
    assert body["amount"] == "0.00000042"
    contract().validate_named("CreateInvoiceRequest", body)
    with pytest.raises(AssertionError, match="amount"):      # what str(Decimal) would have sent
        contract().validate_named("CreateInvoiceRequest", dict(body, amount=str(Decimal("4.2E-7"))))


def test_the_contract_refuses_what_the_fake_used_to_answer():
    """InvoiceData has no paymentMethods member (only the list items do): a check that can fail."""
    answer = {"id": "x", "storeId": "s", "amount": "1.00", "paidAmount": "0", "currency": "USD", "type": "Standard",
              "checkoutLink": "http://h/i/x", "status": "New", "additionalStatus": "None", "createdTime": 1,
              "expirationTime": 2, "monitoringExpiration": 3, "availableStatusesForManualMarking": [],
              "archived": False, "metadata": {}, "checkout": None, "receipt": None}
    contract().validate_named("InvoiceData", answer)
    with pytest.raises(AssertionError, match="paymentMethods"):
        contract().validate_named("InvoiceData", dict(answer, paymentMethods=[]))
    with pytest.raises(AssertionError, match="status"):
        contract().validate_named("InvoiceData", dict(answer, status="Paid"))


def test_create_list_and_get_answers_match_the_document(greenfield, fake):
    client = _client()
    created = client.create(_request())
    for status, additional, paid in (("Expired", "PaidPartial", "100.00"), ("Settled", "PaidOver", None),
                                     ("Expired", "PaidLate", None), ("Invalid", "Marked", None)):
        fake.set_status(created.id, status, additional, paid_amount=paid)
        client.get(created.id)
        client.hourly_invoices()
        client.find("hourly-1")
    exchanges = [e for e in fake.requests if e["path"].startswith("/api/")]
    assert {(e["method"], e["path"].split("?")[0].replace(greenfield["store"], "{storeId}")
             .replace(created.id, "{invoiceId}")) for e in exchanges} == {
        ("POST", "/api/v1/stores/{storeId}/invoices"), ("GET", "/api/v1/stores/{storeId}/invoices"),
        ("GET", "/api/v1/invoices/{invoiceId}")}
    assert check_exchanges(fake.requests) == 2 + 4 * 3       # the body sent, and every answer


def test_a_whole_invoice_run_speaks_the_documented_api(greenfield, fake, seed):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes", "--expires", "24h", "--payment-methods", "onchain,lightning"))
    [post] = invoice_posts(fake)
    body = json.loads(post["body"])
    assert body["checkout"]["expirationMinutes"] == 1440
    assert body["checkout"]["paymentMethods"] == ["BTC-CHAIN", "BTC-LN"]
    assert_ok(hourly("invoices"))
    assert check_exchanges(fake.requests) >= 3
