"""The legacy (BitPay-compatible) backend, through btcpay-python.

btcpay-python is unmaintained and has defects that bite:
no timeouts, a trailing slash on the host breaks the signature, GET errors
lose the body, odd answers raise KeyError/IndexError. It is wrapped here, not
forked: the host is normalised, its requests session is replaced by ours
(timeout, TLS, proxies, Decimal JSON), and every exception is mapped to one
BTCPayError line. The client is rebuilt on demand from host, key and token:
nothing is pickled or stored.
"""

from __future__ import annotations

import json
import re
import time
from decimal import Decimal, InvalidOperation
from typing import Callable, List, Optional

import requests
from btcpay import BTCPayClient, crypto

from hourly_hooks.btcpay import (ITEM_CODE, METADATA_KEY, PAGE, PARTLY_PAID, BTCPaySettings, CheckResult, Invoice,
                                 InvoiceRequest, invoice_from, state_of)
from hourly_hooks.btcpay import keys, transport
from hourly_hooks.errors import ConfigError, UsageError

# BTCPay's pairing codes are 7 base58 characters; checked before any request
# so a typo never reaches the server (and never consumes a real code).
PAIRING_CODE = re.compile(r"^[A-Za-z0-9]{7}$")

# Legacy status + exceptionStatus, as Greenfield's status + additionalStatus.
_STATUS = {"new": "New", "paid": "Processing", "processing": "Processing",
           "confirmed": "Settled", "complete": "Settled", "settled": "Settled",
           "expired": "Expired", "invalid": "Invalid"}
_EXCEPTION = {"paidlater": "PaidLate", "paidpartial": "PaidPartial", "paidover": "PaidOver", "marked": "Marked"}

# Legacy `paymentCurrencies` ids: "BTC" means on-chain only; the 2.x ids are
# accepted too, but "BTC" also works on 1.x servers.
_LEGACY_METHOD = {"BTC-CHAIN": "BTC"}


def check_pairing_code(code: str) -> str:
    code = (code or "").strip()
    if not PAIRING_CODE.match(code):
        raise UsageError("A pairing code is 7 letters or digits (Store → Settings → Access Tokens → "
                         "Create a new token, public key left blank).")
    return code


class LegacyBackend:
    name = "legacy"

    def __init__(self, host: str, pem: str, token: Optional[str] = None, *, insecure: bool = False, timeout=None):
        self.host = transport.normalize_host(host)
        self._pem = pem
        self._token = token
        self._session = transport.build_session(self.host, insecure=insecure,
                                                timeout=transport.parse_timeout(timeout))

    @classmethod
    def from_settings(cls, settings: BTCPaySettings, *, need_token: bool = True) -> "LegacyBackend":
        host = transport.normalize_host(settings.host or "")  # fail on the host before reading the key
        if need_token and not settings.merchant_token:
            raise ConfigError("No merchant token: set BTCPAYSERVER_MERCHANT (printed by `hourly btcpay pair CODE`).")
        pem = keys.load_pem(settings.pem, settings.repo_root)
        return cls(host, pem, settings.merchant_token, insecure=settings.insecure, timeout=settings.timeout)

    # -- the client, rebuilt on demand --------------------------------------

    def _client(self) -> BTCPayClient:
        tokens = {"merchant": self._token} if self._token else None
        client = BTCPayClient(host=self.host, pem=self._pem, tokens=tokens)
        # Keep btcpay-python's headers (the server routes GET /invoices/{id}
        # on Content-Type), but send them through our session.
        for name, value in client.s.headers.items():
            if name.lower() not in ("user-agent", "accept-encoding", "connection"):
                self._session.headers[name] = value
        client.s = self._session
        return client

    def _call(self, action: Callable, *, stage: Optional[str] = None, what: str = "request"):
        try:
            return action(self._client())
        except requests.HTTPError as exc:
            if exc.response is None:
                raise transport.malformed(stage=stage) from None
            raise transport.http_error(exc.response, api="legacy", stage=stage, what=what,
                                       secrets=(self._token,)) from None
        except requests.exceptions.JSONDecodeError:
            raise transport.malformed(stage=stage) from None
        except requests.RequestException as exc:
            raise transport.network_error(exc, stage=stage, host=self.host) from None
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, InvalidOperation):
            raise transport.malformed(stage=stage) from None

    # -- Backend -------------------------------------------------------------

    def pair(self, code: str) -> str:
        """Pair the key with the store behind `code`; returns the merchant token."""
        code = check_pairing_code(code)

        def action(client):
            tokens = client.pair_client(code)
            token = tokens.get("merchant") or next(iter(tokens.values()))
            if not isinstance(token, str) or not token:
                raise ValueError("no token")
            return token

        return self._call(action, what="pairing code")

    def find(self, order_id: str) -> List[Invoice]:
        data = self._call(lambda c: c.get_invoices(order_id=order_id), stage="prepare", what="store")
        if not isinstance(data, list):
            raise transport.malformed(stage="prepare")
        # Filter here too: a server that ignores the filter must not make
        # another order's invoice look like this one.
        invoices = [transport.parse_answer(_invoice, item, stage="prepare") for item in data]
        return [inv for inv in invoices if inv.order_id == order_id]

    def hourly_invoices(self) -> List[Invoice]:
        def page(offset: int):
            return self._call(lambda client: client.get_invoices(item_code=ITEM_CODE, limit=PAGE, offset=offset),
                              stage="prepare", what="store")
        return [inv for inv in transport.every_page(page, _invoice, PAGE, "prepare") if inv.time]

    def create(self, request: InvoiceRequest) -> Invoice:
        payload = self.payload(request)
        data = self._call(lambda c: c.create_invoice(payload), stage="create", what="invoice")
        return transport.parse_answer(_invoice, data, stage="create")

    def get(self, invoice_id: str) -> Invoice:
        data = self._call(lambda c: c.get_invoice(invoice_id), what="invoice")
        return transport.parse_answer(_invoice, data)

    def mark_invalid(self, invoice_id: str) -> Invoice:
        # The BitPay-compatible API has no way to change an invoice's status.
        raise NotImplementedError("the legacy API cannot mark an invoice invalid")

    def check(self) -> CheckResult:
        result = CheckResult([("Backend", "legacy (BitPay-compatible API, btcpay-python)"), ("Server", self.host),
                              ("Key", f"SIN {crypto.get_sin_from_pem(self._pem)}")])
        if not self._token:
            result.problems.append("BTCPAYSERVER_MERCHANT is not set: pair with `hourly btcpay pair CODE`.")
            return result
        # Listing invoices needs a paired key: 401 bad signature, 403 unpaired.
        self._call(lambda c: c.get_invoices(limit=1), what="store")
        result.lines += [("Store", "the key is paired; invoices can be listed and created"),
                         ("Duplicates", "marked by hand: the legacy API cannot mark an invoice Invalid (the "
                                        "Greenfield API with btcpay.store.canmodifyinvoices does it automatically)")]
        return result

    def payload(self, request: InvoiceRequest) -> dict:
        # price goes out as a string made from the Decimal: BTCPay parses it as
        # a decimal (Newtonsoft reads "1291.31" into decimal), and no float
        # ever sees the amount (a float would send 1291.3055555555554).
        payload: dict = {
            "price": request.amount_text,
            "currency": request.currency,
            "orderId": request.order_id,
            "itemDesc": request.item_desc,
            "itemCode": ITEM_CODE,
            # A JSON-object string: the server stores it as metadata.posData,
            # which Greenfield then reads back as an object.
            "posData": json.dumps({METADATA_KEY: request.hourly_data()}, sort_keys=True),
        }
        buyer = {k: v for k, v in (("name", request.buyer_name), ("email", request.buyer_email)) if v}
        if buyer:
            payload["buyer"] = buyer
        if request.notification_url:
            payload["notificationURL"] = request.notification_url
            payload["fullNotifications"] = True
            payload["extendedNotifications"] = True
        if request.redirect_url:
            payload["redirectURL"] = request.redirect_url
        if request.payment_methods:
            payload["paymentCurrencies"] = [_LEGACY_METHOD.get(m, m) for m in request.payment_methods]
        if request.expires_minutes:
            # The legacy API takes an absolute expiry, in unix milliseconds.
            payload["expirationTime"] = int(time.time() + request.expires_minutes * 60) * 1000
        return payload

    def describe(self, request: InvoiceRequest) -> dict:
        body = dict(self.payload(request))
        body["token"] = transport.mask(self._token)  # btcpay-python adds the token to the body
        return {
            "method": "POST",
            "url": self.host + "/invoices/",
            "headers": {
                "Content-Type": "application/json",
                "X-Identity": crypto.get_compressed_public_key_from_pem(self._pem),
                "X-Signature": "(ECDSA signature of url + body, made when sent)",
            },
            "body": body,
        }


def _invoice(data: dict) -> Invoice:
    exception = data.get("exceptionStatus")
    additional = _EXCEPTION.get(str(exception).lower()) if isinstance(exception, str) else None
    status = state_of(_STATUS[str(data["status"]).lower()], additional)
    paid = None
    if status == PARTLY_PAID and data.get("btcPaid") not in (None, "") and data.get("btcPrice"):
        paid = f"{Decimal(str(data['btcPaid']))} of {Decimal(str(data['btcPrice']))} BTC"
    return invoice_from(id=str(data["id"]), url=str(data["url"]),
                        amount=None if data.get("price") is None else Decimal(str(data["price"])),
                        currency=str(data.get("currency") or ""), status=status, raw_status=str(data["status"]),
                        order_id=data.get("orderId"), paid=paid, pos_data=data.get("posData"),
                        created=data.get("invoiceTime"), expires=data.get("expirationTime"), per_second=1000)
