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

By concern: ``keys`` (the schema, one table), ``layers`` (layers, origins,
settings, the resolved ``Config``), ``reading`` (files, the environment,
``-c``), ``lines`` (the line that sets a key), ``resolver`` (``resolve`` and
``load``). Every name is importable from here, as ``from hourly_hooks import
config`` callers use it.

The commit-msg hook must stay cheap: this package imports tomllib, so the hook
imports it lazily, and the checks that need heavier modules (time zones,
money) import them only when they run.
"""

from __future__ import annotations

from hourly_hooks.config.keys import (ENVIRONMENT, KEYS, SECRET_KEYS, TABLES, Key, did_you_mean, is_secret,
                                      key_spec)
from hourly_hooks.config.layers import (MASK, Config, Layer, Origin, Setting, Table, _shown_path, flag_layer,
                                        format_value)
from hourly_hooks.config.lines import find_line
from hourly_hooks.config.reading import LOCAL_FILE, REPO_FILE, local_file, parse_overrides, user_file
from hourly_hooks.config.resolver import OVERRIDES, command_line_overrides, load, resolve
from hourly_hooks.errors import ConfigError, HourlyError, UsageError  # as config.py had them

__all__ = ["ENVIRONMENT", "KEYS", "SECRET_KEYS", "TABLES", "Key", "did_you_mean", "is_secret", "key_spec",
           "MASK", "Config", "Layer", "Origin", "Setting", "Table", "_shown_path", "flag_layer", "format_value",
           "find_line", "LOCAL_FILE", "REPO_FILE", "local_file", "parse_overrides", "user_file",
           "OVERRIDES", "command_line_overrides", "load", "resolve", "ConfigError", "HourlyError", "UsageError"]
