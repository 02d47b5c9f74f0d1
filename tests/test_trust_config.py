"""The configuration trust boundary (issue 14, section 1), tested as an attacker would.

A cloned repository's tracked `.hourly.toml` or `[tool.hourly]` points the
BTCPay settings at a second loopback listener that counts what reaches it; the
user's credentials are in the user file or the environment. Nothing may reach
the listener, the user's server gets the requests, and each command says in one
line which key it ignored and where to set it instead.
"""

from __future__ import annotations

import json
import os
import re
import socketserver
import threading
from pathlib import Path

import pytest

from btcpay_helpers import (PERMISSIONS, SEED_ARGS, _collect_outputs, assert_ok, fake, hourly,  # noqa: F401
                            invoice_posts, legacy, seed)


class Listener(socketserver.ThreadingTCPServer):
    """A loopback TCP listener that counts the connections made to it (and answers nothing)."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), socketserver.BaseRequestHandler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.connections = 0
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def verify_request(self, request, client_address) -> bool:
        self.connections += 1
        return False                                  # closed at once: nothing is answered

    def close(self):
        self.shutdown()
        self.server_close()


@pytest.fixture
def attacker():
    listener = Listener()
    yield listener
    listener.close()


def user_file() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "hourly" / "config.toml"


def write_user_file(text: str) -> Path:
    path = user_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o600)
    return path


def hostile(attacker, store="attacker-store") -> dict:
    """Every user-only key, each pointing away from the user's own setup (backend: the other API)."""
    return {"host": attacker.url, "insecure": "true", "store_id": f'"{store}"', "backend": '"legacy"',
            "pem": '"stolen.pem"', "redirect_url": '"https://phish.example/paid"',
            "notification_url": '"https://spy.example/ipn"'}


def write_repo_settings(seed, where: str, settings: dict) -> Path:
    lines = "".join(f"{key} = {value if key == 'insecure' else json.dumps(value) if key == 'host' else value}\n"
                    for key, value in settings.items())
    if where == "pyproject":
        path = Path(seed.path) / "pyproject.toml"
        path.write_text(f'[project]\nname = "x"\n\n[tool.hourly.btcpay]\n{lines}')
    else:
        path = Path(seed.path) / ".hourly.toml"
        path.write_text(f'# the team\nrate = "100 USD"\n\n[btcpay]\n{lines}')
    seed.git("add", path.name)
    seed.git("commit", "-q", "-m", "team settings")
    return path


@pytest.fixture
def user_greenfield(fake, seed, monkeypatch) -> dict:
    """The user's Greenfield credentials in the user file, none in the environment."""
    store = fake.new_store(name="Asher's store")
    key = fake.new_api_key(PERMISSIONS + ["btcpay.store.canmodifystoresettings"], store_id=store)
    write_user_file(f'[btcpay]\nhost = "{fake.url}"\nstore_id = "{store}"\napi_key = "{key}"\n'
                    'redirect_url = "https://me.example/thanks"\n')
    return {"store": store, "api_key": key}


def _notice_keys(stderr: str) -> list:
    return re.findall(r"^Warning: \S+: '(btcpay\.\w+)' is ignored \(", stderr, re.MULTILINE)


USER_ONLY = ["btcpay.host", "btcpay.insecure", "btcpay.store_id", "btcpay.backend", "btcpay.pem",
             "btcpay.redirect_url", "btcpay.notification_url"]


@pytest.mark.parametrize("where", ["repo", "pyproject"])
def test_a_cloned_repository_cannot_send_greenfield_credentials_elsewhere(user_greenfield, fake, seed, attacker,
                                                                           where):
    write_repo_settings(seed, where, hostile(attacker))
    made = hourly("invoice", *SEED_ARGS, "--yes")
    assert_ok(made)
    listed = hourly("invoices")
    assert_ok(listed)
    checked = hourly("btcpay", "check")
    assert_ok(checked)
    assert attacker.connections == 0
    [created] = fake.invoices(user_greenfield["store"])
    body = json.loads(invoice_posts(fake)[0]["body"])
    assert body["checkout"]["redirectURL"] == "https://me.example/thanks"      # the user's, not the repository's
    assert "spy.example" not in json.dumps(body)
    for result in (made, listed, checked):                                    # one line per key, every command
        assert sorted(_notice_keys(result.stderr)) == sorted(USER_ONLY), result.stderr
        assert "Accept" not in result.stderr and "self-signed" not in result.stderr.lower()
    name = ".hourly.toml" if where == "repo" else "pyproject.toml"
    line = next(line for line in made.stderr.splitlines() if "'btcpay.host'" in line)
    assert line == (f"Warning: {name}:5: 'btcpay.host' is ignored (a repository's files may not choose "
                    "where your credentials and invoices go, or how): set it in your user file "
                    "~/.config/hourly/config.toml [btcpay], this clone's .git/hourly/config.toml, "
                    "BTCPAYSERVER_HOST or --host.")
    redirect = next(line for line in made.stderr.splitlines() if "'btcpay.redirect_url'" in line)
    assert redirect.endswith("this clone's .git/hourly/config.toml or -c btcpay.redirect_url=VALUE.")
    assert _notice_keys(made.stderr) == USER_ONLY                           # in the file's order


def test_a_cloned_repository_cannot_send_the_legacy_token_elsewhere(legacy, fake, seed, attacker, monkeypatch):
    # The user's host in the user file, the token in the environment (as `pair` advises).
    monkeypatch.delenv("BTCPAYSERVER_HOST")
    write_user_file(f'[btcpay]\nhost = "{fake.url}"\n')
    settings = hostile(attacker)
    settings.update(backend='"greenfield"', pem='"attacker.pem"')        # the other API than the user's
    write_repo_settings(seed, "repo", settings)
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))
    assert_ok(hourly("invoices"))
    assert_ok(hourly("btcpay", "check"))
    assert attacker.connections == 0
    assert len(fake.legacy_invoices) == 1
    assert "phish.example" not in invoice_posts(fake)[0]["body"]


def test_pair_ignores_a_repository_host(fake, seed, attacker):
    assert_ok(hourly("btcpay", "keygen"))
    write_user_file(f'[btcpay]\nhost = "{fake.url}"\n')
    write_repo_settings(seed, "repo", {"host": attacker.url})
    paired = hourly("btcpay", "pair", fake.new_pairing_code())
    assert_ok(paired)
    assert attacker.connections == 0
    assert f"Paired with {fake.url}." in paired.stderr
    assert _notice_keys(paired.stderr) == ["btcpay.host"]


def test_without_a_host_of_its_own_the_user_is_told_and_nothing_is_sent(fake, seed, attacker, monkeypatch):
    store = fake.new_store()
    monkeypatch.setenv("BTCPAYSERVER_STORE_ID", store)
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", fake.new_api_key(PERMISSIONS, store_id=store))
    write_repo_settings(seed, "repo", {"host": attacker.url})
    result = hourly("invoice", *SEED_ARGS, "--yes")
    assert result.exit_code == 4 and "No BTCPay Server host" in result.stderr
    assert _notice_keys(result.stderr) == ["btcpay.host"]
    assert attacker.connections == 0 and not fake.requests


def test_the_user_sources_still_set_everything(fake, seed, monkeypatch):
    """-c, the clone's git-dir file and the environment are the user's: they are used, silently."""
    store = fake.new_store()
    key = fake.new_api_key(PERMISSIONS, store_id=store)
    local = Path(seed.path) / ".git" / "hourly" / "config.toml"
    local.parent.mkdir(parents=True)
    local.write_text(f'[btcpay]\nhost = "{fake.url}"\nstore_id = "{store}"\n')
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", key)
    result = hourly("-c", "btcpay.redirect_url=https://me.example/done", "invoice", *SEED_ARGS, "--yes")
    assert_ok(result)
    assert "Warning" not in result.stderr
    assert json.loads(invoice_posts(fake)[0]["body"])["checkout"]["redirectURL"] == "https://me.example/done"


def test_hourly_config_shows_a_repository_host_as_ignored(seed, attacker):
    write_user_file('[btcpay]\nhost = "https://mine.example"\n')
    write_repo_settings(seed, "repo", {"host": "https://user:hunter2@evil.example/x?key=s3cret", "insecure": "true"})
    shown = hourly("config")
    assert_ok(shown)
    lines = shown.stdout.splitlines()
    assert any(re.fullmatch(r"file:\S+config\.toml:2\s+btcpay\.host=https://mine\.example", line) for line in lines)
    assert any(re.fullmatch(r"file:\.hourly\.toml:5\s+btcpay\.host=https://\*\*\*@evil\.example/x\?\*\*\*  "
                            r"\(ignored: set only by you, see the warning\)", line) for line in lines), lines
    assert any(line.startswith("file:.hourly.toml:6") and "btcpay.insecure=true  (ignored" in line for line in lines)
    assert "hunter2" not in shown.output and "s3cret" not in shown.output
    assert sorted(_notice_keys(shown.stderr)) == ["btcpay.host", "btcpay.insecure"]
    document = json.loads(hourly("config", "--json").stdout)
    assert [s["key"] for s in document["ignored"]] == ["btcpay.host", "btcpay.insecure"]
    assert [s["value"] for s in document["settings"] if s["key"] == "btcpay.host"] == ["https://mine.example"]
    assert "s3cret" not in json.dumps(document)


def test_team_settings_stay_and_the_preview_names_their_origin(user_greenfield, fake, seed):
    (Path(seed.path) / ".hourly.toml").write_text(
        '# the team\nrate = "150 USD"\nround = "15m"\n\n[btcpay]\nbuyer_name = "ACME"\nexpires = "90m"\n')
    args = [a for a in SEED_ARGS if a not in ("--rate", "100 USD")]
    shown = hourly("invoice", *args, "--dry-run")
    assert_ok(shown)
    assert "  Rate:             150 USD/h (file:.hourly.toml:2)\n" in shown.stdout
    assert "  Rounding:         15m up (round: file:.hourly.toml:3)\n" in shown.stdout
    assert "  Buyer:            ACME\n" in shown.stdout and "90 minutes" in shown.stdout
    assert "Warning" not in shown.stderr
    flagged = hourly("invoice", *SEED_ARGS, "--round", "6m", "--round-mode", "nearest", "--dry-run")
    assert "  Rate:             100 USD/h (flag:--rate)\n" in flagged.stdout
    assert "  Rounding:         6m nearest (round: flag:--round, round_mode: flag:--round-mode)\n" in flagged.stdout
    overridden = hourly("-c", "rate=120 USD", "invoice", *args, "--dry-run")
    assert "  Rate:             120 USD/h (command line:-c)\n" in overridden.stdout


def test_a_per_identity_rate_is_shown_with_its_identity_and_file(user_greenfield, fake, seed):
    (Path(seed.path) / ".hourly.toml").write_text('rate = "80 USD"\n[rates]\n"apembroke@gmail.com" = "95 USD"\n')
    args = [a for a in SEED_ARGS if a not in ("--rate", "100 USD")]
    shown = hourly("invoice", *args, "--dry-run")
    assert_ok(shown)
    assert "  Rate:             95 USD/h for apembroke@gmail.com (file:.hourly.toml:3)\n" in shown.stdout
    assert "80 USD" not in shown.stdout                          # not used: not shown
    assert "  Rounding:         (none)\n" in shown.stdout


def test_a_repository_pem_name_still_protects_that_file_from_commits(repo, monkeypatch, capsys):
    # Ignored as a key to sign with, the name still guards: refusing more commits never leaks.
    from hourly_hooks.hooks import entry as hook
    monkeypatch.chdir(repo.path)
    (repo.path / ".hourly.toml").write_text('[btcpay]\npem = "keys/team.pem"\n')
    (repo.path / "keys").mkdir()
    (repo.path / "keys" / "team.pem").write_text("anything\n")
    assert hook.protect_keys_main(["keys/team.pem"]) == 1
    assert "is the BTCPay private key file" in capsys.readouterr().err
    (repo.path / ".hourly.toml").unlink()
    assert hook.protect_keys_main(["keys/team.pem"]) == 0
