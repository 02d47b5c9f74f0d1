"""The one configuration resolver: layers, a schema, and where each value came from.

Precedence, highest first:

    command-line flags > ``hourly -c KEY=VALUE`` > environment > ``.hourly.toml``
    > ``[tool.hourly]`` in ``pyproject.toml`` > this clone's ``<git dir>/hourly/config.toml``
    > the user file (``$XDG_CONFIG_HOME/hourly/config.toml``) > defaults

except that the two repository files cannot set where credentials go or how
they are sent (``trust.USER_ONLY``): there those keys are set aside, unused,
and the BTCPay commands say so (trust.py).

Every layer is checked against one schema (``KEYS``): an unknown key, a value
of the wrong type or outside its set, a time zone, rate or rounding that does
not parse, is refused in one line naming the file, line and key. Every value
remembers its layer (``Setting.origin``), which ``hourly config`` shows.

Secrets (API keys, merchant tokens, private keys) are refused in the
repository files: they are, or would be, committed, so secrets belong in the
user file, the clone's git-dir file or the environment. On the command line (``-c``) they are refused too: the
process list and the shell history would show them.

The commit-msg hook must stay cheap: this module imports tomllib, so the hook
imports it lazily, and the checks that need heavier modules (time zones,
money) import them only when they run.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from hourly_hooks.errors import ConfigError, HourlyError, UsageError
from hourly_hooks.trust import refuse_secrets, withhold

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib  # type: ignore[import-not-found, no-redef, unused-ignore]

REPO_FILE = ".hourly.toml"
# Where `hourly -c KEY=VALUE` values wait for the command (click's context meta).
OVERRIDES = "hourly_hooks.config.overrides"
MASK = "********"
# Key names that hold a secret wherever they appear in a tracked file, even
# where the schema knows no such key: the refusal must say "secret", not "typo".
SECRET_KEYS = {"api_key", "apikey", "merchant", "merchant_token", "token", "private_key", "pem_text"}


# ------------------------------------------------------------------ the schema

def _check_zone(value: str, config: "Config") -> None:
    from hourly_hooks import zones
    zones.zone(value)


def _check_rate(value: str, config: "Config") -> None:
    from hourly_hooks.core.money import parse_rate
    parse_rate(value, config.get("currencies") or ())


def _check_rounding(value: str, config: "Config") -> None:
    from hourly_hooks.core.money import parse_rounding
    parse_rounding(value)


def _check_duration(value: str, config: "Config") -> None:
    from hourly_hooks.core.markers import parse_duration
    if parse_duration(value).total_seconds() < 60:
        raise ValueError(f"{value!r} is shorter than a minute")


_SHA = re.compile(r"[0-9a-fA-F]{4,40}")
_CURRENCY = re.compile(r"[A-Za-z]{3,5}")


def _check_shas(values: Sequence[str], config: "Config") -> None:
    for value in values:
        if not _SHA.fullmatch(value):
            raise ValueError(f"not a commit SHA prefix: {value!r} (expected 4 to 40 hex digits)")


def _check_currencies(values: Sequence[str], config: "Config") -> None:
    for value in values:
        if not _CURRENCY.fullmatch(value):
            raise ValueError(f"not a currency code: {value!r} (expected 3 to 5 letters, like CHF)")


def _check_host(value: str, config: "Config") -> None:
    from hourly_hooks.btcpay.hosts import normalize_host  # not transport: that imports requests
    from hourly_hooks.errors import HourlyError
    from hourly_hooks.trust import refuse_secret_url
    refuse_secret_url(value)  # first: normalize_host's own errors repeat the URL
    try:
        normalize_host(value)
    except HourlyError as error:  # the layer that set it is named by the caller
        raise ValueError(error.message) from None


# A plausible address, not RFC 5322: one @, no spaces, a dotted domain.
_EMAIL = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\".]{2,}")


def _check_email(value: str, config: "Config") -> None:
    if not _EMAIL.fullmatch(value):
        raise ValueError(f"not an email address: {value!r} (expected name@example.com)")


def _check_seconds(value: Any, config: "Config") -> None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"not a number of seconds: {value!r}") from None
    if not 0 < seconds < float("inf"):
        raise ValueError(f"must be a positive number of seconds, not {value!r}")


def _check_budget(value: str, config: "Config") -> None:
    from hourly_hooks.core.budget import parse_budget
    parse_budget(value)
    if config.get("contract"):
        raise ValueError("set budget or contract, not both")


def _check_contract(value: str, config: "Config") -> None:
    from hourly_hooks.core.budget import parse_limit
    parse_limit(value)  # contract_start's own check reads the day
    if not config.get("contract_start"):
        raise ValueError("contract needs contract_start, the day the contract began (like \"2026-01-01\")")


def _check_contract_start(value: str, config: "Config") -> None:
    from hourly_hooks.core.budget import parse_start
    parse_start(value)


@dataclass(frozen=True)
class Key:
    """One configuration key: its type, default, environment variable and check."""

    name: str
    kind: str                        # string | choice | bool | list | strings | seconds
    default: Any = None
    choices: Tuple[str, ...] = ()
    env: Optional[str] = None
    secret: bool = False
    check: Optional[Callable[[Any, "Config"], None]] = None
    expected: str = ""               # how the type error describes a good value

    def describe(self) -> str:
        if self.expected:
            return self.expected
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        return {"string": "a string", "bool": "true or false", "list": "a list of strings",
                "strings": "a string or a list of strings", "seconds": "a number of seconds"}[self.kind]


KEYS: Dict[str, Key] = {key.name: key for key in (
    Key("tz", "string", "local", env="HOURLY_TZ", check=_check_zone,
        expected='a time zone name like "Europe/Paris" or "UTC"'),
    Key("rates.default", "string", env="HOURLY_RATE", check=_check_rate, expected='a rate like "100 USD"'),
    Key("round", "string", env="HOURLY_ROUND", check=_check_rounding,
        expected='an increment like "6m" or "15m nearest"'),
    Key("round_mode", "choice", "up", choices=("up", "nearest", "down")),
    Key("identity", "choice", "email", choices=("email", "name", "name+email"), env="HOURLY_IDENTITY"),
    Key("all", "bool", False),
    Key("ignore", "strings", ()),
    Key("exclude", "list", (), check=_check_shas, expected='a list of commit SHA prefixes like ["3f2a9c1"]'),
    Key("max_session", "string", "24h", check=_check_duration, expected='a duration like "24h"'),
    Key("allow_long", "list", (), check=_check_shas, expected='a list of commit SHA prefixes like ["3f2a9c1"]'),
    Key("currencies", "list", (), check=_check_currencies, expected='a list of currency codes like ["CHF"]'),
    Key("budget", "string", check=_check_budget, expected='hours per week or month, like "40h/week"'),
    Key("contract", "string", check=_check_contract, expected='a total of hours, like "120h"'),
    Key("contract_start", "string", check=_check_contract_start),
    Key("btcpay.backend", "choice", choices=("legacy", "greenfield"), env="HOURLY_BACKEND"),
    Key("btcpay.host", "string", env="BTCPAYSERVER_HOST", check=_check_host),
    Key("btcpay.store_id", "string", env="BTCPAYSERVER_STORE_ID"),
    Key("btcpay.api_key", "string", env="BTCPAYSERVER_API_KEY", secret=True),
    Key("btcpay.merchant_token", "string", env="BTCPAYSERVER_MERCHANT", secret=True),
    Key("btcpay.pem", "string", env="BTCPAYSERVER_PEM", expected="a path to the private key file"),
    Key("btcpay.insecure", "bool", False),
    Key("btcpay.timeout", "seconds", 30, env="BTCPAYSERVER_TIMEOUT", check=_check_seconds),
    Key("btcpay.expires", "string", check=_check_duration, expected='a duration like "24h"'),
    Key("btcpay.buyer_email", "string", check=_check_email, expected="an email address like name@example.com"),
    Key("btcpay.buyer_name", "string"),
    Key("btcpay.notification_url", "string"),
    Key("btcpay.redirect_url", "string"),
    Key("btcpay.payment_methods", "strings", (), expected='a list such as ["onchain", "lightning"]'),
    # Who the timesheet is from and to (core/document.py): [contractor] and [client], any layer.
    *(key for party in ("contractor", "client") for key in (
        Key(f"{party}.name", "string"),
        Key(f"{party}.address", "strings",
            expected='an address line, or a list of lines like ["1 Main St", "Springfield"]'),
        Key(f"{party}.email", "string", check=_check_email, expected="an email address like name@example.com"),
        Key(f"{party}.tax_id", "string", expected='a tax or VAT number like "DE123456789"'),
    )),
)}
# Tables whose keys are not fixed: [rates] maps any identity to a rate.
_RATE_KEY = Key("rates.*", "string", check=_check_rate, expected='a rate like "100 USD"')
TABLES = ("rates", "btcpay", "contractor", "client")
ENVIRONMENT = {key.env: key.name for key in KEYS.values() if key.env}
# Words people reach for that are not keys (difflib cannot see these).
_SYNONYMS = {"timezone": "tz", "time_zone": "tz", "zone": "tz", "rounding": "round",
             "rounding_mode": "round_mode", "hourly_rate": "rate", "default_rate": "rate",
             "url": "host", "server": "host", "token": "merchant_token", "store": "store_id",
             "key": "api_key", "methods": "payment_methods", "expiry": "expires",
             "expiration": "expires", "max_hours": "max_session"}
_FLAGS = {"rates.default": "--rate"}


def key_spec(dotted: str) -> Optional[Key]:
    if dotted.startswith("rates.") and dotted != "rates.":
        return KEYS.get(dotted) or _RATE_KEY
    return KEYS.get(dotted)


def is_secret(dotted: str, value: Any) -> bool:
    """Secret keys always; the PEM setting when it holds the key text itself."""
    spec = key_spec(dotted)
    return bool(spec and spec.secret) or (dotted == "btcpay.pem" and "-----BEGIN" in str(value))


def did_you_mean(dotted: str) -> str:
    """`` (did you mean 'tz'?)`` for an unknown key near a known one, else ""."""
    table, _, name = dotted.rpartition(".")
    if table == "rates":
        return ""
    scope = [k.split(".", 1)[1] for k in KEYS if k.startswith(f"{table}.")] if table \
        else [k for k in KEYS if "." not in k] + ["rate", *TABLES]
    if not table and f"btcpay.{name}" in KEYS:
        return f" (did you mean 'btcpay.{name}', under [btcpay]?)"
    import difflib  # only once a key is wrong

    wanted = _SYNONYMS.get(name.lower().replace("-", "_"), name.lower().replace("-", "_"))
    close = [wanted] if wanted in scope else difflib.get_close_matches(wanted, scope, n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean '{table + '.' if table else ''}{close[0]}'?)"


# ------------------------------------------------------------------- origins

@dataclass
class Layer:
    """One source of settings: its values and, per key, where in it the key was written."""

    kind: str                        # default | user | local | pyproject | repo | table | env | -c | flag
    name: str = ""                   # the file, or "" for the unnamed layers
    values: Dict[str, Any] = field(default_factory=dict)
    sources: Dict[str, Tuple[str, ...]] = field(default_factory=dict)  # key -> TOML path / variable
    prefix: Tuple[str, ...] = ()     # where the settings sit in the file: ("tool", "hourly")
    text: Optional[str] = None
    ignored: Dict[str, Any] = field(default_factory=dict)  # user-only keys a repository file set (trust.py)
    _lines: Dict[str, Optional[int]] = field(default_factory=dict, repr=False)

    @property
    def is_file(self) -> bool:
        return self.kind in ("user", "local", "pyproject", "repo")

    @property
    def on_command_line(self) -> bool:
        return self.kind in ("-c", "flag")

    def line_of(self, dotted: str) -> Optional[int]:
        if self.text is None:
            return None
        if dotted not in self._lines:
            path = self.prefix + self.sources.get(dotted, tuple(_split_key(dotted)))
            self._lines[dotted] = find_line(self.text, path)
        return self._lines[dotted]

    def where(self, dotted: str) -> str:
        """How an error message names this key in this layer."""
        if self.is_file:
            line = self.line_of(dotted)
            return f"{self.name}:{line}" if line else self.name
        source = self.sources.get(dotted, (dotted,))[0]
        return {"env": f"environment variable {source}", "-c": f"-c {source}",
                "flag": source, "table": f"the [{self.name}] settings",
                "default": "the default"}.get(self.kind, self.kind)

    def error(self, text: str, hint: Optional[str] = None) -> HourlyError:
        kind = UsageError if self.on_command_line else ConfigError
        return kind(text, hint=hint)

    def bad_value(self, dotted: str, error: ValueError) -> HourlyError:
        """A value that does not parse, named by where it was set (a flag names its key already)."""
        named = "" if self.kind == "flag" else f" '{dotted}':"
        return self.error(f"{self.where(dotted)}:{named} {error}")


@dataclass(frozen=True)
class Origin:
    """Where a value came from, shown like ``git config --show-origin``."""

    kind: str                        # default | file | env | command line | flag
    name: str = ""                   # the file, variable or flag
    line: Optional[int] = None

    def __str__(self) -> str:
        if self.kind == "default":
            return "default"
        if self.kind == "file":
            return f"file:{_shown_path(self.name)}" + (f":{self.line}" if self.line else "")
        return f"{self.kind}:{self.name}"

    def to_json(self) -> dict:
        return {"kind": self.kind, "name": self.name or None, "line": self.line}


@dataclass(frozen=True)
class Setting:
    key: str
    value: Any
    layer: Layer

    @property
    def origin(self) -> Origin:
        layer = self.layer
        if layer.is_file:
            return Origin("file", layer.name, layer.line_of(self.key))
        if layer.kind == "-c":
            return Origin("command line", "-c")
        if layer.kind == "table":
            return Origin("table", layer.name)
        source = layer.sources.get(self.key, ("",))[0]
        return Origin(layer.kind, source) if layer.kind in ("env", "flag") else Origin("default")

    @property
    def secret(self) -> bool:
        return is_secret(self.key, self.value)

    def shown(self) -> str:
        """The value as text, a secret masked."""
        if self.secret:
            return MASK if self.value else ""
        return format_value(self.value)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


def _shown_path(path: str) -> str:
    """Relative to the current directory when inside it, else from ~ when under home."""
    try:
        relative = os.path.relpath(path) if os.path.isabs(path) else path
    except ValueError:  # Windows: another drive
        relative = ".."
    if not relative.startswith(".."):
        return relative
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home not in ("", "/") and path.startswith(home + os.sep) else path


# ---------------------------------------------------------------- the config

class Table(dict):
    """One table's effective values (``config.table("btcpay")``), bound to its Config."""

    def __init__(self, values: Mapping, config: "Config"):
        super().__init__(values)
        self.config = config


class Config:
    """The resolved configuration: the effective value of each key, and its layer."""

    def __init__(self, layers: Sequence[Layer], problems: Sequence[HourlyError] = ()):
        self.layers: List[Layer] = list(layers)
        self.problems: List[HourlyError] = list(problems)
        self._effective: Dict[str, Setting] = {}
        for layer in self.layers:
            for key, value in layer.values.items():
                self._effective[key] = Setting(key, value, layer)

    def get(self, dotted: str, default: Any = None) -> Any:
        setting = self._effective.get(dotted)
        return default if setting is None else setting.value

    def setting(self, dotted: str) -> Optional[Setting]:
        return self._effective.get(dotted)

    def table(self, name: str) -> Table:
        prefix = f"{name}."
        return Table({key[len(prefix):]: s.value for key, s in self._effective.items()
                      if key.startswith(prefix)}, self)

    def settings(self) -> List[Setting]:
        """Every effective setting, in schema order (then [rates] by name)."""
        order = {key: index for index, key in enumerate(KEYS)}
        return sorted(self._effective.values(), key=lambda s: (order.get(s.key, order["rates.default"]), s.key))

    def everywhere(self, dotted: str) -> List[Any]:
        """The key's value in every layer that sets it, highest first; ignored ones too (trust.py):
        the hooks protect every key file any layer names, and protecting more is never a leak."""
        return [values[dotted] for layer in reversed(self.layers)
                for values in (layer.values, layer.ignored) if dotted in values]

    def parsed(self, dotted: str, parse: Callable[[Any], Any]) -> Any:
        """parse(value), a ValueError reported as the value's layer would report it."""
        setting = self._effective.get(dotted)
        value = None if setting is None else setting.value
        try:
            return parse(value)
        except (ValueError, OverflowError) as error:
            if setting is None:
                raise
            problem = error if isinstance(error, ValueError) else ValueError(f"{value!r} is too large")
            raise setting.layer.bad_value(dotted, problem) from None

    def with_flags(self, flags: Mapping[str, Any], names: Optional[Mapping[str, str]] = None) -> "Config":
        """This configuration under one more layer of command-line flags (None = not given)."""
        layer = flag_layer(flags, names)
        if not layer.values:
            return self
        config = Config(self.layers + [layer], self.problems)
        _run_checks(config, [layer], _Problems(strict=True))
        return config

    @property
    def data(self) -> dict:
        """The effective values as nested tables (``{"btcpay": {"host": ...}}``)."""
        nested: dict = {}
        for key, setting in self._effective.items():
            table, _, name = key.partition(".")
            if name and table in TABLES:
                nested.setdefault(table, {})[name] = setting.value
            else:
                nested[key] = setting.value
        return nested


# ----------------------------------------------------------------- resolving

class _Problems:
    """Strict: the first problem is raised. Lenient (the hooks): problems are kept, the rest used."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.found: List[HourlyError] = []

    def __call__(self, error: HourlyError) -> None:
        if self.strict:
            raise error
        self.found.append(error)


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


def _put(layer: Layer, dotted: str, value: Any, source: Tuple[str, ...], problems: _Problems) -> None:
    layer.sources[dotted] = source
    spec = key_spec(dotted)
    if spec is None:
        problems(layer.error(f"{layer.where(dotted)}: unknown key '{dotted}'{did_you_mean(dotted)}"))
        return
    if _empty(spec, value):  # never a silent fall back to the default
        problems(layer.error(_empty_message(layer, dotted, value)))
        return
    try:
        layer.values[dotted] = _typed(spec, value)
    except TypeError:
        problems(layer.error(f"{layer.where(dotted)}: '{dotted}' must be {spec.describe()}, "
                             f"not {_described(value)}"))


def _empty(spec: Key, value: Any) -> bool:
    """An empty text where a value is needed, or an empty word in a list (it would match everything)."""
    if isinstance(value, str):
        return spec.kind in ("string", "choice", "seconds") and not value.strip()
    return isinstance(value, (list, tuple)) and any(isinstance(v, str) and not v.strip() for v in value)


def _empty_message(layer: Layer, dotted: str, value: Any) -> str:
    where = layer.where(dotted)
    if not isinstance(value, str):
        return f"{where}: '{dotted}' holds an empty word, which would match everything: remove it"
    if layer.kind == "flag":
        return f"{where} '': an empty value: give one, or leave {where} out to use the default"
    if layer.kind == "-c":
        return f"{where}=: '{dotted}' is empty: give it a value, or leave {where} out to use the default"
    return f"{where}: '{dotted}' is empty: give it a value, or delete it to use the default"


def _typed(spec: Key, value: Any) -> Any:
    """The value in the key's type (choices lower-cased, one string to a list); TypeError otherwise."""
    kind = spec.kind
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "choice" and isinstance(value, str) and value.lower() in spec.choices:
        return value.lower()
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind in ("list", "strings") and isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if kind == "strings" and isinstance(value, str):
        return (value,)
    if kind == "seconds" and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        return value
    raise TypeError(spec.name)


def _described(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {'true' if value else 'false'}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "a list" if all(isinstance(v, str) for v in value) else "a list holding non-strings"
    return f"a TOML {type(value).__name__} (quote it to make it a string)"


def _from_text(spec: Key, text: str) -> Any:
    """A value typed as a string (environment, -c) in the key's type."""
    if spec.kind == "bool":
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        return text
    if spec.kind in ("list", "strings"):
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


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


def flag_layer(flags: Mapping[str, Any], names: Optional[Mapping[str, str]] = None) -> Layer:
    """Command-line flag values (None, False or () = not given) as the top layer; "" is refused."""
    layer = Layer("flag")
    problems = _Problems(strict=True)
    for dotted, value in flags.items():
        if value is None or value is False or value == ():
            continue
        name = (names or {}).get(dotted) or _FLAGS.get(dotted) or \
            "--" + dotted.rpartition(".")[2].replace("_", "-")
        _put(layer, dotted, value, (name,), problems)
    return layer


def _default_layer() -> Layer:
    return Layer("default", values={key.name: key.default for key in KEYS.values() if key.default is not None})


def _run_checks(config: Config, layers: Sequence[Layer], problems: _Problems) -> None:
    """The checks that parse a value (zones, rates, durations), on every layer's values."""
    for layer in layers:
        for dotted, value in list(layer.values.items()):
            spec = key_spec(dotted)
            if spec is None or spec.check is None or layer.kind == "default":
                continue
            try:
                spec.check(value, config)
            except OverflowError:  # "9999999999999999999d": too large for a timedelta
                del layer.values[dotted]
                problems(layer.bad_value(dotted, ValueError(f"{value!r} is too large")))
            except ValueError as error:
                del layer.values[dotted]  # a lenient caller must not use it either
                problems(layer.bad_value(dotted, error))


def command_line_overrides() -> Tuple[str, ...]:
    """The ``hourly -c`` values of the running command (none outside one)."""
    click = sys.modules.get("click")  # never imported here: the hooks do not use click
    if click is None:
        return ()
    context = click.get_current_context(silent=True)
    return tuple(context.find_root().meta.get(OVERRIDES, ())) if context else ()


def resolve(top: Optional[Path] = None, *, flags: Optional[Mapping[str, Any]] = None,
            overrides: Optional[Sequence[str]] = None, environ: Optional[Mapping[str, str]] = None,
            table: Optional[Tuple[str, Mapping]] = None, strict: bool = True, checks: bool = True) -> Config:
    """Every layer, merged; the first problem raised (strict), or kept in ``Config.problems``.

    ``top`` is the repository's top level (None: no repository files).
    ``overrides`` are ``-c`` values (default: the running command's);
    ``table`` is a (name, settings) pair standing in for the files, for
    callers that hold one table of settings already.
    ``checks=False`` skips the parsing checks (time zones, rates...): for the
    hooks, which read only a few keys and must start fast.
    """
    problems = _Problems(strict)
    environ = os.environ if environ is None else environ
    layers = [_default_layer()]
    if table is not None:
        name, values = table
        given = Layer("table", name)
        _flatten({name: dict(values)}, given, problems)
        layers.append(given)
    else:
        candidates = [_file_layer("user", user_file(), problems)]
        local = local_file(Path(top)) if top is not None else None
        if local is not None:
            candidates.append(_file_layer("local", local, problems))
        if top is not None:
            candidates += [_file_layer("pyproject", Path(top) / "pyproject.toml", problems, ("tool", "hourly")),
                           _file_layer("repo", Path(top) / REPO_FILE, problems)]
        layers += [layer for layer in candidates if layer is not None]
    layers.append(_environment_layer(environ, problems))
    try:
        layers.append(parse_overrides(command_line_overrides() if overrides is None else overrides))
        if flags:
            layers.append(flag_layer(flags))
    except HourlyError as error:
        problems(error)
    config = Config(layers)
    if checks:
        _run_checks(config, layers, problems)
        config = Config(layers)  # without the values the checks refused
    config.problems = problems.found
    return config


def load(top: Optional[Path] = None, environ: Optional[Mapping[str, str]] = None, *,
         flags: Optional[Mapping[str, Any]] = None) -> Config:
    """The configuration every command uses: strict, with the running command's ``-c`` values."""
    return resolve(top, flags=flags, environ=environ)


# ------------------------------------------------------------ finding lines

_KEY_PART = re.compile(r"\s*(?:\"((?:[^\"\\]|\\.)*)\"|'([^']*)'|([A-Za-z0-9_-]+))\s*")
_TABLE = re.compile(r"\[\[?\s*([^\]]+?)\s*\]\]?")


def _split_key(text: str) -> List[str]:
    """``a."b.c".d`` -> ["a", "b.c", "d"] (TOML dotted keys, quotes honoured)."""
    parts: List[str] = []
    position = 0
    while position < len(text):
        match = _KEY_PART.match(text, position)
        if not match or match.end() == position:
            return parts
        parts.append(next(group for group in match.groups() if group is not None))
        position = match.end()
        if position < len(text) and text[position] == ".":
            position += 1
        elif position < len(text):
            return parts
    return parts


def _key_of_line(line: str) -> Optional[List[str]]:
    """The dotted key a ``key = value`` line assigns, or None."""
    position = 0
    parts: List[str] = []
    while True:
        match = _KEY_PART.match(line, position)
        if not match:
            return None
        parts.append(next(group for group in match.groups() if group is not None))
        position = match.end()
        if line[position:position + 1] == ".":
            position += 1
            continue
        return parts if line[position:position + 1] == "=" else None


def find_line(text: str, path: Sequence[str]) -> Optional[int]:
    """The line that sets the TOML key ``path`` (a tuple of parts), or None.

    A cheap reading of the usual forms (``[table]`` headers, dotted keys,
    inline tables): it only points at the line, it is never the parser.
    """
    wanted = tuple(path)
    table: Tuple[str, ...] = ()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            header = _TABLE.match(line)
            if header:
                table = tuple(_split_key(header.group(1)))
                if table == wanted:
                    return number
            continue
        key = _key_of_line(line)
        if key is None:
            continue
        full = table + tuple(key)
        if full == wanted or (len(full) < len(wanted) and wanted[:len(full)] == full):
            return number  # the key itself, or an inline table holding it
    return None
