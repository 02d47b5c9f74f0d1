"""Clear one-line errors with documented exit codes, and configuration precedence."""

import json

import pytest
from click.testing import CliRunner

from gitrepo import GitRepo
from hourly_hooks.cli import main


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture
def worked(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00", name="Alice Martin", email="alice@example.com")
    repo.commit("clock-out", "2026-03-02T10:30:00+00:00", name="Alice Martin", email="alice@example.com")
    return repo


@pytest.mark.parametrize("args, code, words", [
    (["--tz", "Mars/Olympus"], 2, "unknown time zone 'Mars/Olympus'"),
    (["--since", "yesterday-ish"], 2, "not a date: 'yesterday-ish'"),
    (["--rate", "lots"], 2, "not a rate: 'lots'"),
    (["--rate", "100"], 2, "not a rate"),
    (["--round", "6x"], 2, "not a duration"),
    (["--since", "2026-03-05", "--until", "2026-03-01"], 2, "must be after --since"),
    (["--period", "last-week", "--since", "2026-01-01"], 2, "cannot be combined"),
])
def test_bad_values_are_one_clear_line(worked, args, code, words):
    result = run("report", "--repo", str(worked.path), *args)
    assert result.exit_code == code
    assert words in result.stderr
    assert "Traceback" not in result.output and len(result.stderr.strip().splitlines()) <= 2


def test_not_a_repository(tmp_path):
    result = run("report", "--repo", str(tmp_path))
    assert result.exit_code == 3
    assert "is not inside a git repository" in result.stderr


def test_empty_repository(repo):
    result = run("report", "--repo", str(repo.path))
    assert result.exit_code == 3 and "has no commits yet" in result.stderr
    assert run("report", "--repo", str(repo.path), "--all").exit_code == 3


def test_unreadable_config(worked):
    (worked.path / ".hourly.toml").write_text("rate = [unclosed\n")
    result = run("report", "--repo", str(worked.path))
    assert result.exit_code == 4
    assert ".hourly.toml:1: not valid TOML" in result.stderr


def test_bad_value_in_config_names_the_key(worked):
    (worked.path / ".hourly.toml").write_text('[rates]\n"alice@example.com" = "many"\n')
    result = run("report", "--repo", str(worked.path))
    assert result.exit_code == 4 and "rates.alice@example.com" in result.stderr


def test_secrets_are_refused_in_the_tracked_repo_file(worked):
    (worked.path / ".hourly.toml").write_text('[btcpay]\napi_key = "0123456789abcdef"\n')
    result = run("report", "--repo", str(worked.path))
    assert result.exit_code == 4 and "'btcpay.api_key' is a secret" in result.stderr
    assert "0123456789abcdef" not in result.output


def amount(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["total"]["amount"]


def test_precedence_flag_over_env_over_repo_over_user(worked, isolated):
    user = isolated / ".config" / "hourly" / "config.toml"
    user.parent.mkdir(parents=True)
    args = ["report", "--repo", str(worked.path), "--format", "json"]
    assert amount(run(*args)) is None                       # defaults: no rate
    user.write_text('rate = "10 USD"\n')
    assert amount(run(*args)) == "15.00"                    # user file
    (worked.path / "pyproject.toml").write_text('[tool.hourly]\nrate = "20 USD"\n')
    assert amount(run(*args)) == "30.00"                    # repo (pyproject) over user
    (worked.path / ".hourly.toml").write_text('[rates]\ndefault = "30 USD"\n')
    assert amount(run(*args)) == "45.00"                    # .hourly.toml preferred to pyproject
    assert amount(run(*args, env={"HOURLY_RATE": "40 USD"})) == "60.00"   # environment over files
    assert amount(run(*args, "--rate", "50 USD", env={"HOURLY_RATE": "40 USD"})) == "75.00"  # flag wins


def test_per_identity_rates_from_config(tmp_path):
    repo = GitRepo(tmp_path / "team")
    for name, email in (("Alice", "alice@example.com"), ("Bob", "bob@example.com")):
        repo.commit("clock-in", "2026-03-02T09:00:00+00:00", name=name, email=email)
        repo.commit("clock-out", "2026-03-02T10:00:00+00:00", name=name, email=email)
    (repo.path / ".hourly.toml").write_text(
        '[rates]\ndefault = "100 USD"\n"bob@example.com" = "0.001 BTC"\n')
    total = json.loads(run("report", "--repo", str(repo.path), "--format", "json").stdout)["total"]
    assert total["amounts"] == {"USD": "100.00", "BTC": "0.00100000"}
    assert total["amount"] is None  # two currencies: no single amount


def test_exclude_in_config_skips_an_errant_marker(worked):
    errant = worked.commit("clock-out", "2026-03-02T11:00:00+00:00", name="Alice Martin",
                           email="alice@example.com")
    args = ["report", "--repo", str(worked.path), "--format", "json"]
    assert json.loads(run(*args).stdout)["anomalies"][0]["commits"] == [errant]
    (worked.path / ".hourly.toml").write_text(f'exclude = ["{errant[:10]}"]\n')
    assert json.loads(run(*args).stdout)["anomalies"] == []


def test_version_and_help():
    assert run("--version").output.startswith("hourly, version")
    assert "report" in run("--help").output


def test_an_invalid_author_regex_is_a_usage_error_in_our_words(repo):
    from click.testing import CliRunner
    from hourly_hooks.cli import main

    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    result = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--author", "("])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("Error: --author '(': not a valid regular expression")
    assert "header" not in result.stderr and "fatal" not in result.stderr
    ok = CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--author", "Alice|Bob"])
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize("host", ["http://[::1", "http://127.0.0.1:99999"])
def test_a_host_that_is_not_a_url_is_one_line_not_a_crash(repo, monkeypatch, host):
    from click.testing import CliRunner
    from hourly_hooks.cli import main

    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-02T10:00:00+00:00")
    monkeypatch.setenv("BTCPAYSERVER_API_KEY", "key-1234567890")
    monkeypatch.setenv("BTCPAYSERVER_STORE_ID", "store")
    for args in (["-c", f"btcpay.host={host}"], []):
        if not args:
            monkeypatch.setenv("BTCPAYSERVER_HOST", host)
        result = CliRunner().invoke(main, [*args, "invoice", "--repo", str(repo.path), "--author", "alice",
                                           "--rate", "100 USD", "--since", "2026-03-01", "--dry-run"])
        assert result.exit_code in (2, 4), result.output
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith("Error:") and "not a valid URL" in lines[0] and "bug" not in result.stderr
