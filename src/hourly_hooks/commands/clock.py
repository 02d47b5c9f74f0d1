"""`hourly in`, `hourly out`, `hourly status`, `hourly install-hook`, `hourly uninstall-hook`:
the flags, one call each (clocking.record, status.status_report, hooks/install.py), and the printing."""

from __future__ import annotations

import json
import os
import sys

import click

from hourly_hooks import clocking
from hourly_hooks.core import markers
from hourly_hooks.hooks import install as hookinstall
from hourly_hooks.commands.jsonflag import output_format
from hourly_hooks.completion import complete_tz
from hourly_hooks.errors import GitError, UsageError
from hourly_hooks.status import status_lines, status_report


def _echo(lines) -> None:
    for line in lines:
        click.echo(line)


@click.command("in")
@click.option("-m", "--message", "note", default="", metavar="NOTE", help="A note kept in the marker.")
@click.option("--ago", metavar="DURATION", help="Clocked in this long ago, e.g. 15m or 1h30m.")
@click.option("--at", "at", metavar="TIME", help="Clocked in at this time: 09:30, 9:30pm, 'yesterday 17:30', an ISO date-time.")
def clock_in(note: str, ago: str, at: str) -> None:
    """Clock in: commit `clock-in[: T-<offset>] [NOTE]` (staged changes included).

    \b
    Examples:
      hourly in
      hourly in --ago 15m -m "parser work"
      hourly in --at 09:30
    """
    _echo(clocking.record(markers.IN, note, ago, at))


@click.command("out")
@click.option("-m", "--message", "note", default="", metavar="NOTE", help="A note kept in the marker.")
@click.option("--ago", metavar="DURATION", help="Clocked out this long ago, e.g. 10m.")
@click.option("--at", "at", metavar="TIME", help="Clocked out at this time: 17:30, 5:30pm, 'yesterday 17:30', an ISO date-time.")
def clock_out(note: str, ago: str, at: str) -> None:
    """Clock out: commit `clock-out[: T-<offset>] [NOTE]` (staged changes included).

    \b
    Examples:
      hourly out
      hourly out --ago 10m -m "fixed the parser"
    """
    _echo(clocking.record(markers.OUT, note, ago, at))


@click.command("install-hook")
@click.option("--force", is_flag=True, help="Replace existing foreign hooks instead of chaining them.")
@click.option("--print", "print_hook", is_flag=False, flag_value=hookinstall.HOOK, default=None,
              type=click.Choice(list(hookinstall.HOOKS)),
              help="Print the commit-msg hook script (or --print=pre-commit / prepare-commit-msg), filled in for this Python, "
                   "for a manual install; changes nothing.")
@click.option("--portable", is_flag=True,
              help="With --print: the script as the project's hooks/ folder holds it, which finds hourly on PATH "
                   "(or python3) instead of naming this Python.")
def install_hook(force: bool, print_hook, portable: bool) -> None:
    """Install the plain git hooks (for repositories without pre-commit).

    Three hooks: commit-msg checks clock markers (hourly-clock),
    prepare-commit-msg notes whether git is amending (hourly-clock-source),
    pre-commit refuses private keys and BTCPay secrets (hourly-protect-keys). They go
    where `git rev-parse --git-path hooks` points (core.hooksPath and
    worktrees are honoured). An existing hook keeps working: it is moved to
    <hook>.pre-hourly and run first. Running it again is harmless.

    \b
    Examples:
      hourly install-hook
      hourly install-hook --print > .git/hooks/commit-msg
      hourly install-hook --print=pre-commit --portable > hooks/pre-commit
    """
    if portable and not print_hook:
        raise UsageError("--portable goes with --print (it changes which script is printed, and installs nothing).")
    if print_hook:
        python, package = ("", "") if portable else (sys.executable, None)
        click.echo(hookinstall.render(python, package, hook=print_hook), nl=False)
        return
    click.echo(hookinstall.install(force=force))
    _warm_cache()


def _warm_cache() -> None:
    # The first look-up reads the whole history once (seconds on a huge
    # repository); do it now rather than in the user's first commit.
    from hourly_hooks import history, store
    from hourly_hooks.git.repository import Repository
    try:
        repo = Repository()
        if repo.head and store.enabled() and not os.path.exists(store.store_path(repo)):
            click.echo("Reading the history once into the marker store...", err=True)
            history.last_marker(repo, "")
    except GitError:
        pass


@click.command("uninstall-hook")
def uninstall_hook() -> None:
    """Remove the hooks that `hourly install-hook` installed (and nothing else)."""
    click.echo(hookinstall.uninstall())


@click.command("status")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default=None,
              help="Output format [default: text].")
@click.option("--json", "as_json", is_flag=True, help="Short for --format json.")
@click.option("--tz", metavar="ZONE", shell_complete=complete_tz,
              help="Time zone for today / this week (default: config, else local).")
def status(fmt, as_json: bool, tz) -> None:
    """Clocked in or out and since when; today's and this week's totals; the budget; recent anomalies.

    \b
    Examples:
      hourly status
      hourly status --json
    """
    from hourly_hooks.commands.options import load_timesheet  # the report's machinery: only for status

    as_json = output_format(fmt, as_json, "text") == "json"
    report = status_report(tz, load_timesheet)
    click.echo(json.dumps(report, indent=2) if as_json else "\n".join(status_lines(report)))


