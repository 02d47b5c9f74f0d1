"""`hourly report` and `hourly demo`."""

from __future__ import annotations

import errno
import os
import sys

import click

from hourly_hooks import report_extras as extras
from hourly_hooks.chart import for_terminal
from hourly_hooks.commands.options import load_timesheet, selection_options
from hourly_hooks.errors import OutputError, Rejected
from hourly_hooks.history import shallow_warning
from hourly_hooks.render import FORMATS, GROUPINGS, RENDERERS, anomaly_lines


LEDGER_FILE = ("hourly", "invoices.jsonl")  # btcpay.ledger.LEDGER, without importing it


def billed_sessions(repos, sheet=None) -> dict:
    """clock-in SHA -> invoice id for the sessions of `sheet` whose time an invoice holds.

    By time, from each repository's invoice ledger (no network call): a
    session rebased or amended since it was billed is still billed.
    """
    with_ledger = [repo for repo in repos if repo.git_dir.joinpath(*LEDGER_FILE).exists()]
    if not with_ledger or sheet is None:
        return {}  # the common case: no invoice yet, and no need to load the BTCPay code
    from hourly_hooks.btcpay.billing import Holder, split
    from hourly_hooks.btcpay.ledger import held_time

    holders = [Holder(ref, "held", time, frozenset(shas) if not time else frozenset())
               for repo in with_ledger for ref, time, shas in held_time(repo.git_dir)]
    parts = split(sheet.lines, holders)
    return {line.session.clock_in.sha: holder.ref for line, holder in parts.covered + parts.waiting}


@click.command()
@selection_options
@click.option("--by", type=click.Choice(GROUPINGS), default="session", show_default=True,
              help="One row per session, or totals per period, author or repository.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write to FILE instead of stdout (- is stdout).")
@click.option("--strict", is_flag=True, help="Exit 1 when there are anomalies (for CI).")
@click.option("--worklog", is_flag=True, help="List the commits made during each session (html always does).")
@click.option("--chart", is_flag=True, help="After the table, a bar chart of hours per day (or per --by group).")
def report(by: str, fmt: str, output: str, strict: bool, worklog: bool, chart: bool, **params) -> None:
    """Print the timesheet for a period.

    \b
    Examples:
      hourly report --period last-month --rate "100 USD"
      hourly report --since 2020-01-01 --until 2020-01-06 --tz America/New_York
      hourly report --all --by week --format csv -o week.csv
    """
    extras.check_flags(fmt, output, worklog, chart)
    loaded = load_timesheet(params)
    sheet = loaded.timesheet
    cut = [warning for warning in map(shallow_warning, loaded.repos) if warning]
    for warning in cut:
        click.echo(f"Warning: {warning}", err=True)
    log = extras.read_worklog(loaded, params) if extras.wants_worklog(fmt, worklog) else None
    text = extras.render(fmt, sheet, by, billed_sessions(loaded.repos, sheet), log)
    if output and output != "-":
        write_file(output, text)
        click.echo(f"Wrote {len(sheet.lines)} session(s) to {output}", err=True)
        if fmt == "timeclock" and not output.endswith(".timeclock"):
            click.echo(f"Warning: hledger reads {output} as a journal, not timeclock: name it *.timeclock, "
                       f"or read it with hledger -f timeclock:{output}", err=True)
    else:
        write_stdout(text)
    if chart:
        write_stdout("\n" + for_terminal(sheet, by))
    _explain(sheet)
    if strict and sheet.anomalies:
        raise Rejected(f"{len(sheet.anomalies)} anomalies in the period (see above)")
    if strict and cut:
        raise Rejected("the history is cut (shallow clone); see the warning above")


def write_file(path: str, text: str) -> None:
    """Write text to path; OutputError, in one line, when it cannot be written."""
    try:
        handle = open(path, "w", encoding="utf-8", newline="")
    except OSError as error:  # a missing folder, no permission: the file is as it was
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with handle:
            handle.write(text)
    except OSError as error:
        if os.path.isfile(path):  # a truncated report must not pass for a whole one
            try:
                os.unlink(path)
            except OSError:
                pass
        raise OutputError(f"cannot write {path}: {error.strerror or error}") from None


def write_stdout(text: str) -> None:
    """Print text; OutputError when stdout cannot take it (stdout is /dev/full), and a
    quiet exit when the reader of the pipe has gone (`hourly report | head`)."""
    try:
        click.echo(text, nl=False)
    except OSError as error:
        _silence_stdout()
        if error.errno == errno.EPIPE:
            raise click.exceptions.Exit(OutputError.exit_code) from None
        raise OutputError(f"cannot write the report to stdout: {error.strerror or error}") from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null: what stays in its buffer would fail again, with a
    traceback, when Python flushes it at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's capture)
        pass


def _explain(sheet, err: bool = True) -> None:
    """What was left out and why, on stderr so redirected output stays clean."""
    if sheet.ignored:
        words = ", ".join(repr(text) for text in sheet.selection.ignore)
        click.echo(f"Ignored {len(sheet.ignored)} session(s) matching {words}.", err=err)
    for line in anomaly_lines(sheet):
        click.echo(line, err=err)


@click.command()
@click.option("--keep", is_flag=True, help="Keep the demo repository and print its path.")
def demo(keep: bool) -> None:
    """Build a throwaway repository with a realistic week and report on it."""
    from hourly_hooks.demo import demo_repository

    with demo_repository(keep=keep) as path:
        click.echo(f"Demo repository: {path}\n")
        click.echo("$ hourly report --all --tz America/New_York\n")
        loaded = load_timesheet({"repo": (str(path),), "all_refs": True, "tz": "America/New_York"})
        click.echo(RENDERERS["table"](loaded.timesheet, "session", {}), nl=False)
        click.echo()
        _explain(loaded.timesheet, err=False)
        click.echo("\n$ hourly report --all --tz America/New_York --by author\n")
        click.echo(RENDERERS["table"](loaded.timesheet, "author", {}), nl=False)
        if keep:
            click.echo(f"\nKept {path}; try: cd {path} && hourly report --format json")
    if not keep:
        click.echo(f"\nRemoved the demo repository {path}; run `hourly demo --keep` to keep it and play with it.")
