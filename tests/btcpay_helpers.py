"""Fixtures and helpers shared by the BTCPay tests.

Test modules import the fixtures they use by name. Everything runs the real
`hourly` click commands against the loopback fake server over HTTP.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import List

import pytest
from click.testing import CliRunner

from btcpay_fake import btcpay_server
from btcpay_openapi import check_exchanges
from hourly_hooks.cli import main
from seed_history import SEED_ARGS, build_seed_repo

PERMISSIONS = ["btcpay.store.cancreateinvoice", "btcpay.store.canviewinvoices"]
SEED_ITEM = "12.91 hours worked from 2020-01-03T18:44:04-05:00 to 2020-01-05T18:34:41-05:00"

_OUTPUTS: List[str] = []  # every output of the current test, for the no-secret check


def hourly(*args: str, input: str = None):
    """Run `hourly ARGS` in-process; the result keeps stdout and stderr apart."""
    result = CliRunner().invoke(main, [str(a) for a in args], input=input)
    _OUTPUTS.append(result.stdout + result.stderr)
    return result


def all_outputs() -> str:
    return "\n".join(_OUTPUTS)


def assert_ok(result) -> None:
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret and secret not in text, "a secret was printed"
    assert "PRIVATE KEY" not in text


def pem_body(pem: str) -> List[str]:
    """The base64 lines of a PEM: any one of them in an output is a leak."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def invoice_posts(fake) -> list:
    return [r for r in fake.requests if r["method"] == "POST" and "invoices" in r["path"]]


def ledger_events(repo) -> list:
    path = Path(repo.path) / ".git" / "hourly" / "invoices.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def ledger_invoice_ids(repo) -> set:
    return {e["invoice_id"] for e in ledger_events(repo) if e.get("invoice_id")}


@pytest.fixture(autouse=True)
def _collect_outputs():
    _OUTPUTS.clear()
    yield
    _OUTPUTS.clear()


@pytest.fixture
def fake():
    """The loopback server; afterwards its Greenfield traffic is held to BTCPay's OpenAPI
    document (when ../shared holds it): every body the client sent, every 2xx answer."""
    with btcpay_server() as server:
        yield server
    check_exchanges(server.requests)


@pytest.fixture
def seed(repo, monkeypatch):
    """The seed's history, with the current directory inside it."""
    build_seed_repo(repo)
    repo.git("config", "user.email", "apembroke@gmail.com")
    repo.git("config", "user.name", "Asher Pembroke")
    monkeypatch.chdir(repo.path)
    return repo


@pytest.fixture
def legacy(fake, seed, monkeypatch) -> dict:
    """Seed steps 1-5 through the CLI: keygen, pairing code, pair, env."""
    assert_ok(hourly("btcpay", "keygen"))
    code = fake.new_pairing_code()
    result = hourly("btcpay", "pair", code, "--host", fake.url)
    assert_ok(result)
    match = re.fullmatch(r"export BTCPAYSERVER_MERCHANT=(\S+)\n", result.stdout)
    assert match, result.stdout
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_MERCHANT", match.group(1))
    pem = (Path(seed.path) / "btcpayserver.pem").read_text()
    _OUTPUTS.clear()  # pairing prints the token on purpose; nothing after it may
    return {"token": match.group(1), "pem": pem, "secrets": [match.group(1), *pem_body(pem)]}


@pytest.fixture
def greenfield(fake, seed, monkeypatch) -> dict:
    store = fake.new_store(name="Asher's store")
    key = fake.new_api_key(PERMISSIONS, store_id=store)
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_STORE_ID", store)
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", key)
    return {"store": store, "api_key": key, "secrets": [key]}


__all__ = ["PERMISSIONS", "SEED_ARGS", "SEED_ITEM", "hourly", "all_outputs", "assert_ok",
           "assert_no_secret", "pem_body", "invoice_posts", "ledger_events", "ledger_invoice_ids",
           "_collect_outputs", "fake", "seed", "legacy", "greenfield", "socks_proxy", "Socks5Proxy"]


# -- a minimal SOCKS5 proxy (RFC 1928, CONNECT, no auth), to prove Tor-style routing ------

class Socks5Proxy:
    """Relays CONNECTs and records the host names asked for; `.onion` names go to `onion_target`."""

    def __init__(self, onion_target=None):
        import socket
        import threading

        self.onion_target = onion_target          # (host, port) every .onion resolves to
        self.connects: List[tuple] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"socks5h://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        import threading
        while True:
            try:
                client, _ = self._socket.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    @staticmethod
    def _read(sock, n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _handle(self, client):
        import socket
        import threading
        try:
            _, count = self._read(client, 2)
            self._read(client, count)
            client.sendall(b"\x05\x00")                       # no authentication
            _, command, _, kind = self._read(client, 4)
            if kind == 3:
                host = self._read(client, self._read(client, 1)[0]).decode()
            elif kind == 1:
                host = socket.inet_ntoa(self._read(client, 4))
            else:
                host = socket.inet_ntop(socket.AF_INET6, self._read(client, 16))
            port = int.from_bytes(self._read(client, 2), "big")
            self.connects.append((host, port))
            target = self.onion_target if host.endswith(".onion") else (host, port)
            upstream = socket.create_connection(target)
            client.sendall(b"\x05\x00\x00\x01" + b"\x00" * 6)
        except (OSError, ConnectionError):
            client.close()
            return

        def pump(source, sink):
            try:
                while True:
                    data = source.recv(65536)
                    if not data:
                        break
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                for s in (source, sink):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)

    def close(self):
        self._socket.close()


@pytest.fixture
def socks_proxy(fake):
    host, port = fake.url.rsplit("//", 1)[1].split(":")
    proxy = Socks5Proxy(onion_target=(host, int(port)))
    yield proxy
    proxy.close()
