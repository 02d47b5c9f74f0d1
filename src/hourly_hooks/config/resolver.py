"""Resolving the configuration: every layer merged, in precedence order (see the package's docstring)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

from hourly_hooks.config.keys import KEYS
from hourly_hooks.config.layers import Config, Layer, _Problems, _run_checks, flag_layer
from hourly_hooks.config.reading import (REPO_FILE, _environment_layer, _file_layer, _flatten, local_file,
                                         parse_overrides, user_file)
from hourly_hooks.errors import HourlyError

# Where `hourly -c KEY=VALUE` values wait for the command (click's context meta).
OVERRIDES = "hourly_hooks.config.overrides"


def command_line_overrides() -> Tuple[str, ...]:
    """The ``hourly -c`` values of the running command (none outside one)."""
    click = sys.modules.get("click")  # never imported here: the hooks do not use click
    if click is None:
        return ()
    context = click.get_current_context(silent=True)
    return tuple(context.find_root().meta.get(OVERRIDES, ())) if context else ()


def resolve(top: Optional[Path] = None, *, flags: Optional[Mapping[str, Any]] = None,
            environ: Optional[Mapping[str, str]] = None,
            table: Optional[Tuple[str, Mapping]] = None, strict: bool = True, checks: bool = True) -> Config:
    """Every layer, merged; the first problem raised (strict), or kept in ``Config.problems``.

    ``top`` is the repository's top level (None: no repository files).
    ``table`` is a (name, settings) pair standing in for the files, for
    callers that hold one table of settings already.
    ``checks=False`` skips the parsing checks (time zones, rates...): for the
    hooks, which read only a few keys and must start fast.
    """
    problems = _Problems(strict)
    environ = os.environ if environ is None else environ
    layers = [Layer("default", values={key.name: key.default for key in KEYS.values() if key.default is not None})]
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
        layers.append(parse_overrides(command_line_overrides()))  # the running command's -c values
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

