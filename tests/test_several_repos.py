"""One report across clients (issue 16 §4): with `--repo A --repo B` each repository's own
configuration (rate, rounding, ignore, exclude, max_session) bills its own sessions, and the
report shows per-repository subtotals that add up to the total."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from click.testing import CliRunner

from btcpay_helpers import (PERMISSIONS, _collect_outputs, assert_ok, fake, hourly,  # noqa: F401
                            invoice_posts, ledger_invoice_ids)
from gitrepo import GitRepo
from hourly_hooks.cli import main


def report(*args: str, repo=None):
    result = CliRunner().invoke(main, ["report", "--tz", "UTC", *args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def clients(tmp_path):
    """acme: 100 USD/h rounded up to 15m; globex: 80 USD/h, no rounding, ignores "pro bono"."""
    acme = GitRepo(tmp_path / "acme")
    (acme.path / ".hourly.toml").write_text('rates.default = "100 USD"\nround = "15m"\n')
    acme.commit("clock-in", "2026-11-02T09:00:00+00:00")
    acme.commit("clock-out", "2026-11-02T10:05:00+00:00")     # 1:05 -> 1:15 at acme
    acme.commit("clock-in", "2026-11-30T20:00:00+00:00")
    acme.commit("clock-out", "2026-11-30T20:20:00+00:00")     # 0:20 -> 0:30
    globex = GitRepo(tmp_path / "globex")
    (globex.path / ".hourly.toml").write_text('rates.default = "80 USD"\nignore = ["pro bono"]\n')
    globex.commit("clock-in", "2026-11-03T09:00:00+00:00")
    globex.commit("clock-out", "2026-11-03T10:05:00+00:00")   # 1:05, not rounded
    globex.commit("clock-in", "2026-11-04T09:00:00+00:00")
    globex.commit("clock-out: pro bono", "2026-11-04T12:00:00+00:00")
    return acme, globex


def test_each_repository_bills_by_its_own_settings(clients):
    acme, globex = clients
    alone = {repo.path.name: json.loads(report("--repo", str(repo.path), "--period", "2026-11",
                                               "--json").stdout) for repo in clients}
    both = json.loads(report("--repo", str(acme.path), "--repo", str(globex.path), "--period", "2026-11",
                             "--json").stdout)
    amounts = {s["start"]: (s["billed_seconds"] if "billed_seconds" in s else None, s["amount"])
               for s in both["sessions"]}
    assert len(both["sessions"]) == 3          # globex's "pro bono" session is ignored by globex's rule
    assert amounts["2026-11-02T09:00:00+00:00"][1] == "125.00"   # 1.25 h at 100, rounded up
    assert amounts["2026-11-30T20:00:00+00:00"][1] == "50.00"
    assert amounts["2026-11-03T09:00:00+00:00"][1] == "86.67"    # 1:05 at 80, not rounded
    subtotals = {part["repo"]: part for part in both["repositories"]}
    assert subtotals["acme"]["amounts"] == {"USD": "175.00"} == alone["acme"]["total"]["amounts"]
    assert subtotals["acme"]["rounding"] == "15m up" and subtotals["acme"]["rate"] == "100 USD/h"
    assert subtotals["globex"]["amounts"] == {"USD": "86.67"} == alone["globex"]["total"]["amounts"]
    assert subtotals["globex"]["rounding"] is None
    assert sum(Decimal(p["amounts"]["USD"]) for p in both["repositories"]) == Decimal(both["total"]["amount"])
    assert sum(Decimal(p["hours"]) for p in both["repositories"]) == Decimal(both["total"]["hours"])


def test_the_table_shows_a_subtotal_per_repository(clients):
    acme, globex = clients
    table = report("--repo", str(acme.path), "--repo", str(globex.path), "--period", "2026-11").stdout
    assert "261.67 USD" in table
    assert "2:30:00 worked, 2.83 hours billed (each repository's rounding, below)" in table
    assert "Per repository (each by its own rate and rounding):" in table
    assert "  acme    1.75 hours, 175.00 USD  (rate 100 USD/h, each session rounded 15m up)" in table
    assert "  globex  1.08 hours, 86.67 USD  (rate 80 USD/h, no rounding)" in table


def test_two_repositories_with_one_folder_name_keep_their_own_rules(tmp_path):
    """~/acme/app and ~/globex/app: each is named by as much of its path as tells them apart,
    and bills by its own rate; one repository given twice is read once."""
    apps = []
    for client, rate in (("acme", "100 USD"), ("globex", "80 USD")):
        app = GitRepo(tmp_path / client / "app")
        (app.path / ".hourly.toml").write_text(f'rates.default = "{rate}"\n')
        app.commit("clock-in", "2026-11-02T09:00:00+00:00" if client == "acme" else "2026-11-03T09:00:00+00:00")
        app.commit("clock-out", "2026-11-02T10:00:00+00:00" if client == "acme" else "2026-11-03T10:30:00+00:00")
        apps.append(app)
    both = json.loads(report("--repo", str(apps[0].path), "--repo", str(apps[1].path), "--repo", str(apps[0].path),
                             "--period", "2026-11", "--json").stdout)
    subtotals = {part["repo"]: part for part in both["repositories"]}
    assert set(subtotals) == {"acme/app", "globex/app"}
    assert subtotals["acme/app"]["amounts"] == {"USD": "100.00"} and subtotals["acme/app"]["rate"] == "100 USD/h"
    assert subtotals["globex/app"]["amounts"] == {"USD": "120.00"} and subtotals["globex/app"]["rate"] == "80 USD/h"
    assert both["total"]["amount"] == "220.00" and len(both["sessions"]) == 2
    assert [s["repo"] for s in both["sessions"]] == ["acme/app", "globex/app"]
    assert [len(repo["tips"]) for repo in both["manifest"]["repos"]] == [1, 1]


def test_one_repository_prints_no_subtotal(clients):
    acme, _ = clients
    table = report("--repo", str(acme.path), "--period", "2026-11").stdout
    assert "Per repository" not in table
    assert "repositories" not in json.loads(report("--repo", str(acme.path), "--json").stdout)


def test_a_flag_still_applies_to_every_repository(clients):
    """--rate is the top layer over each repository's own configuration."""
    acme, globex = clients
    both = json.loads(report("--repo", str(acme.path), "--repo", str(globex.path), "--period", "2026-11",
                             "--rate", "10 EUR", "--json").stdout)
    assert {part["repo"]: part["amounts"] for part in both["repositories"]} == \
        {"acme": {"EUR": "17.50"}, "globex": {"EUR": "10.83"}}


def test_the_same_session_in_two_clones_is_counted_once(clients, tmp_path):
    acme, _ = clients
    clone = GitRepo(tmp_path / "elsewhere" / "acme-copy", init=False)
    acme.git("clone", "-q", str(acme.path), str(clone.path))
    both = json.loads(report("--repo", str(acme.path), "--repo", str(clone.path), "--period", "2026-11",
                             "--json").stdout)
    assert len(both["sessions"]) == 2 and both["total"]["amount"] == "175.00"


# ------------------------------------------------------------------- hourly invoice

@pytest.fixture
def two_stores(fake, clients, monkeypatch):
    """acme bills in USD on one store, globex in EUR on another (each clone's own file)."""
    acme, globex = clients
    (globex.path / ".hourly.toml").write_text('rates.default = "80 EUR"\nignore = ["pro bono"]\n')
    stores = {}
    for repo in clients:
        repo.git("config", "user.email", "alice@example.com")
        stores[repo.path.name] = store = fake.new_store(name=repo.path.name)
        local = repo.path / ".git" / "hourly" / "config.toml"
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(f'[btcpay]\nstore_id = "{store}"\n')
    monkeypatch.setenv("BTCPAYSERVER_HOST", fake.url)
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", fake.new_api_key(PERMISSIONS))
    monkeypatch.chdir(acme.path)
    return stores


def test_one_invoice_never_mixes_clients(two_stores, clients, fake):
    acme, globex = clients
    result = hourly("invoice", "--repo", acme.path, "--repo", globex.path, "--period", "2026-11", "--yes")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert f"{acme.path} and {globex.path} bill different clients" in result.stderr
    assert "currency USD" in result.stderr and "currency EUR" in result.stderr
    assert "--each-repo" in result.stderr
    assert invoice_posts(fake) == []


def test_each_repo_makes_one_invoice_per_client(two_stores, clients, fake):
    acme, globex = clients
    result = hourly("invoice", "--repo", acme.path, "--repo", globex.path, "--period", "2026-11",
                    "--each-repo", "--yes")
    assert_ok(result)
    [usd] = fake.invoices(two_stores["acme"])
    [eur] = fake.invoices(two_stores["globex"])
    assert (usd["amount"], usd["currency"]) == ("175.00", "USD")
    assert (eur["amount"], eur["currency"]) == ("86.67", "EUR")
    assert ledger_invoice_ids(acme) == {usd["id"]} and ledger_invoice_ids(globex) == {eur["id"]}


def test_repositories_of_one_client_share_one_invoice(two_stores, clients, fake):
    """Same store, buyer and currency: one invoice, each repository at its own rate."""
    acme, globex = clients
    (globex.path / ".git" / "hourly" / "config.toml").write_text(f'[btcpay]\nstore_id = "{two_stores["acme"]}"\n')
    (globex.path / ".hourly.toml").write_text('rates.default = "80 USD"\nignore = ["pro bono"]\n')
    assert_ok(hourly("invoice", "--repo", acme.path, "--repo", globex.path, "--period", "2026-11", "--yes"))
    [both] = fake.invoices(two_stores["acme"])
    assert (both["amount"], both["currency"]) == ("261.67", "USD")


def test_one_persons_overlapping_sessions_in_two_repositories_are_named(clients):
    acme, globex = clients
    globex.commit("clock-in", "2026-11-02T09:30:00+00:00")    # during acme's 09:00-10:05
    globex.commit("clock-out", "2026-11-02T09:45:00+00:00")
    result = report("--repo", str(acme.path), "--repo", str(globex.path), "--period", "2026-11")
    assert "Warning: Alice Martin <alice@example.com>'s session at 2026-11-02T09:30:00+00:00 in globex " \
           "overlaps their session in acme (from 2026-11-02T09:00:00+00:00)" in result.stderr
    alone = report("--repo", str(globex.path), "--period", "2026-11")
    assert "overlaps" not in alone.stderr


def test_each_repo_goes_on_when_one_has_nothing_to_bill(two_stores, clients, fake):
    acme, globex = clients
    result = hourly("invoice", "--repo", acme.path, "--repo", globex.path, "--since", "2026-11-30",
                    "--until", "2026-11-30", "--each-repo", "--yes")
    assert_ok(result)
    assert f"{globex.path}: No billable hours" in result.stderr
    [usd] = fake.invoices(two_stores["acme"])
    assert usd["amount"] == "50.00" and fake.invoices(two_stores["globex"]) == []


def test_markdown_lists_the_subtotals(clients):
    acme, globex = clients
    text = report("--repo", str(acme.path), "--repo", str(globex.path), "--period", "2026-11",
                  "--format", "markdown").stdout
    assert "**Per repository (each by its own rate and rounding):**" in text
    assert "- globex  1.08 hours, 86.67 USD  (rate 80 USD/h, no rounding)" in text
