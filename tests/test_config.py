"""The configuration schema, `hourly -c KEY=VALUE`, `hourly config` and the resolver's users."""

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hourly_hooks import config
from hourly_hooks.btcpay import settings_from
from hourly_hooks.cli import main

EC_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHQCAQEEIBkq\n-----END EC PRIVATE KEY-----\n"


def run(*args, env=None, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env, input=input)


def one_line(result, code):
    """The result failed with `code` in exactly one line, no traceback."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output + result.stderr and "unexpected" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


@pytest.fixture
def worked(repo):
    repo.commit("clock-in", "2026-03-02T09:00:00+00:00", name="Alice Martin", email="alice@example.com")
    repo.commit("clock-out", "2026-03-02T10:30:00+00:00", name="Alice Martin", email="alice@example.com")
    return repo


@pytest.fixture
def user_file(isolated):
    path = isolated / ".config" / "hourly" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


# ------------------------------------------------------------------ the schema

@pytest.mark.parametrize("text, words", [
    ('tz = 5\n', ".hourly.toml:1: 'tz' must be a time zone name"),
    ('exclude = 123\n', ".hourly.toml:1: 'exclude' must be a list of commit SHA prefixes"),
    (b'# caf\xe9\ntz = "UTC"\n', ".hourly.toml:1: not UTF-8 text"),
    ('tz = "UTC"\nrate = [unclosed\n', ".hourly.toml:2: not valid TOML"),
    ('timezone = "UTC"\n', ".hourly.toml:1: unknown key 'timezone' (did you mean 'tz'?)"),
    ('round-mode = "up"\n', "unknown key 'round-mode' (did you mean 'round_mode'?)"),
    ('\n[btcpay]\nhots = "https://x.example"\n', ".hourly.toml:3: unknown key 'btcpay.hots' (did you mean 'btcpay.host'?)"),
    ('host = "https://x.example"\n', "unknown key 'host' (did you mean 'btcpay.host', under [btcpay]?)"),
    ('identity = "login"\n', "'identity' must be one of email, name, name+email, not the string 'login'"),
    ('round_mode = "sideways"\n', "'round_mode' must be one of up, nearest, down"),
    ('[btcpay]\nbackend = "v2"\n', ".hourly.toml:2: 'btcpay.backend' must be one of legacy, greenfield"),
    ('all = "yes"\n', "'all' must be true or false, not the string 'yes'"),
    ('ignore = [1, 2]\n', "'ignore' must be a string or a list of strings, not a list holding non-strings"),
    ('btcpay = 5\n', "'btcpay' must be a table ([btcpay]), not the number 5"),
    ('tz = "Mars/Olympus"\n', ".hourly.toml:1: 'tz': unknown time zone 'Mars/Olympus'"),
    ('round = "6x"\n', ".hourly.toml:1: 'round': not a duration"),
    ('rate = "lots"\n', ".hourly.toml:1: 'rates.default': not a rate: 'lots'"),
    ('[rates]\n"bob@example.com" = 100\n', ".hourly.toml:2: 'rates.bob@example.com' must be a rate like"),
    ('rate = "1 USD"\n[rates]\ndefault = "2 USD"\n', "'rate' is short for 'rates.default'"),
    ('max_session = "soon"\n', ".hourly.toml:1: 'max_session': not a duration"),
    ('allow_long = ["not-a-sha"]\n', "'allow_long': not a commit SHA prefix: 'not-a-sha'"),
    ('currencies = ["C4SH!"]\n', "'currencies': not a currency code"),
    ('[btcpay]\nexpires = "tomorrow"\n', ".hourly.toml:2: 'btcpay.expires': not a duration"),
    ('[btcpay]\ntimeout = -3\n', "'btcpay.timeout': must be a positive number of seconds"),
    ('max_session = "99999999999999999999d"\n', "'max_session': duration too large"),
    ('[btcpay]\ntimeout = "inf"\n', "'btcpay.timeout': must be a positive number of seconds, not 'inf'"),
    ('[btcpay]\ntimeout = true\n', "'btcpay.timeout' must be a number of seconds, not the boolean true"),
    ('contract_start = 2026-01-01\n', "'contract_start' must be a string, not a TOML date (quote it"),
])
def test_a_bad_repository_file_is_one_line_naming_file_line_and_key(worked, text, words):
    path = worked.path / ".hourly.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    line = one_line(run("report", "--repo", worked.path), 4)
    assert str(path) in line
    assert words in line


def test_the_user_file_and_pyproject_are_checked_alike(worked, user_file):
    user_file.write_text('# mine\nzone = "UTC"\n')
    line = one_line(run("report", "--repo", worked.path), 4)
    assert f"{user_file}:2: unknown key 'zone' (did you mean 'tz'?)" in line
    user_file.unlink()
    (worked.path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.hourly]\ntz = 5\n')
    assert "pyproject.toml:5: 'tz' must be" in one_line(run("report", "--repo", worked.path), 4)


def test_a_pyproject_without_hourly_settings_is_not_even_parsed(worked):
    (worked.path / "pyproject.toml").write_text("this is [not TOML\n")
    assert run("report", "--repo", worked.path).exit_code == 0


@pytest.mark.parametrize("variable, value, words", [
    ("HOURLY_TZ", "Mars/Olympus", "environment variable HOURLY_TZ: 'tz': unknown time zone"),
    ("HOURLY_IDENTITY", "login", "environment variable HOURLY_IDENTITY: 'identity' must be one of"),
    ("HOURLY_RATE", "lots", "environment variable HOURLY_RATE: 'rates.default': not a rate"),
    ("HOURLY_ROUND", "6x", "environment variable HOURLY_ROUND: 'round': not a duration"),
    ("HOURLY_BACKEND", "v2", "environment variable HOURLY_BACKEND: 'btcpay.backend' must be one of"),
    ("BTCPAYSERVER_TIMEOUT", "soon", "environment variable BTCPAYSERVER_TIMEOUT: 'btcpay.timeout'"),
])
def test_a_bad_environment_variable_is_a_config_error_naming_it(worked, variable, value, words):
    assert words in one_line(run("report", "--repo", worked.path, env={variable: value}), 4)


def test_the_new_keys_are_accepted_and_shown(worked):
    (worked.path / ".hourly.toml").write_text(
        'max_session = "12h"\nallow_long = ["3f2a9c1"]\ncurrencies = ["CHF"]\nbudget = "40h/week"\n'
        '# contract = "120h" would be refused beside budget\ncontract_start = "2026-01-01"\n'
        '[btcpay]\nexpires = "90m"\n')
    assert run("report", "--repo", worked.path).exit_code == 0
    shown = {s["key"]: s for s in json.loads(run("config", "--json", "--repo", worked.path).stdout)["settings"]}
    assert shown["max_session"]["value"] == "12h" and shown["max_session"]["source"]["line"] == 1
    assert shown["allow_long"]["value"] == ["3f2a9c1"]
    assert shown["budget"]["value"] == "40h/week"
    assert shown["btcpay.expires"]["source"]["line"] == 8
    assert settings_from(config.load(worked.path).table("btcpay")).expires == 90


def test_a_secret_in_a_tracked_file_is_refused_with_its_line(worked):
    (worked.path / "pyproject.toml").write_text('[tool.hourly]\ntz = "UTC"\n\n[tool.hourly.btcpay]\n'
                                                'merchant_token = "0123456789abcdef"\n')
    worked.git("add", "pyproject.toml")
    result = run("report", "--repo", worked.path)
    assert result.exit_code == 4
    assert "pyproject.toml:5: 'btcpay.merchant_token' is a secret and this file is tracked by git" in result.stderr
    assert "0123456789abcdef" not in result.output + result.stderr


def test_secrets_are_welcome_in_the_user_file(worked, user_file):
    user_file.write_text('[btcpay]\napi_key = "0123456789abcdef"\n')
    assert run("report", "--repo", worked.path).exit_code == 0
    assert settings_from(config.load(worked.path).table("btcpay")).api_key == "0123456789abcdef"


# --------------------------------------------------------------------- hourly -c

def test_dash_c_overrides_files_and_environment(worked, user_file):
    user_file.write_text('tz = "Asia/Tokyo"\n')
    (worked.path / ".hourly.toml").write_text('tz = "Europe/Paris"\n')
    result = run("-c", "tz=UTC", "report", "--repo", worked.path, "--format", "json",
                 env={"HOURLY_TZ": "America/New_York"})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sessions"][0]["start"].endswith("+00:00")


def test_dash_c_values_take_the_keys_type(worked):
    errant = worked.commit("clock-out", "2026-03-02T11:00:00+00:00", name="Alice Martin", email="alice@example.com")
    args = ["report", "--repo", worked.path, "--format", "json"]
    assert json.loads(run(*args).stdout)["anomalies"]
    assert json.loads(run("-c", f"exclude=0000, {errant[:8]}", *args).stdout)["anomalies"] == []
    shown = json.loads(run("-c", "all=true", "-c", "ignore=pro bono,misc", "config", "--json").stdout)["settings"]
    values = {s["key"]: s["value"] for s in shown}
    assert values["all"] is True and values["ignore"] == ["pro bono", "misc"]


@pytest.mark.parametrize("args, words", [
    (["-c", "timezone=UTC"], "-c timezone: unknown key 'timezone' (did you mean 'tz'?)"),
    (["-c", "tz"], "-c tz: expected KEY=VALUE"),
    (["-c", "all=maybe"], "-c all: 'all' must be true or false"),
    (["-c", "identity=login"], "-c identity: 'identity' must be one of email, name, name+email"),
    (["-c", "rates=100 USD"], "'rates' is a table"),
    (["-c", "tz=Mars/Olympus"], "-c tz: 'tz': unknown time zone 'Mars/Olympus'"),
])
def test_a_bad_dash_c_is_a_usage_error(worked, args, words):
    assert words in one_line(run(*args, "report", "--repo", worked.path), 2)


@pytest.mark.parametrize("key, value, safe", [
    ("btcpay.api_key", "0123456789abcdef", "BTCPAYSERVER_API_KEY"),
    ("btcpay.merchant_token", "0123456789abcdef", "BTCPAYSERVER_MERCHANT"),
    ("btcpay.pem", EC_KEY, "--pem -"),
])
def test_a_secret_on_the_command_line_is_refused(worked, key, value, safe):
    result = run("-c", f"{key}={value}", "report", "--repo", worked.path)
    assert result.exit_code == 2
    assert f"-c {key}: a secret on the command line shows in the process list" in result.stderr
    assert safe in result.stderr and "config.toml" in result.stderr
    assert "0123456789abcdef" not in result.output + result.stderr and "MHQCAQEEIBkq" not in result.stderr


def test_dash_c_reaches_the_btcpay_settings(worked, monkeypatch):
    monkeypatch.chdir(worked.path)
    env = {"BTCPAYSERVER_API_KEY": "0123456789abcdef", "BTCPAYSERVER_STORE_ID": "store"}
    result = run("-c", "btcpay.host=myprivateserver.example", "btcpay", "check", env=env)
    # Checked where it is set: -c is the command line, so a usage error naming -c.
    line = one_line(result, 2)
    assert line.startswith("Error: -c btcpay.host") and "needs a scheme" in line


def test_a_pem_flag_with_key_text_is_refused_and_names_the_safe_ways(worked, monkeypatch):
    monkeypatch.chdir(worked.path)
    result = run("btcpay", "pair", "abcdefg", "--host", "https://x.example", "--pem", EC_KEY)
    assert result.exit_code == 2
    assert "--pem takes a file path" in result.stderr
    assert "--pem -" in result.stderr and "BTCPAYSERVER_PEM" in result.stderr
    assert "MHQCAQEEIBkq" not in result.output + result.stderr


def test_pem_dash_reads_the_key_from_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO(EC_KEY))
    assert settings_from({}, pem="-").pem == EC_KEY
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("no key here"))
    with pytest.raises(config.UsageError, match="no PEM private key on stdin"):
        settings_from({}, pem="-")


# ------------------------------------------------------------------ hourly config

def test_hourly_config_shows_each_value_and_its_origin(worked, user_file, monkeypatch):
    monkeypatch.chdir(worked.path)
    user_file.write_text('[btcpay]\nmerchant_token = "0123456789abcdef"\nbuyer_name = "ACME"\n')
    (worked.path / ".hourly.toml").write_text('tz = "Europe/Paris"\n\n[rates]\n"bob@example.com" = "90 EUR"\n')
    env = {"HOURLY_RATE": "100 USD", "BTCPAYSERVER_API_KEY": "fedcba9876543210"}
    result = run("-c", "round=6m", "config", env=env)
    assert result.exit_code == 0, result.output
    rows = [re.split(r"\s{2,}", line, maxsplit=1) for line in result.stdout.splitlines()]
    lines = {setting.split("=", 1)[0]: (origin, setting) for origin, setting in rows}
    assert lines["tz"] == ("file:.hourly.toml:1", "tz=Europe/Paris")
    assert lines["rates.bob@example.com"] == ("file:.hourly.toml:4", "rates.bob@example.com=90 EUR")
    assert lines["rates.default"] == ("env:HOURLY_RATE", "rates.default=100 USD")
    assert lines["round"] == ("command line:-c", "round=6m")
    assert lines["identity"] == ("default", "identity=email")
    # a file outside the current directory is shown from ~ when it is under the home directory
    assert lines["btcpay.buyer_name"] == ("file:~/.config/hourly/config.toml:3", "btcpay.buyer_name=ACME")
    assert lines["btcpay.merchant_token"] == ("file:~/.config/hourly/config.toml:2", "btcpay.merchant_token=********")
    assert lines["btcpay.api_key"] == ("env:BTCPAYSERVER_API_KEY", "btcpay.api_key=********")
    assert "0123456789abcdef" not in result.output and "fedcba9876543210" not in result.output


def test_hourly_config_json_and_one_key(worked, monkeypatch):
    monkeypatch.chdir(worked.path)
    result = run("config", "btcpay.pem", "--json", env={"BTCPAYSERVER_PEM": EC_KEY})
    assert json.loads(result.stdout) == {"version": 1, "settings": [
        {"key": "btcpay.pem", "value": "********", "origin": "env:BTCPAYSERVER_PEM",
         "source": {"kind": "env", "name": "BTCPAYSERVER_PEM", "line": None}}]}
    assert json.loads(run("config", "tz", "--json").stdout)["settings"][0]["origin"] == "default"
    assert "did you mean 'tz'?" in one_line(run("config", "timezone"), 2)


def test_hourly_config_outside_a_repository(tmp_path, monkeypatch, user_file):
    monkeypatch.chdir(tmp_path)
    user_file.write_text('tz = "UTC"\n')
    result = run("config", "tz")
    assert result.exit_code == 0 and result.stdout.split() == ["file:~/.config/hourly/config.toml:1", "tz=UTC"]
    assert json.loads(run("config", "tz", "--json").stdout)["settings"][0]["source"]["name"] == str(user_file)


def test_find_line_reads_the_usual_toml_forms():
    text = ('# c\nrate = "1 USD"\n[rates]\n"a.b@example.com" = "2 USD"\n[tool . hourly]  # x\n'
            'btcpay.host = "h"\nbtcpay = { store_id = "s" }\n')
    assert config.find_line(text, ("rate",)) == 2
    assert config.find_line(text, ("rates", "a.b@example.com")) == 4
    assert config.find_line(text, ("tool", "hourly", "btcpay", "host")) == 6
    assert config.find_line(text, ("tool", "hourly", "btcpay", "store_id")) == 7
    assert config.find_line(text, ("tz",)) is None


# -------------------------------------------------------------------- the hooks

def _protect(paths, cwd, env=None):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "hourly_hooks.hooks.entry", "protect-keys", *paths], cwd=cwd,
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


def test_protect_keys_finds_secrets_in_every_layer(worked, user_file):
    user_file.write_text('[btcpay]\nmerchant_token = "user-file-token-123"\npem = "~/keys/store.pem"\n')
    (worked.path / "notes.txt").write_text("token: user-file-token-123\n")
    (worked.path / "store.pem").write_text("anything\n")
    (worked.path / "ci.yml").write_text("key: env-api-key-4567\n")
    result = _protect(["notes.txt", "store.pem", "ci.yml"], worked.path, {"BTCPAYSERVER_API_KEY": "env-api-key-4567"})
    assert result.returncode == 1
    assert "refusing to commit notes.txt: it contains the BTCPay merchant token" in result.stderr
    assert "refusing to commit store.pem: it is the BTCPay private key file" in result.stderr
    assert "refusing to commit ci.yml: it contains the BTCPay API key" in result.stderr
    assert "user-file-token-123" not in result.stderr


def test_protect_keys_keeps_working_with_a_broken_config(worked, user_file):
    user_file.write_text('timezone = "UTC"\n[btcpay]\nmerchant_token = "user-file-token-123"\n')
    (worked.path / ".hourly.toml").write_text("not = [toml\n")
    (worked.path / "notes.txt").write_text("token: user-file-token-123\n")
    result = _protect(["notes.txt"], worked.path)
    assert result.returncode == 1 and "contains the BTCPay merchant token" in result.stderr


def test_protect_keys_refuses_a_secret_that_a_repository_file_holds(worked):
    # Refused as configuration, but still a secret: the file holding it must not be committed.
    (worked.path / ".hourly.toml").write_text('[btcpay]\napi_key = "repo-file-key-890"\n')
    result = _protect([".hourly.toml"], worked.path)
    assert result.returncode == 1 and "refusing to commit .hourly.toml: it contains the BTCPay API key" in result.stderr


def test_the_clock_hook_does_not_load_the_configuration(tmp_path):
    import subprocess
    import sys
    message = tmp_path / "MSG"
    message.write_text("an ordinary commit\n")
    probe = ("import sys; from hourly_hooks.hooks import entry; entry.clock_main([sys.argv[1]]); "
             "print('hourly_hooks.config' in sys.modules, 'tomllib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe, str(message)], capture_output=True, text=True)
    assert out.stdout.split() == ["False", "False"]


def test_settings_from_a_plain_table_still_merges_the_environment():
    settings = settings_from({"host": "https://table.example", "store_id": "s1"},
                             env={"BTCPAYSERVER_STORE_ID": "s2"}, repo_root="/top")
    assert (settings.host, settings.store_id, settings.timeout) == ("https://table.example", "s2", 30)
    assert settings_from({"pem": "k.pem"}, env={}, repo_root="/top").pem == str(Path("/top") / "k.pem")
    assert settings_from({"pem": "k.pem"}, env={}, repo_root="/top", pem="mine.pem").pem == os.path.abspath("mine.pem")


def test_listed_currencies_are_accepted_in_rates_and_unlisted_refused(repo):
    from click.testing import CliRunner
    from hourly_hooks.cli import main

    repo.commit("clock-in", "2026-03-02T09:00:00+00:00")
    repo.commit("clock-out", "2026-03-02T10:00:00+00:00")
    run = lambda *args: CliRunner().invoke(main, ["report", "--repo", str(repo.path), "--tz", "UTC", *args])
    refused = run("--rate", "100 XYZ")
    assert refused.exit_code == 2 and "XYZ" in refused.stderr
    (repo.path / ".hourly.toml").write_text('currencies = ["XYZ"]\nrate = "50 XYZ"\n')
    assert "50.00 XYZ" in run().stdout
    assert "100.00 XYZ" in run("--rate", "100 XYZ").stdout


def test_this_clones_git_dir_file_outranks_the_repository_files_for_the_host(repo, tmp_path):
    # `hourly btcpay pair --save` writes <git dir>/hourly/config.toml: untracked, this clone only.
    from click.testing import CliRunner
    from hourly_hooks.cli import main

    local = repo.path / ".git" / "hourly" / "config.toml"
    local.parent.mkdir(parents=True)
    local.write_text('[btcpay]\nhost = "https://clone.example"\nmerchant_token = "tok-local-123456"\n')
    shown = CliRunner().invoke(main, ["config", "--repo", str(repo.path)])
    assert shown.exit_code == 0, shown.output
    assert "https://clone.example" in shown.stdout and "tok-local-123456" not in shown.stdout
    assert "config.toml:2" in shown.stdout
    (repo.path / ".hourly.toml").write_text('[btcpay]\nhost = "https://team.example"\n')
    shown = json.loads(CliRunner().invoke(main, ["config", "--repo", str(repo.path), "--json"]).stdout)
    # Where credentials go is the user's choice: a repository file's host is ignored (trust.py).
    assert [s["value"] for s in shown["settings"] if s["key"] == "btcpay.host"] == ["https://clone.example"]
    assert [s["value"] for s in shown["ignored"]] == ["https://team.example"]
    # A linked worktree reads the same clone file.
    repo.commit("first", "2026-03-02T09:00:00+00:00")
    repo.git("worktree", "add", "-q", str(tmp_path / "wt"))
    (repo.path / ".hourly.toml").unlink()
    shown = CliRunner().invoke(main, ["config", "--repo", str(tmp_path / "wt")])
    assert "https://clone.example" in shown.stdout, shown.output
