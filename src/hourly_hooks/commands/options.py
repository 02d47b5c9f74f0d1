"""The selection flags shared by `hourly report` and `hourly invoice`.

``selection_options`` adds the flags to a click command; ``load_timesheet``
turns their values, merged over configuration, into a built Timesheet.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import click

from hourly_hooks import config as config_module
from hourly_hooks import periods
from hourly_hooks.errors import ConfigError, UsageError
from hourly_hooks.history import Repository, open_repository, read_all
from hourly_hooks.money import parse_rate, parse_rounding
from hourly_hooks.timesheet import Rates, Selection, Timesheet, build

SELECTION_KEYS = ("since", "until", "period", "author", "ignore", "rate", "round", "round_mode",
                  "tz", "repo", "all_refs", "identity")


def selection_options(command):
    """Decorate a click command with the selection flags (see SELECTION_KEYS)."""
    flags = [
        click.option("--since", metavar="DATE", help="First day (inclusive): 2020-01-06, \"Jan 6, 2020\", ISO time."),
        click.option("--until", metavar="DATE", help="End (exclusive), same forms as --since."),
        click.option("--period", type=click.Choice(periods.PERIODS), help="A named period in --tz."),
        click.option("--author", multiple=True, metavar="PATTERN",
                     help="Like git log --author: a case-insensitive regex on 'Name <email>'. Repeatable."),
        click.option("--ignore", multiple=True, metavar="TEXT",
                     help="Drop sessions whose clock-in or clock-out message contains TEXT. Repeatable."),
        click.option("--rate", metavar="RATE", help="Hourly rate for everyone, e.g. \"100 USD\"."),
        click.option("--round", "round", metavar="INCREMENT",
                     help="Round each session to an increment, e.g. 6m or 15m."),
        click.option("--round-mode", type=click.Choice(["up", "nearest", "down"]),
                     help="Direction of --round (default up)."),
        click.option("--tz", metavar="ZONE", help="Time zone for display and periods (default: local)."),
        click.option("--repo", multiple=True, type=click.Path(file_okay=False), metavar="PATH",
                     help="Repository to read (default: the current one). Repeatable."),
        click.option("--all", "all_refs", is_flag=True, default=None, help="Read every local branch, not just HEAD."),
        click.option("--identity", type=click.Choice(["email", "name", "name+email"]),
                     help="What makes two commits the same person (default: email)."),
    ]
    return functools.reduce(lambda cmd, flag: flag(cmd), reversed(flags), command)


@dataclass(frozen=True)
class Loaded:
    timesheet: Timesheet
    config: config_module.Config
    repos: Tuple[Repository, ...]


def _usage(call, *args):
    try:
        return call(*args)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _config_value(call, value, key: str):
    try:
        return call(value)
    except ValueError as error:
        raise ConfigError(f"configuration '{key}': {error}") from None


def _rates(flag: Optional[str], cfg: config_module.Config) -> Rates:
    if flag:
        return Rates(default=_usage(parse_rate, flag))
    table = cfg.table("rates")
    default = table.get("default")
    by_identity = {key: _config_value(parse_rate, value, f"rates.{key}")
                   for key, value in table.items() if key != "default"}
    return Rates(default=_config_value(parse_rate, default, "rates.default") if default else None,
                 by_identity=by_identity)


def _list(value) -> Tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


def _window(params: dict, tz) -> tuple:
    if params.get("period") and (params.get("since") or params.get("until")):
        raise UsageError("--period cannot be combined with --since or --until")
    if params.get("period"):
        return periods.period(params["period"], tz)
    since = _usage(periods.parse_when, params["since"], tz) if params.get("since") else None
    until = _usage(periods.parse_when, params["until"], tz) if params.get("until") else None
    if since and until and until <= since:
        raise UsageError(f"--until ({params['until']}) must be after --since ({params['since']})")
    return since, until


def load_timesheet(params: dict, default_authors: Sequence[str] = ()) -> Loaded:
    """Read history as the flags and configuration say and build the timesheet."""
    repos = tuple(open_repository(path) for path in (params.get("repo") or (".",)))
    cfg = config_module.load(repos[0].top)
    tz_name = params.get("tz") or cfg.get("tz")
    tz = _usage(periods.zone, tz_name) if params.get("tz") else _config_value(periods.zone, tz_name, "tz")
    since, until = _window(params, tz)
    round_text = params.get("round") or cfg.get("round")
    rounding = None
    if round_text:
        parse = (lambda text: parse_rounding(text, params.get("round_mode") or cfg.get("round_mode")))
        rounding = _usage(parse, round_text) if params.get("round") else _config_value(parse, round_text, "round")
    all_refs = params.get("all_refs")
    all_refs = bool(cfg.get("all", False) if all_refs is None else all_refs)
    authors = tuple(params.get("author") or ()) or tuple(default_authors)
    selection = Selection(
        tz=tz,
        since=since,
        until=until,
        ignore=tuple(params.get("ignore") or ()) + _list(cfg.get("ignore")),
        exclude=_list(cfg.get("exclude")),
        rates=_rates(params.get("rate"), cfg),
        rounding=rounding,
        identity=params.get("identity") or cfg.get("identity", "email"),
    )
    return Loaded(build(selection, read_all(repos, all_refs, authors, since, selection.exclude)), cfg, repos)
