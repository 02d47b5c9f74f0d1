"""Tests of the BTCPay Server fake (tests/btcpay_fake.py) against BTCPay Server 2.4.1's behaviour.

The legacy API is driven with the real btcpay-python client wherever it can be, so the
fake is checked against the wire format that client actually produces; raw `requests`
calls cover what the client hides (error bodies, headers) and the Greenfield API.
"""

from __future__ import annotations

import hashlib
import json
import re
import time

from decimal import Decimal

import ecdsa
import pytest
import requests
from btcpay import BTCPayClient, crypto
from ecdsa.curves import SECP256k1
from ecdsa.util import sigencode_der

from btcpay_fake import (NO_WALLET_MESSAGE, FakeBTCPay, b58check_decode, btcpay_server, parse_der_lax,
                         ripemd160, sin_from_public_key, verify_bitid_signature)
from btcpay_openapi import check_exchanges

CREATE = "btcpay.store.cancreateinvoice"
VIEW = "btcpay.store.canviewinvoices"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    # A proxy from the environment must never sit between the tests and the loopback server.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def fake():
    with btcpay_server() as server:
        server.delay_seconds = 0.3
        yield server
    check_exchanges(server.requests)     # every 2xx Greenfield answer, against BTCPay's OpenAPI document


# -- helpers --------------------------------------------------------------------------

def paired_client(fake: FakeBTCPay, store_id: str | None = None) -> BTCPayClient:
    return BTCPayClient.create_client(fake.new_pairing_code(store_id), fake.url)


def signed_headers(pem: str, url: str, body: str = "") -> dict:
    """What btcpay-python sends: the signature covers url + body."""
    return {"Content-Type": "application/json",
            "X-Identity": crypto.get_compressed_public_key_from_pem(pem),
            "X-Signature": crypto.sign(url + body, pem)}


def pair_raw(fake: FakeBTCPay, code: str, pem: str | None = None) -> requests.Response:
    pem = pem or crypto.generate_privkey()
    body = json.dumps({"id": crypto.get_sin_from_pem(pem), "pairingCode": code})
    return requests.post(fake.url + "/tokens", data=body, headers={"Content-Type": "application/json"})


def greenfield(fake: FakeBTCPay, key: str | None, method: str, path: str, **kwargs) -> requests.Response:
    headers = {"Authorization": f"token {key}"} if key else {}
    return requests.request(method, fake.url + path, headers=headers, timeout=5, **kwargs)


def create_gf(fake: FakeBTCPay, key: str, body: dict, store_id: str | None = None) -> requests.Response:
    store_id = store_id or fake.default_store_id
    return greenfield(fake, key, "POST", f"/api/v1/stores/{store_id}/invoices", json=body)


@pytest.fixture
def key(fake):
    return fake.new_api_key([CREATE, VIEW], fake.default_store_id)


# -- crypto helpers ---------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"", b"abc", b"a" * 55, b"a" * 56, b"x" * 1000])
def test_ripemd160_fallback_matches_reference(data):
    from btcpay_fake import _ripemd160_pure
    known = {b"": "9c1185a5c5e9fc54612808977ee8f548b2258d31", b"abc": "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"}
    expected = known.get(data) or ripemd160(data).hex()
    assert _ripemd160_pure(data).hex() == expected


def test_ripemd160_falls_back_when_openssl_lacks_it(monkeypatch):
    real_new = hashlib.new

    def without_ripemd(name, *args, **kwargs):
        if name.lower() == "ripemd160":
            raise ValueError("unsupported hash type ripemd160")     # what OpenSSL 3 builds say
        return real_new(name, *args, **kwargs)

    expected = ripemd160(b"abc")
    monkeypatch.setattr(hashlib, "new", without_ripemd)
    assert ripemd160(b"abc") == expected


def test_sin_matches_btcpay_python():
    pem = crypto.generate_privkey()
    public_key = bytes.fromhex(crypto.get_compressed_public_key_from_pem(pem))
    sin = sin_from_public_key(public_key)
    assert sin == crypto.get_sin_from_pem(pem)
    assert sin.startswith("T") and b58check_decode(sin)[:2] == b"\x0f\x02"


def test_high_s_and_lax_der_signatures_verify():
    sk = ecdsa.SigningKey.generate(curve=SECP256k1)
    identity = sk.get_verifying_key().to_string("compressed").hex()
    message = "http://h/invoices/{}"
    r, s = sk.sign(message.encode(), hashfunc=hashlib.sha256, sigencode=lambda r, s, order: (r, s))
    n = SECP256k1.order
    for s_variant in (min(s, n - s), max(s, n - s)):             # low-S and high-S
        assert verify_bitid_signature(identity, sigencode_der(r, s_variant, n).hex(), message)
    # Extra zero padding in r: rejected by strict DER, accepted by the lax parser.
    r_bytes = b"\0" + r.to_bytes(32, "big")
    s_bytes = s.to_bytes(32, "big")
    padded = bytes([0x30, 4 + len(r_bytes) + len(s_bytes) + 1, 2, len(r_bytes)]) + r_bytes + bytes([2, 32]) + s_bytes
    assert parse_der_lax(padded) == (r, s)
    assert verify_bitid_signature(identity, padded.hex(), message)
    assert verify_bitid_signature(identity, sigencode_der(r, s, n).hex(), message + "x") is None


# -- legacy API: pairing -------------------------------------------------------------

def test_pairing_code_is_seven_base58_chars(fake):
    codes = {fake.new_pairing_code() for _ in range(20)}
    assert all(re.fullmatch(r"[1-9A-HJ-NP-Za-km-z]{7}", code) for code in codes)
    assert len(codes) == 20


def test_pairing_response_shape(fake):
    code = fake.new_pairing_code()
    response = pair_raw(fake, code)
    assert response.status_code == 200
    (entry,) = response.json()["data"]
    assert set(entry) == {"policies", "pairingCode", "pairingExpiration", "dateCreated", "facade", "token", "label"}
    assert entry["policies"] == [] and entry["pairingCode"] == code and entry["facade"] == "merchant"
    assert entry["label"] is None
    assert entry["pairingExpiration"] - entry["dateCreated"] == 15 * 60 * 1000      # milliseconds
    assert "facade" not in response.json()


def test_reused_pairing_code_is_404(fake):
    code = fake.new_pairing_code()
    BTCPayClient.create_client(code, fake.url)
    with pytest.raises(requests.HTTPError) as error:
        BTCPayClient.create_client(code, fake.url)
    assert error.value.response.status_code == 404
    assert error.value.response.json() == {"error": "The specified pairingCode is not found"}


def test_expired_pairing_code_is_400(fake):
    code = fake.new_pairing_code()
    fake.expire_pairing_code(code)
    response = pair_raw(fake, code)
    assert response.status_code == 400
    assert response.json() == {"error": "Error while pairing (Expired)"}


def test_key_paired_to_another_store_is_400_reused_key(fake):
    pem = crypto.generate_privkey()
    assert pair_raw(fake, fake.new_pairing_code(), pem).status_code == 200
    other_store = fake.new_store("Other")
    response = pair_raw(fake, fake.new_pairing_code(other_store), pem)
    assert response.status_code == 400
    assert response.json() == {"error": "Error while pairing (ReusedKey)"}


def test_pairing_without_valid_sin_is_400(fake):
    body = json.dumps({"id": "not-a-sin", "pairingCode": fake.new_pairing_code()})
    response = requests.post(fake.url + "/tokens", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json() == {"error": "'id' property is required, alternatively, use BitId"}


# -- legacy API: invoices --------------------------------------------------------

def test_legacy_flow_with_btcpay_python(fake):
    client = paired_client(fake)
    before = time.time() * 1000
    invoice = client.create_invoice({"price": 10, "currency": "usd", "orderId": "ord-1",
                                     "itemDesc": "12.91 hours", "buyer": {"email": "ann@example.com"}})
    assert invoice["status"] == "new" and invoice["exceptionStatus"] is False
    assert invoice["price"] == 10 and invoice["currency"] == "USD"
    assert invoice["orderId"] == "ord-1" and invoice["itemDesc"] == "12.91 hours"
    assert invoice["buyer"]["email"] == "ann@example.com"
    assert before - 1000 <= invoice["invoiceTime"] <= time.time() * 1000 + 1000          # milliseconds
    assert invoice["expirationTime"] - invoice["invoiceTime"] == 15 * 60 * 1000
    assert invoice["url"] == f"{fake.url}/invoice?id={invoice['id']}"
    assert 21 <= len(invoice["id"]) <= 22

    (listed,) = client.get_invoices(order_id="ord-1")
    fetched = client.get_invoice(invoice["id"])
    assert listed["id"] == fetched["id"] == invoice["id"]
    assert len({invoice["guid"], listed["guid"], fetched["guid"]}) == 3                   # fresh each time
    assert len({invoice["token"], listed["token"], fetched["token"]}) == 3
    assert client.get_invoices(order_id="ord") == []                                       # exact match

    assert [inv["id"] for inv in fake.legacy_invoices] == [invoice["id"]]
    (server_side,) = fake.invoices(fake.default_store_id)
    assert server_side["amount"] == "10" and server_side["metadata"]["orderId"] == "ord-1"


def test_legacy_create_answer_is_facade_wrapped_and_keeps_price_scale(fake):
    pem = crypto.generate_privkey()
    tokens = BTCPayClient(fake.url, pem).pair_client(fake.new_pairing_code())
    body = json.dumps({"price": 12.50, "currency": "EUR", "token": tokens["merchant"]}).replace("12.5", "12.50")
    url = fake.url + "/invoices"
    response = requests.post(url, data=body, headers=signed_headers(pem, url, body))
    assert response.status_code == 200
    assert '"price":12.50,' in response.text                                              # a JSON number
    assert response.json()["facade"] == "pos/invoice"


def test_token_value_is_ignored(fake):
    client = paired_client(fake)
    wrong = BTCPayClient(fake.url, client.pem, tokens={"merchant": "not-the-token"})
    assert wrong.create_invoice({"price": 1, "currency": "USD"})["status"] == "new"


def test_tampered_signature_is_401_with_body(fake):
    client = paired_client(fake)
    url = fake.url + "/invoices/"
    headers = signed_headers(client.pem, url, '{"price": 1}')
    response = requests.post(url, data='{"price": 2}', headers=headers)
    assert response.status_code == 401
    assert response.json() == {"errors": [{"error": "BitId authentication failed"}],
                               "error": "BitId authentication failed"}
    assert fake.invoices() == []


def test_unpaired_key_and_anonymous_are_403_with_empty_body(fake):
    unpaired = BTCPayClient(fake.url, crypto.generate_privkey(), tokens={"merchant": "x"})
    with pytest.raises(requests.HTTPError) as error:
        unpaired.create_invoice({"price": 1, "currency": "USD"})
    assert error.value.response.status_code == 403 and error.value.response.content == b""
    anonymous = requests.post(f"{fake.url}/invoices?storeId={fake.default_store_id}", data="{}",
                              headers={"Content-Type": "application/json"})
    assert anonymous.status_code == 403 and anonymous.content == b""


def test_trailing_slash_host_is_404(fake):
    code = fake.new_pairing_code()
    client = BTCPayClient.create_client(code, fake.url)
    broken = BTCPayClient(fake.url + "/", client.pem, tokens=client.tokens)
    with pytest.raises(requests.HTTPError) as error:
        broken.create_invoice({"price": 1, "currency": "USD"})
    sent = fake.requests[-1]["path"]
    if sent == "//invoices/":
        # The client kept the double slash: BTCPay's legacy router matches no endpoint.
        assert error.value.response.status_code == 404
    else:
        # Older requests (the newest for Python 3.9) collapse it on the wire, while the
        # signature still covers "//invoices/": BitId verification fails.
        assert sent == "/invoices/" and error.value.response.status_code == 401
    assert fake.invoices() == []


def test_legacy_routing(fake):
    client = paired_client(fake)
    body = '{"price": 1}'
    headers = signed_headers(client.pem, fake.url + "/invoices", body)
    no_json = dict(headers, **{"Content-Type": "text/plain"})
    assert requests.post(fake.url + "/invoices", data=body, headers=no_json).status_code == 404
    assert requests.post(fake.url + "/invoices", data=body).status_code == 404          # no auth at all
    preflight = requests.options(fake.url + "/invoices")
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"


def test_missing_legacy_invoice_is_404_object_not_found(fake):
    client = paired_client(fake)
    with pytest.raises(requests.HTTPError) as error:
        client.get_invoice("NoSuchInvoice1234567")
    assert error.value.response.status_code == 404
    assert error.value.response.json() == {"error": "Object not found"}


def test_legacy_no_wallet_is_400(fake):
    client = paired_client(fake, fake.new_store("No wallet", wallet=False))
    with pytest.raises(requests.HTTPError) as error:
        client.create_invoice({"price": 5, "currency": "USD"})
    assert error.value.response.status_code == 400
    assert error.value.response.json() == {"error": NO_WALLET_MESSAGE}
    assert "body: " in str(error.value)           # btcpay-python puts the body in POST errors


def test_both_apis_share_invoices_and_statuses(fake, key):
    client = paired_client(fake)
    created = create_gf(fake, key, {"amount": "7.00", "currency": "USD", "metadata": {"orderId": "x"}}).json()
    assert client.get_invoice(created["id"])["price"] == 7
    fake.set_status(created["id"], "Settled")
    assert client.get_invoices(status="complete")[0]["id"] == created["id"]
    legacy = client.create_invoice({"price": 3, "currency": "USD", "orderId": "y"})
    fetched = greenfield(fake, key, "GET", f"/api/v1/stores/{fake.default_store_id}/invoices/{legacy['id']}")
    assert fetched.json()["amount"] == "3" and fetched.json()["metadata"] == {"orderId": "y"}


# -- Greenfield API --------------------------------------------------------------------

def test_greenfield_create(fake, key):
    before = time.time()
    response = create_gf(fake, key, {"amount": "10.00", "currency": "usd",
                                     "metadata": {"orderId": "A-1001", "itemDesc": "Widget"},
                                     "checkout": {"paymentMethods": ["BTC-CHAIN", "BTC_LightningLike"]}})
    assert response.status_code == 200
    invoice = response.json()
    assert invoice["amount"] == "10.00" and invoice["currency"] == "USD"
    assert invoice["status"] == "New" and invoice["additionalStatus"] == "None"
    assert invoice["type"] == "Standard" and invoice["storeId"] == fake.default_store_id
    assert invoice["checkoutLink"] == f"{fake.url}/i/{invoice['id']}"
    assert before - 1 <= invoice["createdTime"] <= time.time() + 1                         # seconds
    assert invoice["expirationTime"] - invoice["createdTime"] == 15 * 60
    assert invoice["checkout"]["paymentMethods"] == ["BTC-CHAIN", "BTC-LN"]
    assert invoice["availableStatusesForManualMarking"] == ["Settled", "Invalid"]
    assert invoice["metadata"] == {"orderId": "A-1001", "itemDesc": "Widget"}


@pytest.mark.parametrize("amount, echoed", [("10.50", "10.50"), ("10", "10"), (10, "10"), (12.5, "12.5"),
                                            ("1,000.5", "1000.5"), ("0.001", "0.001"), ("10.005", "10.01")])
def test_greenfield_amount_keeps_input_scale(fake, key, amount, echoed):
    response = create_gf(fake, key, {"amount": amount, "currency": "USD"})
    assert response.json()["amount"] == echoed


def test_greenfield_top_up_invoice(fake, key):
    invoice = create_gf(fake, key, {"currency": "USD"}).json()
    assert invoice["type"] == "TopUp" and invoice["amount"] == "0"


def test_greenfield_401(fake, key):
    path = f"/api/v1/stores/{fake.default_store_id}/invoices"
    missing = greenfield(fake, None, "GET", path)
    assert missing.status_code == 401
    assert missing.json() == {"code": "unauthenticated",
                              "message": "Authentication is required for accessing this endpoint"}
    unknown = greenfield(fake, "0" * 40, "GET", path)
    assert unknown.status_code == 401 and unknown.json()["code"] == "unauthenticated"
    bearer = requests.get(fake.url + path, headers={"Authorization": f"Bearer {key}"})
    assert bearer.status_code == 200


def test_greenfield_403_names_the_missing_permission(fake):
    store = fake.default_store_id
    view_only = fake.new_api_key([VIEW], store)
    response = create_gf(fake, view_only, {"amount": "1"})
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "missing-permission" and body["missingPermission"] == CREATE
    assert f'"{CREATE}"' in body["message"]
    create_only = fake.new_api_key([CREATE])                                # unscoped: every store
    listed = greenfield(fake, create_only, "GET", f"/api/v1/stores/{store}/invoices")
    assert listed.status_code == 403 and listed.json()["missingPermission"] == VIEW
    other_store_key = fake.new_api_key([CREATE], fake.new_store("Other"))
    assert create_gf(fake, other_store_key, {"amount": "1"}).status_code == 403
    broad = fake.new_api_key(["btcpay.store.canmodifyinvoices"], store)
    assert create_gf(fake, broad, {"amount": "1"}).status_code == 200
    # An unknown store fails authorization like a missing permission (BuiltInPermissionHandler).
    unknown = create_gf(fake, fake.new_api_key(["unrestricted"]), {"amount": "1"}, store_id="NoSuchStore")
    assert unknown.status_code == 403 and unknown.json()["code"] == "missing-permission"


@pytest.mark.parametrize("body, path", [
    ({"amount": "-1"}, "Amount"),
    ({"amount": "1", "checkout": {"paymentMethods": ["BTC-CHAIN", "DOGE-NOPE"]}}, "Checkout.PaymentMethods[1]"),
    ({"amount": "1", "checkout": {"expirationMinutes": 0}}, "Checkout.Expiration"),
    ({"amount": "1", "checkout": {"expirationMinutes": "00:00:10"}}, "Checkout.Expiration"),
    ({"amount": "1", "checkout": {"paymentTolerance": 101}}, "Checkout.PaymentTolerance"),
    ({"amount": "1", "checkout": {"defaultLanguage": "xx-YY"}}, "Checkout.DefaultLanguage"),
    ({"amount": "abc"}, "amount"),                                            # binding errors: JSON paths
    ({"amount": "1", "checkout": {"expirationMinutes": 1.5}}, "checkout.expirationMinutes"),
])
def test_greenfield_422_paths(fake, key, body, path):
    response = create_gf(fake, key, body)
    assert response.status_code == 422
    assert [error["path"] for error in response.json()] == [path]
    assert fake.invoices() == []


def test_greenfield_422_lists_every_error(fake, key):
    response = create_gf(fake, key, {"amount": -5, "checkout": {"paymentMethods": ["x-y"], "expirationMinutes": 0}})
    assert {e["path"] for e in response.json()} == {"Amount", "Checkout.PaymentMethods[0]", "Checkout.Expiration"}
    assert {"path": "Amount", "message": "The amount should be 0 or more."} in response.json()


def test_greenfield_business_errors_are_400_generic_error(fake, key):
    no_rate = create_gf(fake, key, {"amount": "1", "currency": "XYZ"})
    assert no_rate.status_code == 400 and no_rate.json()["code"] == "generic-error"
    assert no_rate.json()["message"].startswith("Error retrieving a matching payment method or rate.\n")
    no_wallet_store = fake.new_store("Empty", wallet=False)
    no_wallet = create_gf(fake, fake.new_api_key([CREATE]), {"amount": "1"}, store_id=no_wallet_store)
    assert no_wallet.status_code == 400
    assert no_wallet.json() == {"code": "generic-error", "message": NO_WALLET_MESSAGE}


def test_greenfield_list_by_order_id_newest_first(fake, key):
    ids = {}
    for order_id in ("A", "B", "A", "A-2"):
        created = create_gf(fake, key, {"amount": "1", "metadata": {"orderId": order_id}}).json()
        ids.setdefault(order_id, []).append(created["id"])
    path = f"/api/v1/stores/{fake.default_store_id}/invoices"
    listed = greenfield(fake, key, "GET", path, params={"orderId": "A"}).json()
    assert isinstance(listed, list)
    assert [inv["id"] for inv in listed] == ids["A"][::-1]
    both = greenfield(fake, key, "GET", path, params=[("orderId", "A"), ("orderId", "B")]).json()
    assert len(both) == 3
    fake.set_status(ids["A"][0], "Settled")
    settled = greenfield(fake, key, "GET", path, params=[("orderId", "A"), ("status", "settled")]).json()
    assert [inv["id"] for inv in settled] == [ids["A"][0]]
    assert len(greenfield(fake, key, "GET", path, params={"take": 1}).json()) == 1


def test_greenfield_get_404(fake, key):
    store = fake.default_store_id
    missing = greenfield(fake, key, "GET", f"/api/v1/stores/{store}/invoices/NoSuchInvoice")
    assert missing.status_code == 404
    assert missing.json() == {"code": "invoice-not-found", "message": "The invoice was not found"}
    other = fake.new_store("Other")
    foreign = create_gf(fake, fake.new_api_key([CREATE], other), {"amount": "1"}, store_id=other).json()
    assert greenfield(fake, key, "GET", f"/api/v1/stores/{store}/invoices/{foreign['id']}").status_code == 404


def test_greenfield_storeless_get_checks_the_invoice_store(fake, key):
    created = create_gf(fake, key, {"amount": "5.00", "currency": "USD"}).json()
    fetched = greenfield(fake, key, "GET", f"/api/v1/invoices/{created['id']}")
    assert fetched.status_code == 200 and fetched.json()["id"] == created["id"]
    assert "paymentMethods" not in fetched.json()          # InvoiceData has no such member
    unknown = greenfield(fake, key, "GET", "/api/v1/invoices/NoSuchInvoice")
    assert unknown.status_code == 403 and unknown.json()["code"] == "missing-permission"
    other = fake.new_store("Other")
    foreign = create_gf(fake, fake.new_api_key([CREATE], other), {"amount": "1"}, store_id=other).json()
    assert greenfield(fake, key, "GET", f"/api/v1/invoices/{foreign['id']}").status_code == 403


def test_a_partial_payment_shows_in_both_apis(fake, key):
    created = create_gf(fake, key, {"amount": "600.00", "currency": "USD"}).json()
    fake.set_status(created["id"], "Expired", "PaidPartial", paid_amount="150.00")
    fetched = greenfield(fake, key, "GET", f"/api/v1/invoices/{created['id']}").json()
    assert (fetched["status"], fetched["additionalStatus"], fetched["paidAmount"]) == ("Expired", "PaidPartial",
                                                                                      "150.00")
    legacy = paired_client(fake).get_invoice(created["id"])
    assert (legacy["status"], legacy["exceptionStatus"]) == ("expired", "paidPartial")
    assert Decimal(legacy["btcPaid"]) * 4 == Decimal(legacy["btcPrice"])


def test_greenfield_key_health_and_store(fake):
    key = fake.new_api_key([CREATE, "btcpay.store.canviewstoresettings"], fake.default_store_id, label="billing")
    current = greenfield(fake, key, "GET", "/api/v1/api-keys/current").json()
    assert current == {"apiKey": key, "label": "billing",
                       "permissions": [f"{CREATE}:{fake.default_store_id}",
                                       f"btcpay.store.canviewstoresettings:{fake.default_store_id}"]}
    assert re.fullmatch(r"[0-9a-f]{40}", key)
    assert greenfield(fake, None, "GET", "/api/v1/health").json() == {"synchronized": True}
    store = greenfield(fake, key, "GET", f"/api/v1/stores/{fake.default_store_id}").json()
    assert store["id"] == fake.default_store_id and store["defaultCurrency"] == "USD"
    assert 43 <= len(store["id"]) <= 44


def test_set_status_shows_in_both_views(fake, key):
    invoice = create_gf(fake, key, {"amount": "2"}).json()
    fake.set_status(invoice["id"], "Processing")
    assert fake.invoices()[0]["status"] == "Processing"
    fake.set_status(invoice["id"], "expired", additional_status="PaidPartial")
    client = paired_client(fake)
    legacy = client.get_invoice(invoice["id"])
    assert legacy["status"] == "expired" and legacy["exceptionStatus"] == "paidPartial"
    with pytest.raises(ValueError):
        fake.set_status(invoice["id"], "Paid-ish")


# -- fault switches ---------------------------------------------------------------------------

def test_fault_delay(fake):
    fake.fault("delay", "/api/v1/health")
    started = time.monotonic()
    assert greenfield(fake, None, "GET", "/api/v1/health").status_code == 200
    assert time.monotonic() - started >= fake.delay_seconds
    started = time.monotonic()
    greenfield(fake, None, "GET", "/api/v1/health")
    assert time.monotonic() - started < fake.delay_seconds                      # only the next one
    fake.fault("delay", "/api/v1/health")
    with pytest.raises(requests.Timeout):
        requests.get(fake.url + "/api/v1/health", timeout=0.05)


def test_fault_500_does_no_work(fake, key):
    fake.fault("500", "/invoices", method="POST")
    assert create_gf(fake, key, {"amount": "1"}).status_code == 500
    assert fake.invoices() == []
    assert create_gf(fake, key, {"amount": "1"}).status_code == 200


@pytest.mark.parametrize("kind", ["502", "503", "504", "429"])
def test_gateway_and_rate_limit_faults_do_no_work(fake, key, kind):
    fake.fault(kind, "/invoices", method="POST")
    response = create_gf(fake, key, {"amount": "1"})
    assert response.status_code == int(kind)
    assert response.headers.get("Retry-After") == ("1" if kind == "429" else None)
    assert fake.invoices() == []
    fake.retry_after = "Wed, 21 Oct 2026 07:28:00 GMT"
    fake.fault("429", "/invoices", method="POST")
    assert create_gf(fake, key, {"amount": "1"}).headers["Retry-After"] == fake.retry_after
    assert create_gf(fake, key, {"amount": "1"}).status_code == 200


def test_fault_drop_closes_without_the_work(fake, key):
    fake.fault("drop", "/invoices", method="POST")
    with pytest.raises(requests.ConnectionError):
        create_gf(fake, key, {"amount": "1"})
    assert fake.invoices() == []


def test_fault_malformed_does_the_work(fake, key):
    fake.fault("malformed", "/invoices")
    response = create_gf(fake, key, {"amount": "1"})
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert len(fake.invoices()) == 1


def test_fault_drop_after_create_greenfield(fake, key):
    fake.fault("drop_after_create", "/invoices", method="POST")
    with pytest.raises(requests.ConnectionError):
        create_gf(fake, key, {"amount": "1", "metadata": {"orderId": "dropped"}})
    (invoice,) = fake.invoices()
    assert invoice["metadata"]["orderId"] == "dropped"


def test_fault_drop_after_create_legacy(fake):
    client = paired_client(fake)
    fake.fault("drop_after_create", "/invoices/", method="POST")
    with pytest.raises(requests.ConnectionError):
        client.create_invoice({"price": 1, "currency": "USD", "orderId": "dropped"})
    assert [inv["orderId"] for inv in fake.legacy_invoices] == ["dropped"]


def test_fault_counts_filters_and_clearing(fake):
    health = "/api/v1/health"
    fake.fault("500", health, times=2)
    assert [greenfield(fake, None, "GET", health).status_code for _ in range(3)] == [500, 500, 200]
    fake.fault("500", health, method="POST")
    assert greenfield(fake, None, "GET", health).status_code == 200                  # method filter
    fake.clear_faults()
    fake.fault("500", health, times=None)
    assert [greenfield(fake, None, "GET", health).status_code for _ in range(3)] == [500] * 3
    fake.clear_faults()
    assert greenfield(fake, None, "GET", health).status_code == 200
    with pytest.raises(ValueError):
        fake.fault("teapot")


def test_request_log(fake, key):
    create_gf(fake, key, {"amount": "1"})
    entry = fake.requests[-1]
    assert entry["method"] == "POST"
    assert entry["path"] == f"/api/v1/stores/{fake.default_store_id}/invoices"
    assert entry["headers"]["Authorization"] == f"token {key}"
    assert json.loads(entry["body"]) == {"amount": "1"}
