"""hourly's own files that cannot be written: one clear line naming the path and what to
do, exit 74 (or 2 for a --pem folder that does not exist), never a traceback or exit 70.

Read-only places are real where the machine allows it: a read-only bind mount in a
mount namespace of its own (`unshare -m`, as root), else a folder without write
permission (which root ignores: those tests are skipped then). A file where a folder
is expected fails the same way for everyone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from btcpay_helpers import *  # noqa: F401,F403 (fixtures)
from btcpay_helpers import assert_ok, hourly

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _can_unshare() -> bool:
    if not (ROOT and shutil.which("unshare") and shutil.which("mount")):
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


def run_read_only(folder: Path, *args: str, cwd) -> subprocess.CompletedProcess:
    """`hourly ARGS` in a real process that sees `folder` read-only."""
    command = [sys.executable, "-m", "hourly_hooks", *args]
    if _can_unshare():
        script = 'mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && shift && exec "$@"'
        command = ["unshare", "-m", "sh", "-c", script, "sh", str(folder), *command]
    elif ROOT:
        pytest.skip("root writes anywhere, and no mount namespace is available here")
    else:
        folder.chmod(0o555)
    try:
        return subprocess.run(command, cwd=cwd, env=os.environ.copy(), capture_output=True, text=True, timeout=60)
    finally:
        folder.chmod(0o755)


def one_clear_line(stderr: str, *parts: str) -> None:
    assert "Traceback" not in stderr and "unexpected error" not in stderr.lower(), stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, stderr
    first = errors[0]
    for part in parts:
        assert part in first, (part, stderr)


# -- install-hook ---------------------------------------------------------------------

def test_install_hook_into_a_read_only_hooks_folder(seed):
    hooks = Path(seed.path) / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    done = run_read_only(hooks, "install-hook", cwd=seed.path)
    assert done.returncode == 74, (done.returncode, done.stderr)
    one_clear_line(done.stderr, f"cannot change the hooks in {hooks}")
    assert "writable folder" in done.stderr
    assert not (hooks / "commit-msg").exists()


def test_install_hook_where_a_file_stands_for_the_hooks_folder(seed):
    (Path(seed.path) / "blocker").write_text("not a folder\n")
    seed.git("config", "core.hooksPath", "blocker/hooks")
    result = hourly("install-hook")
    assert result.exit_code == 74, (result.exit_code, result.stderr, result.exception)
    one_clear_line(result.stderr, f"cannot change the hooks in {Path(seed.path) / 'blocker' / 'hooks'}",
                   "Not a directory")
    result = hourly("uninstall-hook")
    assert result.exit_code != 70 and "Traceback" not in result.stderr


# -- btcpay keygen ----------------------------------------------------------------------

def test_keygen_into_a_read_only_work_tree(seed):
    done = run_read_only(Path(seed.path), "btcpay", "keygen", cwd=seed.path)
    assert done.returncode == 74, (done.returncode, done.stderr)
    one_clear_line(done.stderr, "cannot write", "no key was created")
    assert "--pem PATH" in done.stderr
    assert not (Path(seed.path) / "btcpayserver.pem").exists()


def test_keygen_where_the_gitignore_cannot_be_written_creates_no_key(seed):
    (Path(seed.path) / ".gitignore").mkdir()          # a folder where the file must go
    result = hourly("btcpay", "keygen")
    assert result.exit_code == 74, (result.exit_code, result.stderr, result.exception)
    one_clear_line(result.stderr, f"cannot write {Path(seed.path) / '.gitignore'}", "no key was created")
    assert not (Path(seed.path) / "btcpayserver.pem").exists()  # never a key git would not ignore


def test_keygen_does_not_make_a_folder_outside_the_repository(seed, tmp_path):
    missing = tmp_path / "nonexistent" / "dir"
    result = hourly("btcpay", "keygen", "--pem", str(missing / "k.pem"))
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.exception)
    one_clear_line(result.stderr, f"the folder {missing} does not exist")
    assert not (tmp_path / "nonexistent").exists()


def test_keygen_outside_any_repository_into_a_missing_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = hourly("btcpay", "keygen", "--pem", "nonexistent/dir/k.pem")
    assert result.exit_code == 2
    one_clear_line(result.stderr, f"the folder {tmp_path / 'nonexistent' / 'dir'} does not exist")
    assert not (tmp_path / "nonexistent").exists()


def test_keygen_makes_a_missing_folder_inside_the_repository(seed):
    assert_ok(hourly("btcpay", "keygen", "--pem", "secrets/btcpay/k.pem"))
    assert (Path(seed.path) / "secrets" / "btcpay" / "k.pem").is_file()


def test_keygen_with_a_file_where_the_folder_should_be(seed):
    (Path(seed.path) / "keys").write_text("")
    result = hourly("btcpay", "keygen", "--pem", "keys/k.pem")
    assert result.exit_code == 2
    one_clear_line(result.stderr, "keys is not a folder")


# -- pair --save -------------------------------------------------------------------------

def test_pair_save_into_an_unwritable_git_dir_still_gives_the_token(fake, seed):
    assert_ok(hourly("btcpay", "keygen"))
    (Path(seed.path) / ".git" / "hourly").write_text("")   # a file where the folder should be
    result = hourly("btcpay", "pair", fake.new_pairing_code(), "--host", fake.url, "--save")
    assert result.exit_code == 74, (result.exit_code, result.stderr, result.exception)
    one_clear_line(result.stderr, "cannot write", "unchanged")
    assert result.stdout.startswith("export BTCPAYSERVER_MERCHANT=")   # the used-up code is not wasted
    assert "printed above" in result.stderr
