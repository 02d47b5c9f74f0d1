"""Reading settings into layers: the TOML files, the environment, ``hourly -c`` values.

Where the files are (the user file, this clone's git-dir file, the repository's
``.hourly.toml`` and ``pyproject.toml``), their text (UTF-8, a byte-order mark
allowed) and TOML parse errors named by file and line; each document flattened
into a layer, secrets refused in the repository files (trust.py).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Tuple

from hourly_hooks.config.keys import ENVIRONMENT, KEYS, TABLES, Key, is_secret, key_spec
from hourly_hooks.config.layers import Layer, _described, _Problems, _put
from hourly_hooks.errors import ConfigError, UsageError
from hourly_hooks.trust import refuse_secrets, withhold

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]

REPO_FILE = ".hourly.toml"


def user_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "hourly" / "config.toml"


# This clone's own settings (`hourly btcpay pair --save`), inside the git dir:
# never tracked, so secrets may live there, and other repositories are not affected.
LOCAL_FILE = Path("hourly") / "config.toml"


def local_file(top: Path) -> Optional[Path]:
    """``<git common dir>/hourly/config.toml`` of the work tree at top, found without running git."""
    from hourly_hooks.git.repository import common_dir_of, git_dir_of
    git_dir = git_dir_of(str(top))
    if git_dir is None:
        return None
    try:
        return Path(common_dir_of(git_dir)) / LOCAL_FILE
    except OSError:
        return None


def _read_text(path: Path) -> Optional[str]:
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):  # no file (or a file where its folder should be)
        return None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte 0x{data[error.start]:02x}); "
                          "save the file as UTF-8") from None
    return text[1:] if text.startswith("\ufeff") else text


def _parse_toml(path: Path, text: str) -> dict:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        detail = " ".join(str(error).split())
        line = re.search(r"\(at line (\d+), column \d+\)", detail)
        where = f"{path}:{line.group(1)}" if line else str(path)
        raise ConfigError(f"{where}: not valid TOML: {detail}") from None


def _file_layer(kind: str, path: Path, problems: _Problems, prefix: Tuple[str, ...] = ()) -> Optional[Layer]:
    try:
        text = _read_text(path)
        if text is None or (prefix and "hourly" not in text):
            return None  # no file, or a pyproject.toml without a [tool.hourly] to parse
        data: Any = _parse_toml(path, text)
    except ConfigError as error:
        problems(error)
        return None
    layer = Layer(kind, str(path), prefix=prefix, text=text)
    for part in prefix:
        data = data.get(part, {}) if isinstance(data, dict) else {}
    if not isinstance(data, dict):
        problems(ConfigError(f"{layer.where('')}: '{'.'.join(prefix)}' must be a table"))
        return layer
    if kind in ("pyproject", "repo"):
        refuse_secrets(data, layer, problems)
    _flatten(data, layer, problems)
    withhold(layer)
    return layer


def _flatten(data: Mapping, layer: Layer, problems: _Problems) -> None:
    """A TOML document's settings into the layer, each checked for its type."""
    for name, value in data.items():
        if name in TABLES:
            if not isinstance(value, dict):
                layer.sources[name] = (name,)
                problems(ConfigError(f"{layer.where(name)}: '{name}' must be a table ([{name}]), "
                                     f"not {_described(value)}"))
                continue
            for sub, item in value.items():
                _put(layer, f"{name}.{sub}", item, (name, sub), problems)
        elif name == "rate":
            if isinstance(data.get("rates"), dict) and "default" in data["rates"]:
                layer.sources["rate"] = ("rate",)
                problems(ConfigError(f"{layer.where('rate')}: 'rate' is short for 'rates.default': "
                                     "set one of them, not both"))
                continue
            _put(layer, "rates.default", value, ("rate",), problems)
        else:
            _put(layer, name, value, (name,), problems)


_BOOLS = {**dict.fromkeys(("true", "yes", "on", "1"), True), **dict.fromkeys(("false", "no", "off", "0"), False)}


def _from_text(spec: Key, text: str) -> Any:
    """A value typed as a string (environment, -c) in the key's type."""
    if spec.kind == "bool":  # any other word stays text, which the type check then refuses
        return _BOOLS.get(text.strip().lower(), text)
    return [item.strip() for item in text.split(",") if item.strip()] if spec.kind in ("list", "strings") else text


def _environment_layer(environ: Mapping[str, str], problems: _Problems) -> Layer:
    layer = Layer("env")
    for variable, dotted in ENVIRONMENT.items():
        text = environ.get(variable)
        if text:
            _put(layer, dotted, _from_text(KEYS[dotted], text), (variable,), problems)
    return layer


def parse_overrides(items: Iterable[str]) -> Layer:
    """``-c KEY=VALUE`` values as a layer; a bad one is a UsageError (exit 2)."""
    layer = Layer("-c")
    problems = _Problems(strict=True)
    for item in items:
        key, equals, text = item.partition("=")
        key = key.strip()
        if not equals or not key:
            raise UsageError(f"-c {item}: expected KEY=VALUE, like -c tz=UTC")
        dotted = "rates.default" if key == "rate" else key
        spec = key_spec(dotted)
        if spec is None and key in TABLES:
            raise UsageError(f"-c {item}: '{key}' is a table: set one key in it, like -c {key}.default=...")
        if spec is not None and is_secret(dotted, text):
            raise UsageError(
                f"-c {key}: a secret on the command line shows in the process list and shell history",
                hint=_safe_ways(dotted))
        _put(layer, dotted, _from_text(spec, text) if spec else text, (key,), problems)
    return layer


def _safe_ways(dotted: str) -> str:
    variable = KEYS[dotted].env if dotted in KEYS else None
    ways = [f"the environment variable {variable}"] if variable else []
    ways.append(f"the user file {user_file()} (under [btcpay])")
    if dotted == "btcpay.pem":
        ways.append("--pem PATH, or --pem - to read the key from stdin")
    return "Pass it through " + ", or ".join(ways) + "."

