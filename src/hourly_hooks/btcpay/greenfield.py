"""The Greenfield backend: BTCPay's current REST API over requests.

Only what billing needs: create, search by order id or by the hourly search
term (with paging), get, and the key/health look-ups behind `hourly btcpay check`. Amounts go out as
strings made from Decimal and come back parsed as Decimal.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import List, Optional
from urllib.parse import quote

import requests

from hourly_hooks.btcpay import (ITEM_CODE, METADATA_KEY, MODIFY_PERMISSION, PAGE, PARTLY_PAID,
                                 REQUIRED_PERMISSIONS, BTCPaySettings, CheckResult, Invoice, InvoiceRequest,
                                 invoice_from, state_of)
from hourly_hooks.btcpay import transport
from hourly_hooks.errors import BTCPayError, ConfigError

# Broader permissions that include the two billing needs (BTCPay's policy map).
_INCLUDES = (MODIFY_PERMISSION, "btcpay.store.canmodifystoresettings", "unrestricted")


def broader_than_needed(granted: List[str]) -> List[str]:
    """The permissions of a key that reach beyond invoicing one store.

    Billing needs only canviewinvoices and cancreateinvoice on one store, and
    canmodifyinvoices on it to mark a same-moment duplicate Invalid: an
    unscoped store permission (every store of the user), `unrestricted`, or a
    permission that can change settings is more than a leaked key should be
    able to do.
    """
    broad = []
    for permission in granted:
        name, _, scope = str(permission).partition(":")
        if not (name.startswith("btcpay.store.") and scope) or (name in _INCLUDES and name != MODIFY_PERMISSION):
            broad.append(str(permission))
    return broad


def has_permission(granted: List[str], needed: str, store_id: str) -> bool:
    """Whether a key's permission list covers `needed` on `store_id`.

    A permission is global (`btcpay.store.x`) or scoped (`btcpay.store.x:<storeId>`).
    """
    parts = (str(permission).partition(":") for permission in granted)
    return any((name == needed or name in _INCLUDES) and scope in ("", store_id) for name, _, scope in parts)


class GreenfieldBackend:
    name = "greenfield"
    # Greenfield notifies through store webhooks, not a per-invoice URL.
    supports_notification_url = False

    def __init__(self, host: str, store_id: str, api_key: str, *, insecure: bool = False, timeout=None):
        self.host = transport.normalize_host(host)
        self.store_id = store_id
        self._api_key = api_key
        self._session = transport.build_session(self.host, insecure=insecure,
                                                timeout=transport.parse_timeout(timeout))

    @classmethod
    def from_settings(cls, settings: BTCPaySettings) -> "GreenfieldBackend":
        host = transport.normalize_host(settings.host or "")
        missing = [name for name, value in (("BTCPAYSERVER_STORE_ID", settings.store_id),
                                            ("BTCPAYSERVER_API_KEY", settings.api_key)) if not value]
        if missing:
            raise ConfigError(f"Greenfield needs {' and '.join(missing)} (see `hourly btcpay check`).")
        return cls(host, settings.store_id or "", settings.api_key or "",
                   insecure=settings.insecure, timeout=settings.timeout)

    # -- HTTP ----------------------------------------------------------------

    def _store_path(self, *parts: str) -> str:
        return "/".join(["/api/v1/stores", quote(self.store_id, safe="")] + [quote(p, safe="") for p in parts])

    def _request(self, method: str, path: str, *, stage: Optional[str] = None, what: str = "request",
                 params=None, body=None, auth: bool = True):
        headers = {"Authorization": f"token {self._api_key}"} if auth else {}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        try:
            response = self._session.request(method, self.host + path, params=params, data=data,
                                             headers=headers, allow_redirects=False)
        except requests.RequestException as exc:
            raise transport.network_error(exc, stage=stage, host=self.host) from None
        if response.status_code >= 400:
            raise transport.http_error(response, api="greenfield", stage=stage, what=what,
                                       secrets=(self._api_key,))
        try:
            return response.json()
        except ValueError:
            raise transport.malformed(stage=stage) from None

    # -- Backend -------------------------------------------------------------

    def find(self, order_id: str) -> List[Invoice]:
        data = self._request("GET", self._store_path("invoices"), params={"orderId": order_id},
                             stage="prepare", what="store")
        if not isinstance(data, list):
            raise transport.malformed(stage="prepare")
        invoices = [transport.parse_answer(_invoice, item, stage="prepare") for item in data]
        return [inv for inv in invoices if inv.order_id == order_id]

    def hourly_invoices(self) -> List[Invoice]:
        def page(skip: int):
            params = {"textSearch": ITEM_CODE, "includeArchived": "true", "skip": skip, "take": PAGE}
            return self._request("GET", self._store_path("invoices"), params=params, stage="prepare", what="store")
        return [inv for inv in transport.every_page(page, _invoice, PAGE, "prepare") if inv.time]

    def create(self, request: InvoiceRequest) -> Invoice:
        data = self._request("POST", self._store_path("invoices"), body=self.payload(request),
                             stage="create", what="invoice")
        return transport.parse_answer(_invoice, data, stage="create")

    def get(self, invoice_id: str) -> Invoice:
        return transport.parse_answer(_invoice, self._invoice_route("GET", invoice_id, also_on_403=True))

    def mark_invalid(self, invoice_id: str) -> Invoice:
        body = {"status": "Invalid"}
        return transport.parse_answer(_invoice, self._invoice_route("POST", invoice_id, "status", body=body))

    def _invoice_route(self, method: str, invoice_id: str, *tail: str, body=None, also_on_403: bool = False):
        """/api/v1/invoices/{id}/..., the documented route since 2.4.0 (the status route since 2.4.1);
        on older servers, which answer it with a bare 404 (no route), the store-scoped one.
        also_on_403: a GET of an unknown id gets 403 there (no store to check against), which the
        store-scoped route turns into a precise 404."""
        try:
            path = "/".join(["/api/v1/invoices", *(quote(part, safe="") for part in (invoice_id, *tail))])
            return self._request(method, path, body=body, what="invoice")
        except BTCPayError as error:
            if not ((error.status == 404 and not error.has_body) or (also_on_403 and error.status == 403)):
                raise
        return self._request(method, self._store_path("invoices", invoice_id, *tail), body=body, what="invoice")

    def check(self) -> CheckResult:
        result = CheckResult()
        result.lines.append(("Backend", "greenfield (BTCPay Server REST API)"))
        health = self._request("GET", "/api/v1/health", auth=False, what="health check")
        synced = isinstance(health, dict) and health.get("synchronized")
        result.lines.append(("Server", f"{self.host} (reachable, {'synchronized' if synced else 'NOT synchronized'})"))
        if not synced:
            result.problems.append("The server's node is not synchronized: invoices may not get addresses.")
        key = self._request("GET", "/api/v1/api-keys/current", what="API key")
        granted = key.get("permissions") if isinstance(key, dict) else None
        if not isinstance(granted, list):
            raise transport.malformed()
        label = key.get("label") or "(no label)"
        missing = [p for p in REQUIRED_PERMISSIONS if not has_permission(granted, p, self.store_id)]
        result.lines.append(("API key", f"valid, label {label!r}"))
        result.lines += [(permission, "missing" if permission in missing else "ok")
                         for permission in REQUIRED_PERMISSIONS]
        result.problems += [f"The API key lacks {permission} for store {self.store_id}." for permission in missing]
        result.lines.append(_modify_line(has_permission(granted, MODIFY_PERMISSION, self.store_id)))
        broad = broader_than_needed(granted)
        if broad and not missing:
            result.lines.append(("Warning", f"the key is broader than needed ({', '.join(broad)}): "
                                            f"btcpay.store.canviewinvoices:{self.store_id} and "
                                            f"btcpay.store.cancreateinvoice:{self.store_id} suffice "
                                            f"(with {MODIFY_PERMISSION}:{self.store_id} to mark duplicates)"))
        if "btcpay.store.canviewinvoices" not in missing:
            # Proves the store id: an unknown store answers 403/404 here.
            self._request("GET", self._store_path("invoices"), params={"take": 1}, what="store")
            result.lines.append(("Store", f"{self.store_id} (found)"))
        else:
            result.lines.append(("Store", f"{self.store_id} (not checked: needs canviewinvoices)"))
        return result

    def payload(self, request: InvoiceRequest) -> dict:
        metadata: dict = {"orderId": request.order_id, "itemDesc": request.item_desc, "itemCode": ITEM_CODE,
                          "posData": {METADATA_KEY: request.hourly_data()}}
        if request.buyer_name:
            metadata["buyerName"] = request.buyer_name
        if request.buyer_email:
            metadata["buyerEmail"] = request.buyer_email
        body = {"amount": request.amount_text, "currency": request.currency, "metadata": metadata,
                "additionalSearchTerms": request.search_terms()}
        checkout: dict = {}
        if request.payment_methods:
            checkout["paymentMethods"] = list(request.payment_methods)
        if request.expires_minutes:
            checkout["expirationMinutes"] = int(request.expires_minutes)
        if request.redirect_url:
            checkout["redirectURL"] = request.redirect_url
        if checkout:
            body["checkout"] = checkout
        return body

    def describe(self, request: InvoiceRequest) -> dict:
        return {
            "method": "POST",
            "url": self.host + self._store_path("invoices"),
            "headers": {"Content-Type": "application/json",
                        "Authorization": "token " + transport.mask(self._api_key)},
            "body": self.payload(request),
        }


def _modify_line(granted: bool) -> tuple:
    if granted:
        return (MODIFY_PERMISSION, "ok (a duplicate made by two runs at the same moment is marked Invalid "
                                   "automatically)")
    return (MODIFY_PERMISSION, "missing (optional: with it, a duplicate made by two runs at the same moment "
                               "is marked Invalid automatically; without it you are told which to mark by hand)")


# 1.x servers before the 1.4 rename
_OLD_STATUS = {"paid": "Processing", "complete": "Settled", "confirmed": "Settled"}


def _invoice(data: dict) -> Invoice:
    metadata = data.get("metadata") or {}
    amount = data.get("amount")
    raw = str(data["status"])
    status = state_of(_OLD_STATUS.get(raw.lower(), raw), data.get("additionalStatus"))
    currency = str(data.get("currency") or "")
    paid = None
    if status == PARTLY_PAID and data.get("paidAmount") not in (None, ""):
        paid = f"{Decimal(str(data['paidAmount']))} of {amount} {currency}"
    return invoice_from(id=str(data["id"]), url=str(data["checkoutLink"]),
                        amount=None if amount in (None, "") else Decimal(str(amount)), currency=currency,
                        status=status, raw_status=raw, order_id=metadata.get("orderId"), paid=paid,
                        pos_data=metadata.get("posData"), created=data.get("createdTime"),
                        expires=data.get("expirationTime"), per_second=1)
