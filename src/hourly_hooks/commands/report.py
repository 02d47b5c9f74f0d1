"""`hourly report` and `hourly demo`."""

from __future__ import annotations

import click

from hourly_hooks.commands.options import load_timesheet, selection_options
from hourly_hooks.errors import Rejected
from hourly_hooks.history import shallow_warning
from hourly_hooks.render import FORMATS, GROUPINGS, RENDERERS, anomaly_lines


LEDGER_FILE = ("hourly", "invoices.jsonl")  # btcpay.ledger.LEDGER, without importing it


def billed_sessions(repos) -> dict:
    """clock-in SHA -> invoice id, from each repository's invoice ledger."""
    with_ledger = [repo for repo in repos if repo.git_dir.joinpath(*LEDGER_FILE).exists()]
    if not with_ledger:
        return {}  # the common case: no invoice yet, and no need to load the BTCPay code
    from hourly_hooks.btcpay.ledger import billed_commits

    billed: dict = {}
    for repo in with_ledger:
        billed.update(billed_commits(repo.git_dir))
    return billed


@click.command()
@selection_options
@click.option("--by", type=click.Choice(GROUPINGS), default="session", show_default=True,
              help="One row per session, or totals per period, author or repository.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE instead of stdout.")
@click.option("--strict", is_flag=True, help="Exit 1 when there are anomalies (for CI).")
def report(by: str, fmt: str, output: str, strict: bool, **params) -> None:
    """Print the timesheet for a period.

    \b
    Examples:
      hourly report --period last-month --rate "100 USD"
      hourly report --since 2020-01-01 --until 2020-01-06 --tz America/New_York
      hourly report --all --by week --format csv -o week.csv
    """
    loaded = load_timesheet(params)
    sheet = loaded.timesheet
    cut = [warning for warning in map(shallow_warning, loaded.repos) if warning]
    for warning in cut:
        click.echo(f"Warning: {warning}", err=True)
    text = RENDERERS[fmt](sheet, by, billed_sessions(loaded.repos))
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        click.echo(f"Wrote {len(sheet.lines)} session(s) to {output}", err=True)
    else:
        click.echo(text, nl=False)
    _explain(sheet)
    if strict and sheet.anomalies:
        raise Rejected(f"{len(sheet.anomalies)} anomalies in the period (see above)")
    if strict and cut:
        raise Rejected("the history is cut (shallow clone); see the warning above")


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
