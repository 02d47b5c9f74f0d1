"""No request that carries credentials follows a redirect, on either API.

A 3xx from the BTCPay host (a proxy's http -> https, a wrong path, a hostile
server) is an error naming where it pointed; a second loopback server stands
at the Location and counts what reaches it: nothing may.
"""

from __future__ import annotations

import pytest

from btcpay_fake import btcpay_server
from btcpay_helpers import *  # noqa: F401,F403 (fixtures)
from btcpay_helpers import SEED_ARGS, assert_no_secret, hourly, invoice_posts, ledger_events

REDIRECTS = (301, 302, 307, 308)


@pytest.fixture
def elsewhere(fake):
    """A second server at the redirect's Location, with a key-like query and userinfo in it."""
    with btcpay_server() as other:
        fake.redirect_location = other.url.replace("http://", "http://user:hunter2@") + \
            "/invoices/?token=QUERYSECRET"
        yield other


def _says_redirect(result, fake, other, status: int) -> None:
    assert result.exit_code == 5, (result.exit_code, result.stdout, result.stderr)
    line = result.stderr.strip().splitlines()[0]
    assert f"answered {status} (a redirect) to {other.url}/invoices/" in line
    assert "not followed" in line and "--host, BTCPAYSERVER_HOST or [btcpay] host" in line
    assert "QUERYSECRET" not in result.stderr + result.stdout
    assert "hunter2" not in result.stderr + result.stdout
    assert other.requests == []  # nothing reached the Location


@pytest.mark.parametrize("status", REDIRECTS)
def test_legacy_create_does_not_follow_a_redirect(legacy, fake, seed, elsewhere, status):
    fake.redirect_status = status
    fake.fault("redirect", "/invoices", method="POST")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    _says_redirect(result, fake, elsewhere, status)
    assert len(invoice_posts(fake)) == 1
    assert_no_secret(result.stdout + result.stderr, *legacy["secrets"])
    # Nothing was created there: the time is released, and the next run bills it once.
    assert [e["event"] for e in ledger_events(seed)] == ["pending", "failed"]
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 0, result.stderr
    assert len(invoice_posts(fake)) == 2 and elsewhere.requests == []


@pytest.mark.parametrize("status", REDIRECTS)
def test_greenfield_create_does_not_follow_a_redirect(greenfield, fake, elsewhere, status):
    fake.redirect_status = status
    fake.fault("redirect", "/invoices", method="POST")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    _says_redirect(result, fake, elsewhere, status)
    assert_no_secret(result.stdout + result.stderr, *greenfield["secrets"])


def test_legacy_lookups_and_pairing_do_not_follow_a_redirect(legacy, fake, elsewhere):
    fake.fault("redirect", "/invoices", method="GET")
    _says_redirect(hourly("btcpay", "check"), fake, elsewhere, 302)
    fake.fault("redirect", "/tokens")
    _says_redirect(hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url), fake, elsewhere, 302)


def test_greenfield_lookups_do_not_follow_a_redirect(greenfield, fake, elsewhere):
    fake.fault("redirect", "/api/v1/", method="GET", times=None)
    _says_redirect(hourly("btcpay", "check"), fake, elsewhere, 302)
    _says_redirect(hourly("invoice", *SEED_ARGS, "--yes"), fake, elsewhere, 302)
    assert invoice_posts(fake) == []  # the look-up failed first: no create was sent


def test_a_redirect_to_https_on_the_same_name_suggests_the_host_to_set(legacy, fake):
    fake.redirect_location = fake.url.replace("http://", "https://") + "/invoices/"
    fake.fault("redirect", "/invoices", method="POST")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 5
    assert f"e.g. {fake.url.replace('http://', 'https://')}." in result.stderr


def test_another_name_is_named_never_suggested(legacy, fake, elsewhere):
    fake.redirect_location = elsewhere.url + "/invoices/"
    fake.fault("redirect", "/invoices", method="POST")
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert f"to {elsewhere.url}/invoices/;" in result.stderr and "e.g." not in result.stderr
