"""Load and merge configuration.

Precedence, highest first: command-line flags > environment (HOURLY_*) >
repository file (``.hourly.toml``, else ``[tool.hourly]`` in ``pyproject.toml``)
> user file (``$XDG_CONFIG_HOME/hourly/config.toml``) > defaults.
Flags are applied by the command layer; this module merges the rest.

Secrets (API keys, merchant tokens, private keys) are refused in the
repository file: it is tracked, so they belong in the user file or the
environment.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from hourly_hooks.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

REPO_FILE = ".hourly.toml"
# Environment variables that map onto top-level settings.
ENVIRONMENT = {
    "HOURLY_RATE": "rates.default",
    "HOURLY_TZ": "tz",
    "HOURLY_ROUND": "round",
    "HOURLY_IDENTITY": "identity",
    "HOURLY_BACKEND": "btcpay.backend",
}
SECRET_KEYS = {"api_key", "apikey", "merchant", "merchant_token", "token", "private_key", "pem_text"}


@dataclass
class Config:
    data: dict = field(default_factory=dict)

    def get(self, dotted: str, default: Any = None) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node

    def table(self, name: str) -> dict:
        value = self.get(name, {})
        return value if isinstance(value, dict) else {}


def user_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "hourly" / "config.toml"


def read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None


def repo_settings(top: Path) -> tuple:
    """(settings, path) from .hourly.toml, else pyproject's [tool.hourly]."""
    own = top / REPO_FILE
    if own.is_file():
        return read_toml(own), own
    pyproject = top / "pyproject.toml"
    if pyproject.is_file():
        section = read_toml(pyproject).get("tool", {}).get("hourly")
        if isinstance(section, dict):
            return section, pyproject
    return {}, None


def merge(base: dict, over: dict) -> dict:
    """Deep merge: tables merge key by key, anything else is replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _refuse_secrets(settings: dict, path: Path, trail: str = "") -> None:
    for key, value in settings.items():
        name = f"{trail}{key}"
        if isinstance(value, dict):
            _refuse_secrets(value, path, f"{name}.")
        elif key.lower() in SECRET_KEYS:
            raise ConfigError(
                f"{path}: '{name}' is a secret and this file is tracked by git",
                hint=f"Move it to {user_file()} or an environment variable, and rewrite it out of history.")


def _from_environment(environ) -> dict:
    settings: dict = {}
    for variable, dotted in ENVIRONMENT.items():
        if environ.get(variable):
            *tables, key = dotted.split(".")
            node = settings
            for table in tables:
                node = node.setdefault(table, {})
            node[key] = environ[variable]
    return settings


def _normalise(settings: dict) -> dict:
    """``rate = "100 USD"`` is shorthand for ``[rates] default``, so layers merge alike."""
    if "rate" not in settings:
        return settings
    settings = dict(settings)
    rate = settings.pop("rate")
    rates = dict(settings.get("rates") or {})
    rates.setdefault("default", rate)
    settings["rates"] = rates
    return settings


def load(top: Optional[Path] = None, environ=None) -> Config:
    """User file < repository file < environment, merged."""
    environ = os.environ if environ is None else environ
    layers = [read_toml(user_file())]
    if top is not None:
        settings, path = repo_settings(Path(top))
        if path is not None:
            _refuse_secrets(settings, path)
        layers.append(settings)
    layers.append(_from_environment(environ))
    config = Config()
    for settings in layers:
        config.data = merge(config.data, _normalise(settings))
    return config
