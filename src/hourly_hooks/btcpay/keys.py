"""The legacy API's private key: create it safely, load it from a path or env.

The key authorises invoices on the user's store, so it is created 0600, kept
out of git (.gitignore), never overwritten (a lost key means pairing again),
and never accepted as a command-line argument.
"""

from __future__ import annotations

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

from hourly_hooks.btcpay.ledger import make_private_dirs
from hourly_hooks.gitcmd import run_git
from hourly_hooks.errors import ConfigError, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found]

DEFAULT_PEM = "btcpayserver.pem"


def default_pem_path(repo_root: Optional[str]) -> Path:
    return Path(repo_root or ".") / DEFAULT_PEM


def generate_key(path: Path, repo_root: Optional[str]) -> str:
    """Write a new secp256k1 key to `path` (0600); returns its public SIN.

    Returns after making sure git ignores the file when it lies inside the
    repository.
    """
    path = Path(path)
    pem = crypto.generate_privkey()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: refusing to overwrite is atomic, no check-then-write race.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(
            f"{path} already exists: refusing to overwrite a private key "
            "(a key that is paired with your store cannot be replaced without pairing again)."
        ) from None
    with os.fdopen(fd, "w") as handle:
        handle.write(pem)
    os.chmod(path, 0o600)  # in case the umask or filesystem changed it
    if repo_root:
        ensure_ignored(path, Path(repo_root))
    return crypto.get_sin_from_pem(pem)


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
    existing = gitignore.read_text(encoding="utf-8") if gitignore.exists() else ""
    line = "/" + relative.as_posix()
    prefix = "" if not existing or existing.endswith("\n") else "\n"
    with open(gitignore, "a", encoding="utf-8") as handle:
        handle.write(f"{prefix}# BTCPay private key (hourly btcpay keygen): never commit it\n{line}\n")
    return gitignore


def load_pem(source: Optional[str], repo_root: Optional[str]) -> str:
    """The PEM text from BTCPAYSERVER_PEM text, a path, or the default file."""
    if source and "-----BEGIN" in source:
        pem = source
        origin = "BTCPAYSERVER_PEM"
    else:
        path = Path(source) if source else default_pem_path(repo_root)
        origin = str(path)
        try:
            pem = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"No BTCPay private key at {path}: create one with `hourly btcpay keygen` "
                "and pair it with `hourly btcpay pair CODE`, or set BTCPAYSERVER_PEM."
            ) from None
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
    text = path.read_text(encoding="utf-8") if path.exists() else ""
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
    make_private_dirs(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(new_text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


# This repository's own BTCPay settings (host, token), inside the git dir so
# they are never committed and do not switch the server of other repositories.
LOCAL_SETTINGS = Path("hourly") / "config.toml"


def local_settings_file(git_dir) -> Path:
    return Path(git_dir) / LOCAL_SETTINGS


def read_pem_stdin(stream=None) -> str:
    """`--pem -`: the key text from standard input (never from an argument)."""
    text = (stream or sys.stdin).read()
    if "-----BEGIN" not in text:
        raise UsageError("--pem -: standard input does not hold a PEM private key.")
    return text
