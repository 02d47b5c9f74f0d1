"""A [rates] key that matches no one is named on stderr, with where it is set and what to
write instead, when that is sure: never for a person who simply did not work in the period."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from btcpay_fake import btcpay_server
from gitrepo import GitRepo
from hourly_hooks.cli import main

ALICE_OLD = {"name": "Alice", "email": "alice@old.com"}
BOB = {"name": "Bob Keller", "email": "bob@example.com"}
DAN = {"name": "Dan", "email": "dan@example.com"}
RATES = ('[rates]\ndefault = "100 USD"\n"alice@old.com" = "120 USD"\n"Bob Keler" = "90 USD"\n'
         '"carol@example.com" = "80 USD"\n"dan@example.com" = "70 USD"\n')
MAILMAP = ("Warning: [rates] key 'alice@old.com' (.hourly.toml:3) matches no one: .mailmap maps it to "
           "Alice <alice@new.com>: write the key as 'alice@new.com'.")
TYPO = "Warning: [rates] key 'Bob Keler' (.hourly.toml:4) matches no one: did you mean 'Bob Keller'?"
NOBODY = ("Warning: [rates] key 'carol@example.com' (.hourly.toml:5) matches no one: nobody in the history "
          "has that email, name or \"Name <email>\" (after .mailmap); it has Alice <alice@new.com>, "
          "Bob Keller <bob@example.com>, Dan <dan@example.com>.")


@pytest.fixture
def team(tmp_path, monkeypatch):
    """Alice's markers under an email .mailmap maps away; Bob in February; Dan in 2025 only."""
    repo = GitRepo(tmp_path / "team")
    repo.git("config", "user.email", "alice@new.com")
    repo.commit("clock-in", "2025-06-05T09:00:00+00:00", **DAN)
    repo.commit("clock-out", "2025-06-05T11:00:00+00:00", **DAN)
    repo.commit("clock-in", "2026-01-05T09:00:00+00:00", **ALICE_OLD)
    repo.commit("clock-out", "2026-01-05T10:00:00+00:00", **ALICE_OLD)
    repo.commit("clock-in", "2026-02-05T09:00:00+00:00", **BOB)
    repo.commit("clock-out", "2026-02-05T11:00:00+00:00", **BOB)
    (repo.path / ".mailmap").write_text("Alice <alice@new.com> <alice@old.com>\n")
    (repo.path / ".hourly.toml").write_text(RATES)
    monkeypatch.chdir(repo.path)
    return repo


def hourly(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def test_the_whole_history_names_every_key_that_matches_no_one(team):
    result = hourly("report", "--tz", "UTC", "--format", "csv")
    assert result.stderr.splitlines() == [MAILMAP, TYPO, NOBODY]  # not Dan: he is in the history
    assert "Warning" not in result.stdout
    assert "2026-01-05 09:00:00" in result.stdout and ",100.00,USD," in result.stdout  # the default


def test_a_period_warns_only_of_what_is_sure(team):
    """Carol may have worked before; Dan did: only the mapped key and the typo are said."""
    result = hourly("report", "--tz", "UTC", "--since", "2026-02-01", "--until", "2026-03-01")
    assert result.stderr.splitlines() == [MAILMAP, TYPO]


def test_the_same_report_from_the_store_says_it_again(team):
    first = hourly("report", "--tz", "UTC")
    again = hourly("report", "--tz", "UTC")
    assert again.stderr == first.stderr and MAILMAP in again.stderr


def test_keys_that_all_match_say_nothing(team):
    (team.path / ".hourly.toml").write_text('[rates]\n"alice@new.com" = "120 USD"\n"Bob Keller" = "90 USD"\n'
                                            '"Dan <dan@example.com>" = "70 USD"\n')
    result = hourly("report", "--tz", "UTC")
    assert result.stderr == ""
    assert "120.00 USD" in result.stdout and "180.00 USD" in result.stdout and "140.00 USD" in result.stdout


def test_a_key_in_the_user_file_is_named_there(team, isolated):
    (team.path / ".hourly.toml").unlink()
    user = isolated / ".config" / "hourly" / "config.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text('[rates]\n"bob@exampel.com" = "90 USD"\n')
    result = hourly("report", "--tz", "UTC", "--author", "Bob")
    assert result.stderr.splitlines() == [
        "Warning: [rates] key 'bob@exampel.com' (~/.config/hourly/config.toml:2) matches no one: "
        "did you mean 'bob@example.com'?"]


def test_invoice_says_it_before_the_preview(team, monkeypatch):
    """An invoice reads only your own markers: only what is sure is said."""
    with btcpay_server() as fake:
        store = fake.new_store()
        monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
        monkeypatch.setenv("BTCPAYSERVER_STORE_ID", store)
        monkeypatch.setenv("BTCPAYSERVER_API_KEY", fake.new_api_key(["btcpay.store.canviewinvoices"], store))
        result = hourly("invoice", "--tz", "UTC", "--since", "2026-01-01", "--until", "2026-02-01", "--dry-run")
    assert result.stderr.splitlines()[0] == MAILMAP
    assert TYPO not in result.stderr and "carol" not in result.stderr
    assert "Amount:           100.00 USD" in result.stdout
