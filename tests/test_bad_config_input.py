"""Bad configuration input (issue 14, section 5): each class refused in one line naming its source.

Rates and roundings out of bounds (through a flag, -c, the environment and a
file), empty values, a buyer email that is not one, a BTCPay host holding a
password or a query (never repeated), a user file holding a secret that others
can read, and a secret in a work-tree file that git does not track (yet).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from hourly_hooks.cli import main

THOUSANDS = "9" * 5000
BILL = ["invoice", "--author", "Alice", "--since", "2026-03-01", "--until", "2026-03-03", "--rate", "1 USD"]


def run(*args, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def one_line(result, code: int) -> str:
    """The command failed with `code` in one line, no traceback, no exit 70."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert "Traceback" not in result.output + result.stderr and "unexpected" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def worked(repo, monkeypatch):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-02T10:30:00+00:00")
    monkeypatch.chdir(repo.path)
    return repo


def user_file() -> Path:
    path = Path(os.environ["XDG_CONFIG_HOME"]) / "hourly" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _through(source: str, key: str, value: str, repo) -> tuple:
    """The report args and environment that set key=value through source; and how the error names it."""
    flag = {"rates.default": "--rate", "round": "--round", "tz": "--tz"}[key]
    if source == "flag":
        return ["report", flag, value], None, flag
    if source == "-c":
        return ["-c", f"{key}={value}", "report"], None, f"-c {key}"
    if source == "env":
        variable = {"rates.default": "HOURLY_RATE", "round": "HOURLY_ROUND", "tz": "HOURLY_TZ"}[key]
        return ["report"], {variable: value}, f"environment variable {variable}"
    table, _, name = key.rpartition(".")
    (repo.path / ".hourly.toml").write_text(f"[{table}]\n{name} = {json.dumps(value)}\n" if table
                                            else f"{name} = {json.dumps(value)}\n")
    return ["report"], None, f"{repo.path / '.hourly.toml'}:{2 if table else 1}"


SOURCES = ["flag", "-c", "env", "file"]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("rate", [f"{THOUSANDS} USD", "99999999999999999999999999999999 USD",
                                  "1000000000.01 SATS", "0.000000001 BTC", f"0.{THOUSANDS} USD"])
def test_a_rate_out_of_bounds_is_refused_naming_its_source(worked, source, rate):
    args, env, named = _through(source, "rates.default", rate, worked)
    line = one_line(run(*args, env=env), 2 if source in ("flag", "-c") else 4)
    assert line.startswith(f"Error: {named}")
    assert "is out of bounds: at most 1,000,000,000 an hour, with at most 8 decimals" in line
    assert len(line) < 300                              # thousands of digits are not repeated


@pytest.mark.parametrize("rate, amount", [("1000000000 SATS", "1500000000 SATS"), ("0.00000001 BTC", "0.00000002 BTC")])
def test_rates_at_the_bounds_still_bill(worked, rate, amount):
    result = run("report", "--tz", "UTC", "--rate", rate)
    assert result.exit_code == 0, result.stderr
    assert amount in result.stdout


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("step", ["999999999d", "25h", "1d1m", f"{THOUSANDS}m"])
def test_a_rounding_past_a_day_is_refused_naming_its_source(worked, source, step):
    args, env, named = _through(source, "round", step, worked)
    line = one_line(run(*args, env=env), 2 if source in ("flag", "-c") else 4)
    assert line.startswith(f"Error: {named}") and "out of bounds: an increment of at most 24h" in line
    assert len(line) < 300


def test_a_rounding_of_a_day_still_works(worked):
    result = run("report", "--tz", "UTC", "--rate", "10 USD", "--round", "24h")
    assert result.exit_code == 0 and "24.00 hours billed" in result.stdout, result.output


@pytest.mark.parametrize("args, words", [
    (["report", "--tz", ""], "Error: --tz '': an empty value: give one, or leave --tz out to use the default"),
    (["report", "--rate", ""], "Error: --rate '': an empty value"),
    (["report", "--round", " "], "Error: --round '': an empty value"),
    (["-c", "tz=", "report"], "Error: -c tz=: 'tz' is empty: give it a value, or leave -c tz out to use the default"),
    (["-c", "btcpay.host=", "config"], "Error: -c btcpay.host=: 'btcpay.host' is empty"),
    (["report", "--since", ""], "Error: --since '': an empty date: give one (like 2026-01-06), or leave --since out"),
    (["report", "--until", ""], "Error: --until '': an empty date"),
    (["report", "--ignore", ""], "Error: --ignore '': an empty word would drop every session"),
    (["btcpay", "check", "--host", ""], "Error: --host '': an empty value: give one, or leave --host out"),
    (["invoices", "--host", ""], "Error: --host '': an empty value"),
    (BILL + ["--buyer-email", ""], "Error: --buyer-email '': an empty value"),
])
def test_an_empty_value_is_refused_not_taken_for_the_default(worked, args, words):
    assert one_line(run(*args), 2).startswith(words)


@pytest.mark.parametrize("text, words", [
    ('tz = ""\n', ".hourly.toml:1: 'tz' is empty: give it a value, or delete it to use the default"),
    ('[btcpay]\nbuyer_name = " "\n', ".hourly.toml:2: 'btcpay.buyer_name' is empty"),
    ('ignore = ["wip", ""]\n', ".hourly.toml:1: 'ignore' holds an empty word, which would match everything"),
])
def test_an_empty_value_in_a_file_is_refused(worked, text, words):
    (worked.path / ".hourly.toml").write_text(text)
    line = one_line(run("report"), 4)
    assert line.endswith(words) or words in line


def test_an_empty_environment_variable_means_unset(worked):
    # As most tools read them: `HOURLY_TZ= hourly report` clears an exported value.
    result = run("report", "--rate", "10 USD", env={"HOURLY_TZ": "", "HOURLY_RATE": ""})
    assert result.exit_code == 0 and "15.00 USD" in result.stdout, result.output


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "a b@example.com", "me@example."])
def test_a_buyer_email_that_is_not_an_email_is_refused(worked, email):
    line = one_line(run(*BILL, "--buyer-email", email, "--dry-run"), 2)
    assert line == f"Error: --buyer-email: not an email address: {email!r} (expected name@example.com)"
    user_file().write_text(f'[btcpay]\nbuyer_email = "{email}"\n')
    line = one_line(run(*BILL, "--dry-run"), 4)
    assert line.endswith(f"config.toml:2: 'btcpay.buyer_email': not an email address: {email!r} "
                         "(expected name@example.com)")


@pytest.mark.parametrize("host", ["https://bob:hunter2@pay.example", "bob:hunter2@pay.example",
                                  "https://pay.example/?api_key=hunter2", "https://pay.example/#hunter2"])
@pytest.mark.parametrize("source", ["flag", "-c", "env", "user file"])
def test_a_host_holding_a_secret_is_refused_without_repeating_it(worked, host, source):
    args, env = ["btcpay", "check"], None
    if source == "flag":
        args += ["--host", host]
    elif source == "-c":
        args = ["-c", f"btcpay.host={host}"] + args
    elif source == "env":
        env = {"BTCPAYSERVER_HOST": host}
    else:
        user_file().write_text(f'[btcpay]\nhost = "{host}"\n')
    for command in (args, args[:-2] + ["config"] if source != "flag" else args[:2] + ["--host", host]):
        result = run(*command, env=env)
        line = one_line(result, 2 if source in ("flag", "-c") else 4)
        assert "hunter2" not in result.output + result.stderr
        assert "(not shown" in line


def test_a_user_file_holding_a_secret_that_others_can_read_draws_a_warning(worked):
    path = user_file()
    path.write_text('[btcpay]\nhost = "https://127.0.0.1:9"\nstore_id = "S"\napi_key = "k-123456789"\n')
    warning = ("Warning: ~/.config/hourly/config.toml holds a secret and other users may read or change it "
               "(mode 0666): chmod 600 ~/.config/hourly/config.toml")
    path.chmod(0o666)
    assert warning in run("invoices").stderr.splitlines()
    assert warning in run("config").stderr.splitlines()
    path.chmod(0o640)
    assert warning.replace("0666", "0640") in run("invoices").stderr.splitlines()
    path.chmod(0o600)
    assert "other users" not in run("invoices").stderr
    path.write_text('[btcpay]\nhost = "https://127.0.0.1:9"\n')      # no secret: no warning
    path.chmod(0o644)
    assert "other users" not in run("invoices").stderr


def test_a_secret_in_an_untracked_repository_file_is_not_called_tracked(worked):
    (worked.path / ".hourly.toml").write_text('[btcpay]\napi_key = "0123456789abcdef"\n')
    result = run("report")
    assert result.exit_code == 4
    assert ".hourly.toml:2: 'btcpay.api_key' is a secret and this file is in the work tree, where a commit " \
           "would share it" in result.stderr
    assert "tracked by git" not in result.stderr and "history" not in result.stderr
    worked.git("add", ".hourly.toml")
    result = run("report")
    assert "this file is tracked by git" in result.stderr and "rewrite it out of history" in result.stderr
    assert "0123456789abcdef" not in result.output + result.stderr


@pytest.mark.parametrize("args, start", [
    (["--since", THOUSANDS], "Error: --since: not a date: '9999"),
    (["--until", f"2026-03-01 {THOUSANDS}"], "Error: --until: not a date: '2026-03-01 9999"),
    (["--tz", THOUSANDS], "Error: --tz: unknown time zone '9999"),
])
def test_a_date_or_zone_of_thousands_of_characters_is_one_short_line(worked, args, start):
    line = one_line(run("report", *args), 2)
    assert line.startswith(start) and " characters)" in line
    assert len(line) < 400                              # the hint stays; the value is cut
