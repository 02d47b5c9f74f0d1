"""The configuration trust boundary: what a repository's own files may not decide.

A cloned repository's ``.hourly.toml`` and ``[tool.hourly]`` are written by
whoever wrote the repository. They stay the team's settings for money (rates,
rounding, what to ignore), which the invoice preview shows with their origin
before anything is sent. But where the user's credentials go and how the
connection is secured are the user's alone: set there, those keys are set
aside (``Layer.ignored``), never used, and every command that talks to BTCPay
says so in one line. Git itself never reads configuration from the work tree:
that is the model.

Also here: a host URL never shown with userinfo or a query (a key pasted into
it is a secret), and the warning for a user file holding a secret that other
users can read. Cheap to import (the hooks import config, which imports this).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Tuple

if TYPE_CHECKING:  # pragma: no cover
    from hourly_hooks.config import Config, Layer

# Where credentials go, how they are sent, where the payer and the invoice's
# data are sent: only the user decides (flags, -c, environment, the clone's
# git-dir file, the user file). notification_url is here because BTCPay posts
# the invoice (amount, buyer, the hourly time it bills) to it.
USER_ONLY = ("btcpay.host", "btcpay.insecure", "btcpay.store_id", "btcpay.backend", "btcpay.pem",
             "btcpay.redirect_url", "btcpay.notification_url")
# Layers written by the repository's authors, not by the user.
SHARED = ("pyproject", "repo")
_FLAG = {"btcpay.host": "--host", "btcpay.insecure": "--insecure", "btcpay.backend": "--backend",
         "btcpay.pem": "--pem"}
_URLS = ("btcpay.host", "btcpay.notification_url", "btcpay.redirect_url")


def withhold(layer: "Layer") -> None:
    """A repository file's user-only keys moved out of its values into ``layer.ignored``."""
    if layer.kind not in SHARED:
        return
    for key in [key for key in layer.values if key in USER_ONLY]:  # in the file's order
        layer.ignored[key] = layer.values.pop(key)


def refuse_secrets(settings: Mapping, layer: "Layer", problems: Any, trail: Tuple[str, ...] = ()) -> None:
    """Each secret in a repository file, a problem naming its line (and whether git tracks the file)."""
    from hourly_hooks.config import SECRET_KEYS, find_line, user_file
    from hourly_hooks.errors import ConfigError

    for key, value in settings.items():
        path = trail + (key,)
        if isinstance(value, dict):
            refuse_secrets(value, layer, problems, path)
        elif key.lower() in SECRET_KEYS or (key == "pem" and "-----BEGIN" in str(value)):
            line = find_line(layer.text or "", layer.prefix + path)
            where = f"{layer.name}{f':{line}' if line else ''}: '{'.'.join(path)}' is a secret and this file"
            if _tracked(layer.name):
                problems(ConfigError(f"{where} is tracked by git", hint=f"Move it to {user_file()} or an "
                                     "environment variable, and rewrite it out of history."))
            else:  # not committed yet: nothing to rewrite, but the next `git add .` would share it
                problems(ConfigError(f"{where} is in the work tree, where a commit would share it",
                                     hint=f"Move it to {user_file()} or an environment variable."))


def _tracked(name: str) -> bool:
    """Whether git's index holds the file (asked only once a secret is found in it)."""
    from hourly_hooks.errors import GitError
    from hourly_hooks.git.run import run_git

    folder, base = os.path.split(name)
    try:
        code, _, _ = run_git(["ls-files", "--error-unmatch", "--", base], folder or None)
    except GitError:
        return True  # no git to ask: the message that says more
    return code == 0


def ignored(config: "Config") -> List[Any]:
    """Every user-only setting a repository file tried to set, as Settings (file order)."""
    from hourly_hooks.config import Setting
    return [Setting(key, value, layer) for layer in config.layers for key, value in layer.ignored.items()]


def notice(setting: Any) -> str:
    """One line: the file and line, the key, why it is not used and where to set it."""
    key = setting.key
    return (f"Warning: {str(setting.origin)[len('file:'):]}: '{key}' is ignored (a repository's files may not "
            f"choose where your credentials and invoices go, or how): set it in {_places(key, setting.layer.name)}.")


def _places(key: str, repo_file: str) -> str:
    from pathlib import Path

    from hourly_hooks import config as config_module

    name = key.partition(".")[2]
    places = [f"your user file {_home(config_module.user_file())} [btcpay]"]
    local = config_module.local_file(Path(repo_file).parent)
    if local is not None:
        places.append(f"this clone's {_home(local)}")
    spec = config_module.KEYS[key]
    if spec.env:
        places.append(spec.env)
    places.append(_FLAG.get(key, f"-c {key}={'true' if name == 'insecure' else 'VALUE'}"))
    return ", ".join(places[:-1]) + " or " + places[-1]


def _home(path) -> str:
    from hourly_hooks.config import _shown_path
    return _shown_path(str(path))


def notices(config: "Config") -> List[str]:
    """What a command that talks to BTCPay says first: ignored keys, exposed secrets."""
    return [notice(setting) for setting in ignored(config)] + exposures(config)


def exposures(config: "Config") -> List[str]:
    return [warning for warning in map(exposed, config.layers) if warning]


def shown(key: str, value: Any) -> str:
    """A value as ``hourly config`` may print it: URLs without userinfo or query."""
    from hourly_hooks.config import format_value
    return safe_url(str(value)) if key in _URLS else format_value(value)


# ------------------------------------------------- money settings' origins

def money_rows(sheet: Any, origins: Mapping[str, str]) -> List[Tuple[str, str]]:
    """Preview rows: each rate the bill uses and the rounding, with where each was set.

    Rates and rounding stay team settings (a repository file may set them), so
    the preview shows their origin before the user confirms."""
    rates = sheet.selection.rates
    rows = []
    # Each Rate object once, in the order used (the same object, not an equal one: see _rate_key).
    for rate in {id(line.rate): line.rate for line in sheet.lines if line.rate is not None}.values():
        key = _rate_key(rates, rate)
        whom = f" for {key[len('rates.'):]}" if key != "rates.default" else ""
        rows.append(("Rate", f"{rate}{whom} ({origins.get(key, 'default')})"))
    rounding = sheet.selection.rounding
    if rounding is None:
        return rows + [("Rounding", "(none)")]
    where = [f"{key}: {origins[key]}" for key in ("round", "round_mode")
             if origins.get(key, "default") != "default"]
    return rows + [("Rounding", f"{rounding} ({', '.join(where)})")]


def _rate_key(rates: Any, rate: Any) -> str:
    """The configuration key a Rate object was read from (the same object, not an equal one)."""
    return next((f"rates.{name}" for name, candidate in rates.by_identity.items() if candidate is rate),
                "rates.default")


# ---------------------------------------------------------------- host URLs

_AUTHORITY = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?([^/?#]*)")


def refuse_secret_url(text: str) -> None:
    """ValueError (that does not repeat the text) for a host holding userinfo, a query or a fragment."""
    authority = _AUTHORITY.match(text.strip())
    if authority and "@" in authority.group(1):
        raise ValueError("the host URL holds a user name or password (not shown): put credentials in "
                         "BTCPAYSERVER_API_KEY / BTCPAYSERVER_MERCHANT and give only https://host[:port]")
    if "?" in text or "#" in text:
        raise ValueError("the host URL holds a query or fragment (not shown; a key pasted there is a "
                         "secret): give only https://host[:port][/path]")


def safe_url(text: str) -> str:
    """The URL without its userinfo, query and fragment (each replaced by a mark)."""
    authority = _AUTHORITY.match(text)
    if authority and "@" in authority.group(1):
        start, end = authority.span(1)
        text = text[:start] + "***@" + text[start:end].rpartition("@")[2] + text[end:]
    for mark in ("?", "#"):
        if mark in text:
            text = text.split(mark, 1)[0] + mark + "***"
    return text


# ------------------------------------------------------------- exposed files

def exposed(layer: "Layer") -> Optional[str]:
    """The warning for a user or clone file holding a secret that other users may read or change."""
    from hourly_hooks.config import is_secret

    if layer.kind not in ("user", "local") or os.name == "nt":
        return None
    if not any(is_secret(key, value) and value for key, value in layer.values.items()):
        return None
    try:
        mode = os.stat(layer.name).st_mode & 0o777
    except OSError:
        return None
    if not mode & 0o077:
        return None
    path = _home(layer.name)
    return (f"Warning: {path} holds a secret and other users may read or change it "
            f"(mode {mode:04o}): chmod 600 {path}")


__all__ = ["USER_ONLY", "SHARED", "withhold", "refuse_secrets", "ignored", "notice", "notices", "exposures", "shown", "money_rows", "refuse_secret_url",
           "safe_url", "exposed"]
