"""The selection flags shared by `hourly report` and `hourly invoice`.

``selection_options`` adds the flags to a click command; ``load_timesheet``
passes their values to the configuration resolver as its top layer and builds
the Timesheet from what it resolves.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import gc
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import click

from hourly_hooks import config as config_module, zones
from hourly_hooks.core import periods
from hourly_hooks.errors import UsageError
from hourly_hooks.history import Repository, check_author_patterns, open_repository, read_all, read_markers
from hourly_hooks.core.markers import parse_duration
from hourly_hooks.core.money import Rounding, parse_rate, parse_rounding
from hourly_hooks.core.timesheet import Rates, Selection, Timesheet, build, merged
from hourly_hooks.commands.progress import Progress


def selection_options(command):
    """Decorate a click command with the selection flags."""
    from hourly_hooks.completion import complete_author, complete_tz

    flags = [
        click.option("--since", metavar="DATE",
                     help="First day, from its start: 2020-01-06, \"Jan 6, 2020\"; "
                          "or a date-time (2020-01-06T09:30), from that instant."),
        click.option("--until", metavar="DATE",
                     help="Last day, to its end: --until 2026-11-30 includes November 30; "
                          "a date-time (2026-11-30T17:00) is the first instant left out."),
        click.option("--period", metavar="PERIOD", shell_complete=_complete_period,
                     help="A month (2026-11), quarter (2026-Q4), year (2026), or this-month, last-month, "
                          "this-quarter, last-quarter, today, yesterday, this-week, last-week, this-year, "
                          "last-year; in --tz. Not with --since/--until."),
        click.option("--author", multiple=True, metavar="PATTERN", shell_complete=complete_author,
                     help="Like git log --author: a case-insensitive regex on 'Name <email>'. Repeatable."),
        click.option("--ignore", multiple=True, metavar="TEXT",
                     help="Drop sessions whose clock-in or clock-out message contains TEXT. Repeatable."),
        click.option("--rate", metavar="RATE", help="Hourly rate for everyone, e.g. \"100 USD\"."),
        click.option("--round", "round", metavar="INCREMENT",
                     help="Round each session to an increment, e.g. 6m or 15m."),
        click.option("--round-mode", type=click.Choice(["up", "nearest", "down"]),
                     help="Direction of --round (default up)."),
        click.option("--tz", metavar="ZONE", shell_complete=complete_tz,
                     help="Time zone for display and periods (default: local)."),
        click.option("--repo", multiple=True, type=click.Path(file_okay=False), metavar="PATH",
                     help="Repository to read (default: the current one). Repeatable: each is billed by its own "
                          "configuration, with a subtotal each."),
        click.option("--all", "all_refs", is_flag=True, default=None, help="Read every local branch, not just HEAD."),
        click.option("--identity", type=click.Choice(["email", "name", "name+email"]),
                     help="What makes two commits the same person (default: email)."),
    ]
    return functools.reduce(lambda cmd, flag: flag(cmd), reversed(flags), command)


def _complete_period(ctx, param, incomplete: str) -> list:
    return [word for word in periods.PERIODS if word.startswith(incomplete.lower())]


@dataclass(frozen=True)
class Loaded:
    timesheet: Timesheet
    config: config_module.Config
    repos: Tuple[Repository, ...]


def selection_flags(params: dict) -> dict:
    """The selection flags that are configuration keys, as the resolver's flag layer."""
    return {"tz": params.get("tz"), "rates.default": params.get("rate"), "round": params.get("round"),
            "round_mode": params.get("round_mode"), "identity": params.get("identity"),
            "all": params.get("all_refs")}


def rates_of(cfg: config_module.Config) -> Rates:
    known = cfg.get("currencies") or ()

    def rate(text):
        return parse_rate(text, known) if text else None
    default = cfg.parsed("rates.default", rate)
    setting = cfg.setting("rates.default")
    if setting is not None and setting.layer.kind == "flag":
        return Rates(default=default)  # --rate is one rate for everyone
    by_identity = {key: cfg.parsed(f"rates.{key}", rate) for key in cfg.table("rates") if key != "default"}
    return Rates(default=default, by_identity=by_identity)


def _rounding(cfg: config_module.Config) -> Optional[Rounding]:
    setting = cfg.setting("round_mode")
    # The default mode must not override a mode written in `round` ("15m nearest").
    mode = None if setting is None or setting.layer.kind == "default" else setting.value
    return cfg.parsed("round", lambda text: parse_rounding(text, mode) if text else None)


def _window(params: dict, tz) -> tuple:
    """[since, until) as instants: a day given alone counts whole (see periods.parse_bound)."""
    if params.get("period") is not None and (params.get("since") is not None or params.get("until") is not None):
        given = "--since" if params.get("since") is not None else "--until"
        raise UsageError(f"--period cannot be combined with {given}: give either --period "
                         f"or --since/--until (e.g. --period 2026-11, or --since 2026-11-01 --until 2026-11-30)")
    if params.get("period") is not None:
        try:
            return periods.period(params["period"], tz)
        except ValueError as error:
            raise UsageError(f"--period: {error}") from None
    since, until = _when(params, "since", tz), _when(params, "until", tz)
    if since and until and until <= since:
        raise UsageError(f"--until ({params['until']}) must be after --since ({params['since']})")
    return since, until


def _when(params: dict, name: str, tz):
    """--since / --until as a moment; None when not given, and an empty value refused, not ignored."""
    text = params.get(name)
    if text is None:
        return None
    if not text.strip():
        raise UsageError(f"--{name} '': an empty date: give one (like 2026-01-06), or leave --{name} out")
    try:
        return periods.parse_bound(text, tz, end=name == "until")
    except ValueError as error:
        raise UsageError(f"--{name}: {error}") from None


@contextmanager
def bulk():
    """Python's cycle collector paused while a report makes its objects.

    A report makes a few objects per marker (hundreds of thousands on a big
    history) and keeps them all: each collection would walk every one made so
    far, again and again, and none of them forms a cycle to collect. Once
    done, freeze() and unfreeze() move them all to the oldest generation (as
    the gc module documents them), so that resuming does not walk them all at
    the next allocation either. Nested uses resume it once, at the outermost.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def left_at_exit() -> None:
    """What a report made is left to the operating system when the process ends.

    At exit, Python walks every object still tracked, to collect cycles, and
    frees them: after a report on a big history, hundreds of thousands (the
    records hold their message reader, which holds them), about 0.2 s at a
    million commits, for memory the process is about to give back whole.
    Frozen at exit (atexit handlers run before that collection), they are
    skipped. Nothing in a report needs a finalizer of a cycle to run: files
    it writes are closed when written, and the store commits as it goes.
    Called in a process with more to do (tests), it changes nothing until exit.
    """
    if not _FREEZE_AT_EXIT:
        _FREEZE_AT_EXIT.append(atexit.register(gc.freeze))


_FREEZE_AT_EXIT: list = []


def open_repos(params: dict) -> Tuple[Repository, ...]:
    """The repositories of --repo (default: the current one), each probed once and read
    once however often it is named, each under a name of its own."""
    repos = tuple(dict.fromkeys(open_repository(path) for path in (params.get("repo") or (".",))))
    _tell_apart(repos)
    return repos


def _tell_apart(repos: Sequence[Repository]) -> None:
    """Name repositories with one folder name (~/acme/app, ~/globex/app) by as much of their
    path as tells them apart (acme/app, globex/app): a report keeps sessions, subtotals and
    each repository's rules by name."""
    alike: Dict[str, List[Repository]] = {}
    for repo in repos:
        alike.setdefault(repo.name, []).append(repo)
    for group in (group for group in alike.values() if len(group) > 1):
        paths = [Path(repo.top_dir).parts for repo in group]
        for depth in range(2, max(map(len, paths)) + 1):
            labels = ["/".join(parts[-depth:]) for parts in paths]
            if len(set(labels)) == len(labels):
                break
        for repo, label in zip(group, labels):
            repo.label = label


def load_timesheet(params: dict, default_authors: Sequence[str] = (),
                   repos: Optional[Tuple[Repository, ...]] = None) -> Loaded:
    """Read history as the flags and configuration say and build the timesheet.

    With several --repo, each repository's sessions are billed by its own
    configuration (rate, rounding, max_session, ignore, exclude, identity),
    the flags over each; the zone, and so the period, are the first one's.
    """
    repos = repos or open_repos(params)  # repos: already probed by the caller
    cfg = config_module.load(repos[0].top, flags=selection_flags(params))
    tz = cfg.parsed("tz", zones.zone)
    since, until = _window(params, tz)
    if any(not word.strip() for word in params.get("ignore") or ()):
        raise UsageError("--ignore '': an empty word would drop every session: give a word, or leave --ignore out")
    authors = tuple(params.get("author") or ()) or tuple(default_authors)
    if params.get("author"):
        check_author_patterns(repos[0], authors)
    selection = _selection(cfg, params, tz, since, until)
    if len(repos) > 1:
        return Loaded(_several(repos, cfg, selection, params, authors), cfg, repos)
    sheet = _built(selection, read_all, repos, bool(cfg.get("all")), authors, since, selection.exclude, until=until)
    sheet.warnings += _rate_key_warnings(sheet, cfg, repos[0], authors)
    return Loaded(sheet, cfg, repos)


def _built(selection: Selection, read, *args, until=None) -> Timesheet:
    """build(selection, read(*args, progress, until)): the markers read with the line a long first
    read shows on a terminal, and the cycle collector paused (bulk)."""
    progress = Progress()
    try:
        with bulk():
            return build(selection, read(*args, progress=progress, until=until))
    finally:
        progress.done()


def _selection(cfg: config_module.Config, params: dict, tz, since, until) -> Selection:
    """What one configuration (and the flags in it) selects and how it bills."""
    return Selection(
        tz=tz,
        since=since,
        until=until,
        # --ignore adds to the configured words rather than replacing them.
        ignore=tuple(params.get("ignore") or ()) + tuple(cfg.get("ignore", ())),
        exclude=tuple(cfg.get("exclude", ())),
        rates=rates_of(cfg),
        rounding=_rounding(cfg),
        identity=cfg.get("identity", "email"),
        max_session=cfg.parsed("max_session", parse_duration),
        allow_long=tuple(cfg.get("allow_long", ())),
    )


def _rate_key_warnings(sheet: Timesheet, cfg: config_module.Config, repo: Repository, authors) -> list:
    if not sheet.selection.rates.by_identity:
        return []
    from hourly_hooks import rate_keys

    whole = sheet.selection.since is None and not authors  # every marker of everyone was read
    return rate_keys.warnings(sheet, cfg, repo.top, whole)


def _several(repos: Tuple[Repository, ...], cfg: config_module.Config, first: Selection,
             params: dict, authors) -> Timesheet:
    """One timesheet of several repositories, each billed by its own configuration."""
    parts = []
    for index, repo in enumerate(repos):
        own = cfg if index == 0 else config_module.load(repo.top, flags=selection_flags(params))
        selection = first if index == 0 else _selection(own, params, first.tz, first.since, first.until)
        part = _built(selection, read_markers, repo, bool(own.get("all")), authors, first.since, selection.exclude,
                      until=first.until)
        part.warnings += _rate_key_warnings(part, own, repo, authors)
        parts.append((repo.name, part))
    roundings = {str(part.selection.rounding) for _, part in parts}
    ignore = tuple(dict.fromkeys(word for _, part in parts for word in part.selection.ignore))
    # The whole's own rounding is said only when every repository has it (each is shown beside its subtotal).
    whole = dataclasses.replace(first, ignore=ignore, rounding=first.rounding if len(roundings) == 1 else None)
    with bulk():
        return merged(whole, parts)
