"""Files and folders hourly writes for itself are never group- or world-writable,
whatever the umask: hooks 0755, secrets and everything under <git dir>/hourly/ 0600
(folders 0700). Report files written with -o are the user's documents: they get the
mode the user's umask gives, like any file a program writes on request."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from btcpay_helpers import *  # noqa: F401,F403 (fixtures)
from btcpay_helpers import SEED_ARGS, assert_ok, hourly
from hourly_hooks.hooks import entry as hook


@pytest.fixture
def umask_000():
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _everything_under(folder: Path) -> dict:
    found = {folder: mode(folder)}
    for root, folders, files in os.walk(folder):
        for name in folders + files:
            found[Path(root) / name] = mode(Path(root) / name)
    return found


def test_installed_hooks_are_0755_under_umask_000(seed, umask_000):
    seed.git("config", "core.hooksPath", "tools/githooks")         # a folder hourly must make
    assert_ok(hourly("install-hook"))
    folder = Path(seed.path) / "tools" / "githooks"
    hooks = sorted(p.name for p in folder.iterdir())
    assert hooks == ["commit-msg", "pre-commit", "prepare-commit-msg"]
    assert {name: mode(folder / name) for name in hooks} == dict.fromkeys(hooks, 0o755)
    assert mode(folder) == mode(folder.parent) == 0o755
    os.chmod(folder / "commit-msg", 0o777)                          # as an earlier version left it
    assert_ok(hourly("install-hook"))
    assert mode(folder / "commit-msg") == 0o755


def test_hourly_s_own_files_are_private_under_umask_000(greenfield, fake, seed, umask_000):
    assert_ok(hourly("report", *SEED_ARGS))                          # the store
    assert_ok(hourly("invoice", *SEED_ARGS, "--yes"))                # the ledger and its lock
    assert_ok(hourly("invoices"))
    folder = Path(seed.path) / ".git" / "hourly"
    found = _everything_under(folder)
    names = {p.name for p in found}
    assert {"invoices.jsonl", "invoice.lock", "markers.sqlite3"} <= names, names
    wrong = {str(p): oct(m) for p, m in found.items() if m != (0o700 if p.is_dir() else 0o600)}
    assert wrong == {}


def test_an_old_store_made_with_the_umask_s_mode_is_narrowed(seed, umask_000):
    assert_ok(hourly("report", *SEED_ARGS))
    store = Path(seed.path) / ".git" / "hourly" / "markers.sqlite3"
    os.chmod(store, 0o666)
    assert_ok(hourly("report", *SEED_ARGS, "--by", "day"))
    assert mode(store) == 0o600


def test_keys_and_saved_settings_are_0600_in_0700_folders(fake, seed, isolated, umask_000):
    assert_ok(hourly("btcpay", "keygen", "--pem", "keys/client.pem"))
    assert mode(Path(seed.path) / "keys" / "client.pem") == 0o600
    assert mode(Path(seed.path) / "keys") == 0o700
    assert_ok(hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url,
                     "--pem", "keys/client.pem", "--save"))
    local = Path(seed.path) / ".git" / "hourly" / "config.toml"
    assert (mode(local), mode(local.parent)) == (0o600, 0o700)
    assert_ok(hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url,
                     "--pem", "keys/client.pem", "--save", "--global"))
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "hourly" / "config.toml"
    assert (mode(user), mode(user.parent)) == (0o600, 0o700)


def test_a_report_written_with_o_gets_the_mode_of_the_user_s_umask(seed):
    previous = os.umask(0o027)
    try:
        assert_ok(hourly("report", *SEED_ARGS, "-o", "march.csv", "--format", "csv"))
    finally:
        os.umask(previous)
    assert mode(Path(seed.path) / "march.csv") == 0o640


def test_the_prepare_commit_msg_note_is_0600_under_umask_000(seed, umask_000):
    message = Path(seed.path) / ".git" / "COMMIT_EDITMSG"
    message.write_text("clock-in\n")
    assert hook.source_main([str(message), "message"]) == 0
    assert mode(Path(seed.path) / ".git" / hook.SOURCE_FILE) == 0o600
