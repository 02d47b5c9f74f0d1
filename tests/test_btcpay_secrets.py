"""Credentials: never in clear beyond loopback, private directories, per-repository
pairing, and keys broader than billing needs."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from btcpay_helpers import (PERMISSIONS, SEED_ARGS, _collect_outputs, assert_ok, fake, greenfield,  # noqa: F401
                            hourly, legacy, seed, socks_proxy)
from gitrepo import GitRepo


def test_plain_http_to_loopback_through_a_proxy_is_refused(greenfield, fake, seed, socks_proxy, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_PROXY", socks_proxy.url)
    for args in (("invoice", *SEED_ARGS, "--yes"), ("btcpay", "check")):
        result = hourly(*args)
        assert result.exit_code == 4, result.stdout + result.stderr
        assert "Refusing to send credentials over plain http://" in result.stderr
    assert socks_proxy.connects == [] and fake.requests == []


def test_plain_http_to_loopback_without_a_proxy_still_works(greenfield, fake, seed):
    assert_ok(hourly("btcpay", "check"))


@pytest.fixture
def open_umask():
    previous = os.umask(0)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_pair_save_keeps_host_and_token_in_this_repository(fake, seed, tmp_path, monkeypatch, open_umask):
    assert_ok(hourly("btcpay", "keygen"))
    result = hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url, "--save")
    assert_ok(result)
    assert result.stdout == ""
    saved = Path(seed.path) / ".git" / "hourly" / "config.toml"
    assert _mode(saved) == 0o600 and _mode(saved.parent) == 0o700
    text = saved.read_text()
    assert f'host = "{fake.url}"' in text and "merchant_token = " in text
    user_file = Path(os.environ["XDG_CONFIG_HOME"]) / "hourly" / "config.toml"
    assert not user_file.exists()
    assert seed.git("status", "--porcelain") == "?? .gitignore\n"     # keygen's rule only
    # this repository invoices with it, without any environment ...
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    assert len(fake.legacy_invoices) == 1
    # ... and another repository of the same user is not switched to that server
    other = GitRepo(tmp_path / "other")
    monkeypatch.chdir(other.path)
    check = hourly("btcpay", "check")
    assert check.exit_code == 4 and fake.url not in check.stdout + check.stderr


def test_pair_save_global_creates_private_directories_under_umask_000(fake, seed, open_umask, monkeypatch,
                                                                        tmp_path):
    config_home = tmp_path / "fresh-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    assert_ok(hourly("btcpay", "keygen"))
    assert_ok(hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url, "--save", "--global"))
    user_file = config_home / "hourly" / "config.toml"
    assert _mode(user_file) == 0o600
    assert _mode(config_home / "hourly") == 0o700 and _mode(config_home) == 0o700


def test_the_ledger_directory_is_private_under_umask_000(greenfield, fake, seed, open_umask):
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    ledger = Path(seed.path) / ".git" / "hourly" / "invoices.jsonl"
    assert _mode(ledger) == 0o600 and _mode(ledger.parent) == 0o700


def test_global_without_save_is_a_usage_error(fake, seed):
    result = hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url, "--global")
    assert result.exit_code == 2 and "--save" in result.stderr


def test_check_says_a_key_for_every_store_is_broader_than_needed(greenfield, fake, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", fake.new_api_key(PERMISSIONS))          # not scoped
    result = hourly("btcpay", "check")
    assert_ok(result)
    assert "broader than needed (btcpay.store.cancreateinvoice, btcpay.store.canviewinvoices)" in result.stdout
    store = greenfield["store"]
    assert (f"btcpay.store.canviewinvoices:{store} and btcpay.store.cancreateinvoice:{store} suffice"
            in result.stdout)


def test_check_with_exactly_the_needed_permissions_has_no_warning(greenfield):
    result = hourly("btcpay", "check")
    assert_ok(result)
    assert "broader" not in result.stdout and "Ready to invoice." in result.stdout


def test_check_says_an_unrestricted_key_is_broader_than_needed(greenfield, fake, monkeypatch):
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", fake.new_api_key(["unrestricted"]))
    result = hourly("btcpay", "check")
    assert_ok(result)
    assert "broader than needed (unrestricted)" in result.stdout
