"""Transient failures: a read (GET) is tried again, a create (POST) never is (issue 16 §6).

Both APIs, the real CLI and backends, against the loopback server's faults: a dropped
connection, a proxy's 502/503/504 while the server restarts, a 429 with Retry-After.
"""

from __future__ import annotations

import json
import time

import pytest

from btcpay_helpers import _collect_outputs, assert_ok, fake, hourly, invoice_posts, ledger_events  # noqa: F401
from test_billing import MONTH, _setup_greenfield, api, month  # noqa: F401
from hourly_hooks.btcpay import settings_from, transport
from hourly_hooks.btcpay.greenfield import GreenfieldBackend
from hourly_hooks.errors import BTCPayError


def invoice_gets(fake) -> list:
    return [r["path"] for r in fake.requests if r["method"] == "GET" and "invoices" in r["path"]]


@pytest.fixture
def greenfield_month(fake, month, monkeypatch) -> str:
    return _setup_greenfield(fake, monkeypatch)


def backend() -> GreenfieldBackend:
    return GreenfieldBackend.from_settings(settings_from({}))


# -- a GET recovers ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["503", "drop"])
def test_a_listing_recovers_after_two_failed_reads(api, fake, month, kind):
    assert_ok(hourly("invoice", *MONTH, "--yes"))
    [created] = fake.invoices(api)
    before = len(invoice_gets(fake))
    fake.fault(kind, "invoices", method="GET", times=2)
    listing = hourly("invoices", "--json")
    assert_ok(listing)
    assert "not refreshed" not in listing.stderr
    [row] = json.loads(listing.stdout)["invoices"]
    assert (row["id"], row["status"]) == (created["id"], "open")
    gets = invoice_gets(fake)[before:]
    assert gets[0] == gets[1] == gets[2]                 # the same request, sent three times
    assert len(gets) >= 3


@pytest.mark.parametrize("kind", ["502", "504", "drop"])
def test_a_read_recovers_from_a_gateway_answer_or_a_drop(greenfield_month, fake, kind):
    fake.fault(kind, "invoices", method="GET", times=RETRIES_WITHIN_BUDGET)
    assert backend().find("o-1") == []
    assert len(invoice_gets(fake)) == RETRIES_WITHIN_BUDGET + 1


RETRIES_WITHIN_BUDGET = transport.RETRIES      # every retry is spent, the last one answers


def test_a_rate_limit_waits_what_retry_after_asks(greenfield_month, fake):
    fake.retry_after = "1"
    fake.fault("429", "invoices", method="GET")
    started = time.monotonic()
    assert backend().find("o-1") == []
    assert time.monotonic() - started >= 0.9
    assert len(invoice_gets(fake)) == 2


def test_a_retry_after_beyond_the_budget_is_not_waited_for(greenfield_month, fake):
    fake.retry_after = "3600"
    fake.fault("429", "invoices", method="GET")
    started = time.monotonic()
    result = hourly("invoice", *MONTH, "--yes")
    assert time.monotonic() - started < 5
    assert result.exit_code == 5, result.output
    assert "BTCPay Server is limiting requests (429), and asks to wait 3600 s" in result.stderr
    assert "nothing was created" in result.stderr
    assert len(invoice_gets(fake)) == 1 and fake.invoices(greenfield_month) == []


def test_a_server_that_stays_down_is_given_up_on_within_the_budget(greenfield_month, fake):
    fake.fault("503", "invoices", method="GET", times=None)
    started = time.monotonic()
    with pytest.raises(BTCPayError) as raised:
        backend().find("o-1")
    assert time.monotonic() - started < transport.RETRY_BUDGET
    assert "BTCPay Server failed (503 Service Unavailable); nothing was created." == raised.value.message
    assert len(invoice_gets(fake)) == transport.RETRIES + 1


def test_a_read_timeout_and_a_500_are_not_retried(greenfield_month, fake, monkeypatch):
    fake.fault("500", "invoices", method="GET")
    with pytest.raises(BTCPayError):
        backend().find("o-1")
    assert len(invoice_gets(fake)) == 1
    monkeypatch.setenv("BTCPAYSERVER_TIMEOUT", "0.3")
    fake.delay_seconds = 0.8
    fake.fault("delay", "invoices", method="GET")
    with pytest.raises(BTCPayError) as raised:
        backend().find("o-1")
    assert "timed out" in raised.value.message
    assert len(invoice_gets(fake)) == 2


def test_a_redirect_is_neither_followed_nor_retried(greenfield_month, fake):
    fake.redirect_status, fake.redirect_location = 302, "https://elsewhere.example/api"
    fake.fault("redirect", "invoices", method="GET", times=None)
    with pytest.raises(BTCPayError) as raised:
        backend().find("o-1")
    assert "answered 302 (a redirect)" in raised.value.message
    assert len(invoice_gets(fake)) == 1


# -- a create is never sent twice -------------------------------------------------------------

@pytest.mark.parametrize("kind", ["503", "502", "drop"])
def test_a_failed_create_is_not_sent_again(api, fake, month, kind):
    fake.fault(kind, "invoices", method="POST")
    result = hourly("invoice", *MONTH, "--yes")
    assert result.exit_code == 5, result.output
    assert len(invoice_posts(fake)) == 1                  # one POST: no retry of a create
    assert fake.invoices(api) == []
    assert [e["event"] for e in ledger_events(month)][-1] in ("pending", "unclear")
    if kind == "drop":                                    # no answer: the time waits, nothing is sent
        blocked = hourly("invoice", *MONTH, "--yes")
        assert blocked.exit_code == 1 and "got no answer" in blocked.stderr
        assert len(invoice_posts(fake)) == 1
        return
    again = hourly("invoice", *MONTH, "--yes")            # an error answer: asked by order id, then made
    assert_ok(again)
    assert len(invoice_posts(fake)) == 2 and len(fake.invoices(api)) == 1
