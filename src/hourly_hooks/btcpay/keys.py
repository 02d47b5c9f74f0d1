"""The legacy API's private key: create it safely, load it from a path or env.

The key authorises invoices on the user's store, so it is created 0600, kept
out of git (.gitignore), never overwritten (a lost key means pairing again),
and never accepted as a command-line argument.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import sys
from pathlib import Path
from typing import Optional

import click
from btcpay import crypto
from ecdsa import SECP256k1, SigningKey  # type: ignore[import-untyped]

from hourly_hooks.private import make_private_dirs, open_private
from hourly_hooks.git.run import run_git
from hourly_hooks.errors import ConfigError, OutputError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found]

DEFAULT_PEM = "btcpayserver.pem"


def default_pem_path(repo_root: Optional[str]) -> Path:
    return Path(repo_root or ".") / DEFAULT_PEM


def generate_key(path: Path, repo_root: Optional[str]) -> str:
    """Write a new secp256k1 key to `path` (0600); returns its public SIN.

    When the key lies inside the repository, git is told to ignore it first:
    a key is never on disk where `git add .` would take it.
    """
    path = Path(path)
    _key_folder(path, repo_root)
    if os.path.lexists(path):
        raise _exists(path)
    pem = crypto.generate_privkey()
    try:
        if repo_root:
            ensure_ignored(path, Path(repo_root))
        # O_EXCL: refusing to overwrite is atomic, no check-then-write race.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as error:  # a read-only work tree, a full disk
        raise _cannot_write(error, path, "no key was created") from None
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(pem)
        os.chmod(path, 0o600)  # in case the umask or filesystem changed it
    except OSError as error:
        with contextlib.suppress(OSError):
            os.unlink(path)  # half a key is no key
        raise _cannot_write(error, path, "no key was created") from None
    return crypto.get_sin_from_pem(pem)


def _key_folder(path: Path, repo_root: Optional[str]) -> None:
    """Make sure the key's folder is there: made (0700) only inside the repository, where
    `--pem keys/client.pem` means a folder of this project; anywhere else a missing folder
    is a typo, and hourly does not create folders at the root of the disk."""
    folder = path.parent
    if folder.is_dir():
        return
    if os.path.lexists(folder):
        raise UsageError(f"--pem {path}: {folder} is not a folder.")
    if repo_root and inside(folder, Path(repo_root)):
        try:
            make_private_dirs(folder)
        except OSError as error:
            raise _cannot_write(error, folder, "no key was created") from None
        return
    raise UsageError(f"--pem {path}: the folder {folder} does not exist: create it first "
                     "(mkdir), or choose another path.")


def inside(path: Path, top: Path) -> bool:
    try:
        path.resolve().relative_to(top.resolve())
        return True
    except ValueError:
        return False


def _exists(path: Path) -> UsageError:
    return UsageError(f"{path} already exists: refusing to overwrite a private key "
                      "(a key that is paired with your store cannot be replaced without pairing again).")


def _cannot_write(error: OSError, path: Path, outcome: str) -> OutputError:
    where = error.filename or path
    return OutputError(f"cannot write {where}: {error.strerror or error}; {outcome}.",
                       hint="Run it where you can write, or choose a writable place with --pem PATH.")


def ensure_ignored(path: Path, repo_root: Path) -> Optional[Path]:
    """Add `path` to the top-level .gitignore unless git already ignores it.

    Returns the .gitignore written, or None when nothing needed changing.
    """
    path, repo_root = Path(path).resolve(), Path(repo_root).resolve()
    try:
        relative = path.relative_to(repo_root)
    except ValueError:
        return None  # outside the work tree: git cannot pick it up
    if run_git(["check-ignore", "-q", "--no-index", str(relative)], repo_root)[0] == 0:
        return None
    gitignore = repo_root / ".gitignore"
    existing = gitignore.read_bytes() if gitignore.exists() else b""  # any encoding: only its end is read
    line = "/" + relative.as_posix()
    prefix = "" if not existing or existing.endswith(b"\n") else "\n"
    with open(gitignore, "a", encoding="utf-8") as handle:
        handle.write(f"{prefix}# BTCPay private key (hourly btcpay keygen): never commit it\n{line}\n")
    return gitignore


def load_pem(source: Optional[str], repo_root: Optional[str]) -> str:
    """The PEM text from BTCPAYSERVER_PEM text, a path, or the default file."""
    if source and "-----BEGIN" in source:
        pem, origin = source, "BTCPAYSERVER_PEM"
    else:
        path = Path(source) if source else default_pem_path(repo_root)
        origin = str(path)
        try:
            pem = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"No BTCPay private key at {path}: create one with `hourly btcpay keygen` "
                              "and pair it with `hourly btcpay pair CODE`, or set BTCPAYSERVER_PEM.") from None
        except OSError as exc:
            raise ConfigError(f"Cannot read the BTCPay private key {path}: {exc.strerror}.") from None
        _warn_if_exposed(path)
    try:
        key = SigningKey.from_pem(pem)
    except Exception:  # ecdsa raises several types; never echo the content
        raise ConfigError(f"{origin} does not hold a PEM private key.") from None
    if key.curve != SECP256k1:
        raise ConfigError(f"{origin} is not a secp256k1 key (BTCPay needs secp256k1).")
    return pem


def _warn_if_exposed(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if os.name == "posix" and mode & 0o077:
        click.echo(f"Warning: {path} is readable by other users: chmod 600 {path}", err=True)


def save_user_settings(path: Path, values: dict, table: str = "btcpay") -> None:
    """Set `values` in `[table]` of the per-user TOML file, keeping the rest.

    Written atomically with mode 0600: the file now holds a secret. A line
    edit, not a TOML round trip, so the user's comments and layout survive.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        text = ""  # none yet (a file where its folder should be fails below, when writing)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {path} ({getattr(error, 'strerror', None) or 'not UTF-8'}): "
                          f"add the [{table}] settings by hand.") from None
    lines = text.splitlines()
    header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]\s*(#.*)?$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines.append(f"[{table}]")
        start = len(lines) - 1
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    for key, value in values.items():
        entry = f"{key} = {json.dumps(str(value))}"  # a JSON string is a valid TOML basic string
        at = next((i for i in range(start + 1, end) if re.match(rf"^\s*{re.escape(key)}\s*=", lines[i])), None)
        if at is None:
            insert = end
            while insert > start + 1 and not lines[insert - 1].strip():
                insert -= 1
            lines.insert(insert, entry)
            end += 1
        else:
            lines[at] = entry
    new_text = "\n".join(lines) + "\n"
    try:
        parsed = tomllib.loads(new_text).get(table, {})
        intact = all(parsed.get(k) == str(v) for k, v in values.items())
    except tomllib.TOMLDecodeError:
        intact = False
    if not intact:
        raise ConfigError(f"Could not update {path} safely: add the [{table}] settings by hand.") from None
    tmp = path.with_name(path.name + ".tmp")
    try:
        make_private_dirs(path.parent)
        with os.fdopen(open_private(tmp), "w", encoding="utf-8") as handle:
            handle.write(new_text)
        os.replace(tmp, path)
    except OSError as error:  # a read-only git dir or home, a full disk
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"cannot write {error.filename or path}: {error.strerror or error}; "
                          f"{path} is unchanged.") from None


def read_pem_stdin(stream=None) -> str:
    """`--pem -`: the key text from standard input (never from an argument)."""
    text = (stream or sys.stdin).read()
    if "-----BEGIN" not in text:
        raise UsageError("--pem -: standard input does not hold a PEM private key.")
    return text
