"""Layers of settings, where each value came from, and the resolved ``Config``.

A ``Layer`` is one source (a file, the environment, ``-c``, flags, the
defaults); its values are typed and checked against the schema (keys.py) as
they are put in (``put``); every ``Setting`` remembers its layer, which
``hourly config`` shows as an ``Origin``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from hourly_hooks.config.keys import _FLAGS, KEYS, TABLES, Key, did_you_mean, is_secret, key_spec
from hourly_hooks.config.lines import _split_key, find_line
from hourly_hooks.errors import ConfigError, HourlyError, UsageError

MASK = "********"

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
        return (UsageError if self.on_command_line else ConfigError)(text, hint=hint)

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
    return ", ".join(str(item) for item in value) if isinstance(value, (list, tuple)) else str(value)


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

    def with_flags(self, flags: Mapping[str, Any]) -> "Config":
        """This configuration under one more layer of command-line flags (None = not given)."""
        layer = flag_layer(flags)
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


class _Problems:
    """Strict: the first problem is raised. Lenient (the hooks): problems are kept, the rest used."""

    def __init__(self, strict: bool):
        self.strict = strict
        self.found: List[HourlyError] = []

    def __call__(self, error: HourlyError) -> None:
        if self.strict:
            raise error
        self.found.append(error)


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


def flag_layer(flags: Mapping[str, Any]) -> Layer:
    """Command-line flag values (None, False or () = not given) as the top layer; "" is refused."""
    layer = Layer("flag")
    problems = _Problems(strict=True)
    for dotted, value in flags.items():
        if value is None or value is False or value == ():
            continue
        name = _FLAGS.get(dotted) or "--" + dotted.rpartition(".")[2].replace("_", "-")
        _put(layer, dotted, value, (name,), problems)
    return layer


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
