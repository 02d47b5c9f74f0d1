"""Billed time stays billed when identities change (issue 14, section 3): held time is
matched by the marker commits' raw authors and their time, not by the identity string in
use when it was billed. On both APIs, against the loopback server."""

from __future__ import annotations

import json

import pytest
import requests

from btcpay_helpers import PERMISSIONS, _collect_outputs, assert_ok, fake, hourly, invoice_posts  # noqa: F401
from test_billing import MONTH, api, month  # noqa: F401

CHANGES = {
    "name": ["-c", "identity=name"],
    "name+email": ["-c", "identity=name+email"],
    "mailmap": [],
}


def _change(kind: str, month) -> list:
    if kind == "mailmap":   # the same commits, now shown under another name and email
        (month.path / ".mailmap").write_text("Alice Newname <alice@new.example> <alice@example.com>\n")
    return CHANGES[kind]


@pytest.mark.parametrize("kind", sorted(CHANGES))
def test_an_identity_change_after_billing_bills_nothing_again(api, fake, month, kind):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [billed] = fake.invoices(api)
    carried = billed["metadata"]["posData"]["hourlyHooks"]
    # v3 (the timesheet) keeps v2's raw authors.
    assert carried["v"] == 3 and list(carried["authors"]) == ["alice@example.com"]
    flags = _change(kind, month)
    again = hourly(*flags, "invoice", *MONTH, "--yes", "--author", "alice")
    assert_ok(again)
    assert "Success!" not in again.stdout and len(invoice_posts(fake)) == 1, again.stdout
    assert [inv["id"] for inv in fake.invoices(api)] == [billed["id"]]
    report = hourly(*flags, "report", *MONTH, "--format", "json", "--author", "alice")
    assert_ok(report)
    assert {s["invoice"] for s in json.loads(report.stdout)["sessions"]} == {billed["id"]}


def test_identity_strings_are_not_what_holds(api, fake, month):
    """A second person with the first one's name is not held by her invoice: the raw author decides."""
    month.commit("clock-in", "2026-11-20T09:00:00+00:00", name="Bob Stone", email="bob@example.com")
    month.commit("clock-out", "2026-11-20T10:00:00+00:00", name="Bob Stone", email="bob@example.com")
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    result = hourly("-c", "identity=name", "invoice", *MONTH, "--yes", "--author", "bob")
    assert_ok(result)
    assert "Success!" in result.stdout and len(fake.invoices(api)) == 2


def _v1_invoice(fake, store: str, key: str) -> dict:
    """An invoice as the previous version made it: posData time keyed by the identity only."""
    hourly_data = {"v": 1, "hours": "6.00", "time": {"alice@example.com": [
        ["2026-11-02T09:00:00Z", "2026-11-02T11:00:00Z"], ["2026-11-04T13:00:00Z", "2026-11-04T16:00:00Z"],
        ["2026-11-10T08:00:00Z", "2026-11-10T09:00:00Z"]]}}
    body = {"amount": "600.00", "currency": "USD", "additionalSearchTerms": ["hourly-hooks"],
            "metadata": {"orderId": "hourly-v1", "itemCode": "hourly-hooks", "posData": {"hourlyHooks": hourly_data}}}
    answer = requests.post(f"{fake.url}/api/v1/stores/{store}/invoices", json=body, timeout=10,
                           headers={"Authorization": f"token {key}", "User-Agent": "hourly-hooks"})
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("kind", sorted(CHANGES))
def test_an_invoice_of_the_previous_version_still_holds_after_a_change(fake, month, monkeypatch, kind):
    store = fake.new_store()
    key = fake.new_api_key(PERMISSIONS, store_id=store)
    for name, value in (("BTCPAYSERVER_HOST", fake.url), ("BTCPAYSERVER_STORE_ID", store),
                        ("BTCPAYSERVER_API_KEY", key)):
        monkeypatch.setenv(name, value)
    old = _v1_invoice(fake, store, key)
    result = hourly(*_change(kind, month), "invoice", *MONTH, "--yes", "--author", "alice")
    assert_ok(result)
    assert [inv["id"] for inv in fake.invoices(store)] == [old["id"]], result.stdout
    assert old["id"] in result.stdout


def test_your_own_address_mapped_by_mailmap_is_still_yours(api, fake, month):
    """`hourly invoice` finds your sessions by git user.email; once .mailmap maps that address,
    history reads it mapped, so the invoice looks for the mapped one (and still bills nothing twice)."""
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    month.git("config", "user.name", "Alice Martin")
    for line in ("Alice Newname <alice@new.example> <alice@example.com>",                # by address
                 "Alice Newname <alice@new.example> Alice Martin <alice@example.com>"):  # by name and address
        (month.path / ".mailmap").write_text(line + "\n")
        again = hourly("invoice", *MONTH, "--yes")
        assert_ok(again)
        assert "Nothing left to bill" in again.stdout and "Alice Newname <alice@new.example>" in again.stdout
    assert len(invoice_posts(fake)) == 1
